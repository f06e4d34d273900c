/**
 * The API runs as compiled JavaScript: NestJS needs TypeScript's decorator metadata, which tsx
 * (esbuild) does not emit. This compiles apps/api/src with SWC (the compiler the jest tiers
 * use, with the same decorator settings) into apps/api/.build/<hash of the sources>/, once per
 * source state: concurrent callers (parallel test files) share the result, and a stale build is
 * never used. The workspace libraries it imports stay TypeScript, run through tsx with the
 * `@vdi/source` condition, as everywhere else in development.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { transformFileSync, type Options } from '@swc/core';
import { repoRoot } from './paths.js';

const apiSrc = path.join(repoRoot, 'apps/api/src');
const buildRoot = path.join(repoRoot, 'apps/api/.build');

const swcOptions: Options = {
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true },
    target: 'es2022',
    keepClassNames: true,
  },
  module: { type: 'es6' },
  sourceMaps: 'inline',
};

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = path.join(dir, d.name);
    if (d.isDirectory()) return sources(p);
    return d.name.endsWith('.ts') && !d.name.endsWith('.spec.ts') ? [p] : [];
  });
}

/** Compiles the API if its sources changed; returns the path of its main.js. */
export function ensureApiBuild(): string {
  const files = sources(apiSrc).sort();
  const hash = createHash('sha256');
  hash.update(JSON.stringify(swcOptions));
  for (const f of files) hash.update(f).update(readFileSync(f));
  const id = hash.digest('hex').slice(0, 16);
  const out = path.join(buildRoot, id);
  const main = path.join(out, 'main.js');
  if (existsSync(main)) return main;
  const tmp = `${out}.tmp-${process.pid}-${Date.now()}`;
  for (const f of files) {
    const rel = path.relative(apiSrc, f).replace(/\.ts$/, '.js');
    const { code } = transformFileSync(f, swcOptions);
    mkdirSync(path.dirname(path.join(tmp, rel)), { recursive: true });
    writeFileSync(path.join(tmp, rel), code);
  }
  // Node resolves the API's packages from apps/api/node_modules upwards, as for the sources.
  writeFileSync(path.join(tmp, 'package.json'), '{ "type": "module" }\n');
  try {
    renameSync(tmp, out);
  } catch {
    rmSync(tmp, { recursive: true, force: true }); // another process finished first
  }
  // Older builds are of no use.
  for (const d of readdirSync(buildRoot)) {
    if (d !== id && !d.includes('.tmp-')) rmSync(path.join(buildRoot, d), { recursive: true, force: true });
  }
  return main;
}
