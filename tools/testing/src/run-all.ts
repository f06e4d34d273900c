/**
 * `npm test`: the whole test suite in one command.
 *   1. static checks of every project through Nx: lint, typecheck, build;
 *   2. jest over every project's unit and integration tiers (integration tiers start the local
 *      control plane when it is not running, and reuse it when it is);
 *   3. the closing line `tests: N passed, N failed, N skipped`.
 * (Step 1 also checks formatting with prettier.)
 * Options: --tier unit|integration|all (default all), --no-static (skip step 1), and any
 * further arguments go to jest (e.g. a test path pattern).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isGreen, summaryLine, totals, type JestJson } from './summary.js';

const root = path.resolve(import.meta.dirname, '..', '..', '..');
const started = Date.now();
const args = process.argv.slice(2);
let tier = 'all';
let runStatic = true;
const jestArgs: string[] = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--tier') tier = args[++i] ?? 'all';
  else if (args[i] === '--no-static') runStatic = false;
  else jestArgs.push(args[i]!);
}
if (!['unit', 'integration', 'all'].includes(tier)) {
  process.stderr.write(`--tier ${tier}: use unit, integration or all\n`);
  process.exit(2);
}

const env = {
  ...process.env,
  NX_DAEMON: 'false',
  NX_NO_CLOUD: 'true',
  NX_TUI: 'false',
  NEXT_TELEMETRY_DISABLED: '1',
};
const bin = (name: string) => path.join(root, 'node_modules', '.bin', name);
const step = (title: string) => process.stdout.write(`\n=== ${title}\n`);

if (runStatic) {
  step('static checks: formatting (prettier)');
  const fmt = spawnSync(bin('prettier'), ['--check', '--log-level=warn', '.'], {
    cwd: root,
    env,
    stdio: 'inherit',
  });
  if (fmt.status !== 0) {
    process.stdout.write(
      '\nformatting differs (run `npm run format`); no tests were run\ntests: 0 passed, 1 failed, 0 skipped\n',
    );
    process.exit(1);
  }
  step('static checks: lint, typecheck, build (nx)');
  const r = spawnSync(bin('nx'), ['run-many', '-t', 'lint', 'typecheck', 'build', '--outputStyle=static'], {
    cwd: root,
    env,
    stdio: 'inherit',
  });
  if (r.status !== 0) {
    process.stdout.write(
      '\nstatic checks failed (see above); no tests were run\ntests: 0 passed, 1 failed, 0 skipped\n',
    );
    process.exit(1);
  }
}

const selected =
  tier === 'all' ? [] : ['--selectProjects', ...projectNames().filter((n) => n.endsWith(`:${tier}`))];
const outFile = path.join(mkdtempSync(path.join(os.tmpdir(), 'vdi-test-')), 'jest.json');
step(`jest: ${tier === 'all' ? 'unit and integration tiers' : `${tier} tier`}`);
const jest = spawnSync(
  process.execPath,
  [
    '--experimental-vm-modules',
    '--no-warnings=ExperimentalWarning',
    path.join(root, 'node_modules', 'jest', 'bin', 'jest.js'),
    '-c',
    path.join(root, 'jest.config.js'),
    '--maxWorkers=2',
    '--json',
    `--outputFile=${outFile}`,
    ...selected,
    ...jestArgs,
  ],
  { cwd: root, env, stdio: 'inherit' },
);

let result: JestJson | undefined;
try {
  result = JSON.parse(readFileSync(outFile, 'utf8')) as JestJson;
} catch {
  result = undefined;
}
const t = result ? totals([result]) : { passed: 0, failed: 1, skipped: 0 };
if (!result) process.stdout.write(`jest exited with ${jest.status} before writing results\n`);
process.stdout.write(
  `\nnpm test took ${Math.round((Date.now() - started) / 1000)}s (after prerequisites)\n${summaryLine(t)}\n`,
);
process.exit(isGreen(t) && jest.status === 0 ? 0 : 1);

function projectNames(): string[] {
  const r = spawnSync(
    process.execPath,
    [
      '--experimental-vm-modules',
      '--no-warnings',
      '-e',
      `import(${JSON.stringify(path.join(root, 'jest.config.js'))}).then(m => console.log(JSON.stringify(m.default.projects.map(p => p.displayName))))`,
    ],
    { cwd: root, encoding: 'utf8' },
  );
  return JSON.parse(r.stdout) as string[];
}
