/**
 * The operator as the benchmark runs it: the bundle its image runs (tools/bundle: apps/operator,
 * the workspace libraries and its npm packages in one file), built by the same code. Run through
 * tsx instead, the same operator starts with ~100 MB more RSS and ~2 s more CPU (the TypeScript
 * loader and its caches), which would swamp the memory target. The request probe is bundled here
 * with its npm packages left external.
 *
 * esbuild's bundle starts every module with a `// <path>` comment line; profile.ts uses those to
 * attribute CPU samples in the bundle to the source files.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import * as esbuild from 'esbuild';
import { bundleNodeService, operatorBundleOptions } from '@vdi/bundle';

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

/** Bundles the operator and the request probe into cacheDir (a few seconds). */
export async function buildAll(): Promise<Builds> {
  return {
    operator: (await bundleNodeService(operatorBundleOptions(repoRoot, path.join(cacheDir, 'operator.mjs'))))
      .outfile,
    probe: await bundle('bench/src/probe.ts', path.join(cacheDir, 'probe.mjs')),
  };
}
