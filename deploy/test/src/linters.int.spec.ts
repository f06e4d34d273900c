/**
 * hadolint on the three Dockerfiles and actionlint on the GitHub workflows: each runs the real
 * linter binary (fetched or built once into the cache, see tools.ts) and fails on any finding.
 * A known-bad input per linter proves the linter really runs and reports.
 * (Integration tier: the first run fetches the linters.)
 */
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { actionlint, hadolint, repoRoot, run, TOOL_VERSIONS } from './tools.js';

const DOCKERFILES = [
  'apps/operator/Dockerfile',
  'apps/api/Dockerfile',
  'apps/web/Dockerfile',
  'images/desktop/Dockerfile',
];
const workflows = () =>
  readdirSync(path.join(repoRoot, '.github', 'workflows'))
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => path.join('.github', 'workflows', f));

describe('hadolint', () => {
  it(`is version ${TOOL_VERSIONS.hadolint}`, () => {
    expect(run(hadolint(), ['--version']).stdout).toContain(TOOL_VERSIONS.hadolint);
  }, 600_000);

  it.each(DOCKERFILES)('finds nothing in %s', (file) => {
    const r = run(hadolint(), ['--no-color', '--failure-threshold', 'style', file], { cwd: repoRoot });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('fails on a bad Dockerfile', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'vdi-hadolint-'));
    writeFileSync(path.join(dir, 'Dockerfile'), 'FROM node\nRUN cd /app && npm install left-pad\n');
    const r = run(hadolint(), ['--no-color', '--failure-threshold', 'style', 'Dockerfile'], { cwd: dir });
    expect(r.status).not.toBe(0);
    expect(r.stdout).toMatch(/DL3006|DL3003|DL3016/);
  });
});

describe('actionlint', () => {
  it(`is version ${TOOL_VERSIONS.actionlint}`, () => {
    expect(run(actionlint(), ['-version']).stdout).toContain(TOOL_VERSIONS.actionlint.slice(1));
  }, 600_000);

  it('finds nothing in the workflows', () => {
    const files = workflows();
    expect(files).toContain(path.join('.github', 'workflows', 'release.yml'));
    const r = run(actionlint(), ['-no-color', ...files], { cwd: repoRoot });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('fails on a bad workflow', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'vdi-actionlint-'));
    const bad = path.join(dir, 'bad.yml');
    writeFileSync(
      bad,
      'on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n        with:\n          ref: ${{ github.nope }}\n',
    );
    const r = run(actionlint(), ['-no-color', bad], { cwd: dir });
    expect(r.status).not.toBe(0);
    expect(r.stdout).toContain('nope');
  });
});
