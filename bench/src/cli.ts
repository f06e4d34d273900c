/**
 * `npm run bench [-- options]`: runs the benchmark from cold on a local control plane and writes
 * bench/results/<name>.{json,md,svg}. See bench/README.md and `--help`.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as prettier from 'prettier';
import { repoRoot } from './build.js';
import { problemCount } from './invariants.js';
import { parseOptions, USAGE, UsageError } from './options.js';
import { evaluateTargets, NOT_MEASURED, renderMarkdown, renderSvg, type BenchReport } from './report.js';
import { platformVersion, runBench } from './run.js';

const log = (msg: string) =>
  process.stderr.write(`[bench] ${new Date().toISOString().slice(11, 19)} ${msg}\n`);

/** Writes a report file as the repository's prettier settings format it, so a committed one passes `npm test`. */
async function writeFormatted(file: string, text: string): Promise<void> {
  const config = (await prettier.resolveConfig(file)) ?? {};
  writeFileSync(file, await prettier.format(text, { ...config, filepath: file }));
}

/** Each target, met / NOT met / not measured, with its value and the run's facts next to it. */
function logTargets(report: BenchReport): void {
  for (const t of evaluateTargets(report)) {
    const verdict =
      t.met === undefined
        ? t.value === NOT_MEASURED
          ? 'not measured'
          : 'no verdict'
        : t.met
          ? 'met'
          : 'NOT met';
    log(`target ${verdict}: ${t.target}: ${t.value}${t.facts ? ` (${t.facts})` : ''}`);
  }
}

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  // --render FILE.json: write the Markdown and the chart again from a report's data.
  const render = argv.indexOf('--render');
  if (render >= 0) {
    const file = argv[render + 1];
    if (!file) throw new UsageError('--render needs a report .json');
    const report = JSON.parse(readFileSync(file, 'utf8')) as BenchReport;
    const base = file.replace(/\.json$/, '');
    await writeFormatted(`${base}.md`, renderMarkdown(report));
    writeFileSync(`${base}.svg`, renderSvg(report));
    logTargets(report);
    log(`rendered ${base}.md and ${base}.svg`);
    return 0;
  }
  let options;
  try {
    options = parseOptions(argv, path.join(repoRoot, 'bench', 'results'));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`${err.message}\n\n${USAGE}\n`);
    return 2;
  }
  const day = new Date().toISOString().slice(0, 10);
  let name = options.reference ? `reference-${platformVersion()}` : (options.name ?? day);
  if (!options.reference && !options.name && existsSync(path.join(options.outDir, `${name}.json`)))
    name = `${day}-${new Date().toISOString().slice(11, 16).replace(':', '')}`;
  const command = `npm run bench${argv.length ? ` -- ${argv.join(' ')}` : ''}`;
  const report = await runBench(options, name, command, log);

  mkdirSync(options.outDir, { recursive: true });
  const base = path.join(options.outDir, name);
  await writeFormatted(`${base}.json`, JSON.stringify(report, null, 2));
  await writeFormatted(`${base}.md`, renderMarkdown(report));
  writeFileSync(`${base}.svg`, renderSvg(report));
  logTargets(report);
  log(`report: ${base}.md (+ .json, .svg) after ${Math.round(report.durationMs / 1000)} s`);
  const chaosBroken = report.chaos && (!report.chaos.converged || problemCount(report.chaos.invariants) > 0);
  return report.failures.length > 0 || chaosBroken ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`[bench] ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
