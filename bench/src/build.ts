/**
 * The operator as the benchmark runs it: one plain-JS bundle of apps/operator and the workspace
 * libraries (compiled from their TypeScript sources through the `@vdi/source` condition), with
 * npm packages left external. That is what the process is in production (compiled JS, no
 * loader): run through tsx instead, the same operator starts with ~100 MB more RSS and ~2 s more
 * CPU (the TypeScript loader and its caches), which would swamp the memory target.
 *
 * esbuild's bundle starts every module with a `// <path>` comment line; profile.ts uses those to
 * attribute CPU samples in the bundle to the source files.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import * as esbuild from 'esbuild';

export const repoRoot = path.resolve(import.meta.dirname, '..', '..');
/**
 * Build output and profiles: under the repository's node_modules, so that the bundle's npm
 * packages resolve from there, and out of the way of lint, formatting and git.
 */
export const cacheDir = path.join(repoRoot, 'node_modules', '.cache', 'vdi-bench');

const externalPackages: esbuild.Plugin = {
  name: 'external-npm-packages',
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, (args) =>
      args.path.startsWith('@vdi/') ? undefined : { path: args.path, external: true },
    );
  },
};

async function bundle(entry: string, outfile: string): Promise<string> {
  mkdirSync(path.dirname(outfile), { recursive: true });
  await esbuild.build({
    entryPoints: [path.join(repoRoot, entry)],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    conditions: ['@vdi/source'],
    plugins: [externalPackages],
    logLevel: 'warning',
    absWorkingDir: repoRoot,
  });
  return outfile;
}

export interface Builds {
  operator: string;
  probe: string;
}

/** Bundles the operator and the request probe into cacheDir (a second or two). */
export async function buildAll(): Promise<Builds> {
  return {
    operator: await bundle('apps/operator/src/main.ts', path.join(cacheDir, 'operator.mjs')),
    probe: await bundle('bench/src/probe.ts', path.join(cacheDir, 'probe.mjs')),
  };
}
