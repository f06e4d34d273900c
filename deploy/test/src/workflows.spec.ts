/**
 * The release workflow's supply chain, read from the files themselves: every action pinned to a
 * commit, every Dockerfile of the repository built (each of its release targets), and every base
 * image named through an `ARG *_IMAGE=` so the workflow can resolve it to a digest before building.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';
import { repoRoot } from './tools.js';

interface Step {
  uses?: string;
  run?: string;
  with?: Record<string, string>;
}
interface Job {
  steps: Step[];
  strategy?: { matrix?: { include?: Record<string, string>[] } };
}
interface Workflow {
  jobs: Record<string, Job>;
}

const workflowDir = path.join(repoRoot, '.github', 'workflows');
const workflowFiles = readdirSync(workflowDir).filter((f) => /\.ya?ml$/.test(f));
const read = (f: string) => readFileSync(path.join(workflowDir, f), 'utf8');
const release = parse(read('release.yml')) as Workflow;

/** Every Dockerfile of the repository (apps/* and images/*). */
function dockerfiles(): string[] {
  return ['apps', 'images'].flatMap((top) =>
    existsSync(path.join(repoRoot, top))
      ? readdirSync(path.join(repoRoot, top))
          .map((d) => path.join(top, d, 'Dockerfile'))
          .filter((f) => existsSync(path.join(repoRoot, f)))
      : [],
  );
}

describe('release workflow', () => {
  it.each(workflowFiles)('%s pins every action to a commit and names its version', (file) => {
    const lines = read(file)
      .split('\n')
      .filter((l) => /^\s*(-\s+)?uses:/.test(l));
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) {
      expect(line).toMatch(/uses: [\w.-]+\/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$/);
    }
  });

  it('builds every Dockerfile, each desktop target, from its base images resolved to digests', () => {
    const job = release.jobs.images!;
    const include = job.strategy!.matrix!.include!;
    expect(include.map((i) => i.file).sort()).toEqual(expect.arrayContaining(dockerfiles().sort()));
    expect(new Set(include.map((i) => i.file))).toEqual(new Set(dockerfiles()));
    for (const entry of include) {
      const text = readFileSync(path.join(repoRoot, entry.file!), 'utf8');
      if (entry.target) expect(text).toMatch(new RegExp(`^FROM .* AS ${entry.target}$`, 'm'));
      // Base images only through ARG *_IMAGE, so the "Base images by digest" step covers them all.
      const args = [...text.matchAll(/^ARG ([A-Z_]+_IMAGE)=\S+$/gm)].map((m) => m[1]);
      for (const from of text.matchAll(/^FROM (\S+)/gm)) {
        const ref = from[1]!;
        const stage = /^[a-z][\w-]*$/.test(ref) && new RegExp(`^FROM .* AS ${ref}$`, 'm').test(text);
        expect([entry.file, ref, stage || args.some((a) => ref === `\${${a}}`)]).toEqual([
          entry.file,
          ref,
          true,
        ]);
      }
    }
    expect(include.filter((i) => i.file === 'images/desktop/Dockerfile').map((i) => i.target)).toEqual([
      'desktop',
      'desktop-gpu',
    ]);
    const steps = job.steps;
    const resolve = steps.findIndex((s) => s.run?.includes('imagetools inspect'));
    const build = steps.findIndex((s) => s.uses?.startsWith('docker/build-push-action@'));
    expect(resolve).toBeGreaterThanOrEqual(0);
    expect(build).toBeGreaterThan(resolve);
    expect(steps[build]!.with!['build-args']).toBe('${{ steps.bases.outputs.args }}');
  });
});
