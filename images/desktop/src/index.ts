/**
 * @vdi/desktop-image — the platform's Selkies desktop image (images/desktop): where its local build
 * lives, building it when missing (build.sh, progress streamed), and running it as a plain sandboxed
 * process the way the pod runs it (uid 1000, read-only root, no capabilities, writable home, /tmp,
 * /dev/shm and XDG_RUNTIME_DIR only) — for the image's own test and the benchmark's baseline.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';

const here = path.resolve(import.meta.dirname, '..');
export const BUILD_SCRIPT = path.join(here, 'build.sh');

export interface DesktopImage {
  /** `vdi.local/desktop:<hash of the inputs>`. */
  ref: string;
  /** The OCI archive (`~/.cache/vdi-platform/images/desktop-<hash>.oci.tar`). */
  path: string;
  built: boolean;
}

/** The image the current inputs give, and whether it is built (nothing is built here). */
export function desktopImage(): DesktopImage {
  const ask = (flag: string) => execFileSync('bash', [BUILD_SCRIPT, flag], { encoding: 'utf8' }).trim();
  const archive = ask('--print-path');
  return { ref: ask('--print-ref'), path: archive, built: existsSync(archive) };
}

/** Builds the image when it is missing (a few minutes cold; progress lines go to `log`). */
export async function ensureDesktopImage(
  log: (line: string) => void = () => undefined,
): Promise<DesktopImage> {
  const image = desktopImage();
  if (image.built) return image;
  const child = spawn('bash', [BUILD_SCRIPT], { stdio: ['ignore', 'ignore', 'pipe'] });
  const tail: string[] = [];
  readline.createInterface({ input: child.stderr! }).on('line', (line) => {
    tail.push(line);
    if (tail.length > 40) tail.shift();
    log(line);
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (code !== 0) throw new Error(`the desktop image did not build (exit ${code}):\n${tail.join('\n')}`);
  return { ...desktopImage(), built: true };
}

/**
 * The image's root filesystem unpacked once per image (for running it without a container
 * runtime). Outside the home cache: uid 1000 must be able to reach it, and root's home is private.
 */
export function unpackedRootfs(image: DesktopImage): string {
  const base = process.env.VDI_ROOTFS_DIR ?? '/var/cache/vdi-platform';
  mkdirSync(base, { recursive: true, mode: 0o755 });
  const dir = path.join(base, path.basename(image.path).replace(/\.oci\.tar$/, '.rootfs'));
  if (existsSync(path.join(dir, 'usr'))) return dir;
  const tmp = mkdtempSync(`${dir}.tmp-`);
  try {
    const layout = path.join(tmp, 'oci');
    mkdirSync(layout);
    execFileSync('tar', ['-C', layout, '-xf', image.path]);
    const index = JSON.parse(readFileSync(path.join(layout, 'index.json'), 'utf8')) as {
      manifests: { digest: string }[];
    };
    const blob = (d: string) => path.join(layout, 'blobs', 'sha256', d.replace(/^sha256:/, ''));
    const manifest = JSON.parse(readFileSync(blob(index.manifests[0]!.digest), 'utf8')) as {
      layers: { digest: string }[];
    };
    const rootfs = path.join(tmp, 'rootfs');
    mkdirSync(rootfs);
    for (const layer of manifest.layers) execFileSync('tar', ['-C', rootfs, '-xf', blob(layer.digest)]);
    // Mount points a container runtime would create in its writable snapshot before it mounts.
    for (const d of ['dev', 'proc', 'sys', 'tmp', 'run/user/1000', 'home/ubuntu'])
      mkdirSync(path.join(rootfs, d), { recursive: true });
    rmSync(dir, { recursive: true, force: true });
    renameSync(rootfs, dir);
    return dir;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

export interface DesktopProcess {
  port: number;
  /** http://<host>:<port>/ */
  url: string;
  /** The basic-auth credentials it was started with. */
  user: string;
  password: string;
  home: string;
  proc: ChildProcess;
  /** Everything it printed (last 400 lines). */
  logs: string[];
  /** Milliseconds from start to /api/health answering 200. */
  healthyAfterMs: number;
  /** When the process was spawned (epoch ms). */
  startedAt: number;
  /** Resolves with the exit code once the process has exited (null when a signal ended it). */
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

export interface RunOptions {
  width?: number;
  height?: number;
  framerate?: number;
  password?: string;
  /** A directory for the home (default: a fresh temporary one, removed on stop). */
  home?: string;
  /** Make /tmp read-only too (to check the entrypoint's refusal). */
  readOnlyTmp?: boolean;
  /** Extra environment (SELKIES_*). */
  env?: Record<string, string>;
  healthTimeoutMs?: number;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      srv.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

/**
 * The Selkies settings the platform's pod gives a CPU desktop (libs/session-spec pod.ts), for a
 * process on loopback: the same mode, encoder, size, basic auth and sharing.
 */
export function desktopEnv(o: {
  port: number;
  width: number;
  height: number;
  framerate: number;
  password: string;
}) {
  return {
    SELKIES_ADDR: '127.0.0.1',
    SELKIES_PORT: String(o.port),
    SELKIES_MODE: 'websockets',
    SELKIES_ENABLE_DUAL_MODE: 'false',
    SELKIES_ENCODER: 'h264enc',
    SELKIES_USE_CPU: 'true',
    SELKIES_FRAMERATE: String(o.framerate),
    SELKIES_MANUAL_WIDTH: String(o.width),
    SELKIES_MANUAL_HEIGHT: String(o.height),
    SELKIES_SCALING_DPI: '96',
    SELKIES_ENABLE_RESIZE: 'false',
    SELKIES_ENABLE_SHARING: 'false',
    SELKIES_ENABLE_BASIC_AUTH: 'true',
    SELKIES_BASIC_AUTH_USER: 'vdi',
    SELKIES_BASIC_AUTH_PASSWORD: o.password,
  };
}

/**
 * `setpriv` arguments that run `argv` in the image's root filesystem as the pod would: uid/gid
 * 1000 (setpriv drops to them first, so bwrap itself is unprivileged: the processes are uid 1000 on
 * the host too, and bwrap sets no_new_privs), no capabilities, the root read-only, writable tmpfs
 * for /tmp, /dev/shm and /run/user/1000, the home a directory of the host, nothing but `env`.
 */
function sandboxArgs(
  rootfs: string,
  o: { home?: string; env: Record<string, string>; readOnlyTmp?: boolean },
  argv: string[],
): string[] {
  return [
    '--reuid=1000',
    '--regid=1000',
    '--clear-groups',
    'bwrap',
    '--unshare-user',
    '--uid',
    '1000',
    '--gid',
    '1000',
    '--unshare-pid',
    '--unshare-ipc',
    '--die-with-parent',
    '--new-session',
    '--cap-drop',
    'ALL',
    '--ro-bind',
    rootfs,
    '/',
    '--proc',
    '/proc',
    '--dev',
    '/dev',
    ...(o.readOnlyTmp ? [] : ['--tmpfs', '/tmp']),
    '--tmpfs',
    '/dev/shm',
    '--dir',
    '/run/user/1000',
    '--tmpfs',
    '/run/user/1000',
    ...(o.home ? ['--bind', o.home, '/home/ubuntu', '--chdir', '/home/ubuntu'] : ['--chdir', '/tmp']),
    '--clearenv',
    ...Object.entries(o.env).flatMap(([k, v]) => ['--setenv', k, v]),
    ...argv,
  ];
}

/**
 * Runs one command in the image, sandboxed as the desktop runs (see `sandboxArgs`; no home), and
 * returns what it printed on stdout and stderr. Throws with that output when it exits non-zero.
 */
export function runInImage(image: DesktopImage, argv: string[], env: Record<string, string> = {}): string {
  const args = sandboxArgs(
    unpackedRootfs(image),
    { env: { PATH: '/opt/selkies/bin:/usr/local/bin:/usr/bin:/bin', LANG: 'C.UTF-8', HOME: '/tmp', ...env } },
    argv,
  );
  const r = spawnSync('setpriv', args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 120_000 });
  const output = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (r.status !== 0)
    throw new Error(
      `${argv.join(' ')} exited ${r.status ?? r.signal} in ${image.ref}:\n${output.slice(-2000)}`,
    );
  return output;
}

/**
 * Runs the image as a process with bubblewrap, as the pod would run it: uid 1000 (also on the
 * host), no capabilities, no_new_privs, the root filesystem read-only, writable tmpfs for /tmp, /dev/shm
 * and /run/user/1000, the home a directory of the host. Shares the host's network (it listens on
 * 127.0.0.1:<port>). Needs root (to unpack the image and hand the home to uid 1000), `setpriv`
 * and `bwrap`.
 */
export async function runDesktop(image: DesktopImage, o: RunOptions = {}): Promise<DesktopProcess> {
  const rootfs = unpackedRootfs(image);
  const port = await freePort();
  const width = o.width ?? 1280;
  const height = o.height ?? 720;
  const password = o.password ?? `pw-${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`;
  const ownHome = !o.home;
  const home = o.home ?? mkdtempSync(path.join(os.tmpdir(), 'vdi-desktop-home-'));
  execFileSync('chown', ['1000:1000', home]);
  const env = {
    PATH: '/opt/selkies/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    LANG: 'C.UTF-8',
    HOME: '/home/ubuntu',
    XDG_RUNTIME_DIR: '/run/user/1000',
    ...desktopEnv({ port, width, height, framerate: o.framerate ?? 60, password }),
    ...o.env,
  };
  const args = sandboxArgs(rootfs, { home, env, readOnlyTmp: o.readOnlyTmp }, [
    '/usr/local/bin/vdi-desktop-entrypoint',
  ]);
  const t0 = Date.now();
  const proc = spawn('setpriv', args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const logs: string[] = [];
  for (const s of [proc.stdout!, proc.stderr!]) {
    readline.createInterface({ input: s }).on('line', (l) => {
      logs.push(l);
      if (logs.length > 400) logs.shift();
    });
  }
  const exited = new Promise<number | null>((resolve) => proc.on('close', (code) => resolve(code)));
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (proc.exitCode === null && proc.signalCode === null) {
      try {
        process.kill(-proc.pid!, 'SIGTERM');
      } catch {
        /* gone */
      }
      const timer = setTimeout(() => {
        try {
          process.kill(-proc.pid!, 'SIGKILL');
        } catch {
          /* gone */
        }
      }, 5_000);
      await exited;
      clearTimeout(timer);
    }
    if (ownHome) rmSync(home, { recursive: true, force: true });
  };
  const url = `http://127.0.0.1:${port}/`;
  const deadline = Date.now() + (o.healthTimeoutMs ?? 60_000);
  for (;;) {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      await stop();
      const err = new Error(
        `the desktop exited (${proc.exitCode ?? proc.signalCode}):\n${logs.slice(-20).join('\n')}`,
      );
      (err as Error & { exitCode?: number | null }).exitCode = proc.exitCode;
      throw err;
    }
    const ok = await fetch(`${url}api/health`, { signal: AbortSignal.timeout(1_000) })
      .then((r) => r.status === 200)
      .catch(() => false);
    if (ok) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(
        `the desktop did not answer /api/health within ${(o.healthTimeoutMs ?? 60_000) / 1000} s:\n${logs.slice(-20).join('\n')}`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    port,
    url,
    user: 'vdi',
    password,
    home,
    proc,
    logs,
    healthyAfterMs: Date.now() - t0,
    startedAt: t0,
    exited,
    stop,
  };
}

/** Runs the entrypoint and resolves with its exit code and output (for refusals; no health wait). */
export async function runDesktopToExit(
  image: DesktopImage,
  o: RunOptions = {},
): Promise<{ code: number | null; output: string }> {
  try {
    const d = await runDesktop(image, { ...o, healthTimeoutMs: o.healthTimeoutMs ?? 20_000 });
    await d.stop();
    return { code: 0, output: d.logs.join('\n') };
  } catch (err) {
    return { code: (err as { exitCode?: number | null }).exitCode ?? null, output: (err as Error).message };
  }
}

/** Every descendant of process `root` (e.g. a running desktop's `proc.pid`), read from /proc. */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const d of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    try {
      const ppid = Number(/^PPid:\s+(\d+)/m.exec(readFileSync(`/proc/${d}/status`, 'utf8'))![1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(d)]);
    } catch {
      /* gone */
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const c of children.get(p) ?? []) {
      out.push(c);
      walk(c);
    }
  };
  walk(root);
  return out;
}

/** One event of the image's launcher (launcher.py), from its stderr line. */
export interface LauncherEvent {
  /** Milliseconds since the launcher started. */
  tMs: number;
  event: string;
  /** The line's other key=value pairs (quoted values unquoted). */
  fields: Record<string, string>;
}

const LAUNCHER_PREFIX = '[vdi-launcher] ';

/**
 * Parses `[vdi-launcher] t_ms=<int> event=<name> key=value ...` (logfmt: a value with a space,
 * `"`, `=` or `\\` is double-quoted with `\\` escapes); undefined for any other line.
 */
export function parseLauncherLine(line: string): LauncherEvent | undefined {
  const at = line.indexOf(LAUNCHER_PREFIX);
  if (at < 0) return undefined;
  const fields: Record<string, string> = {};
  const pair = /([A-Za-z_][\w-]*)=(?:"((?:[^"\\]|\\.)*)"|(\S*))/g;
  const rest = line.slice(at + LAUNCHER_PREFIX.length);
  for (let m = pair.exec(rest); m; m = pair.exec(rest)) {
    fields[m[1]!] =
      m[2] !== undefined ? m[2].replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c)) : m[3]!;
  }
  const { t_ms: tMs, event, ...others } = fields;
  if (tMs === undefined || !/^\d+$/.test(tMs) || !event) return undefined;
  return { tMs: Number(tMs), event, fields: others };
}

/** The launcher's events among a desktop's output lines, in the order they were printed. */
export function launcherEvents(lines: readonly string[]): LauncherEvent[] {
  return lines.map(parseLauncherLine).filter((e): e is LauncherEvent => e !== undefined);
}

/** A process of a running desktop: its host pid, `comm` name and command line. */
export interface DesktopProcessInfo {
  pid: number;
  name: string;
  cmdline: string[];
}

/** The processes under `root` (a running desktop's `proc.pid`) with their names, from /proc. */
export function desktopProcesses(root: number): DesktopProcessInfo[] {
  const out: DesktopProcessInfo[] = [];
  for (const pid of processTree(root)) {
    try {
      const name = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
      out.push({ pid, name, cmdline });
    } catch {
      /* gone */
    }
  }
  return out;
}

/**
 * Runs `argv` (from the image, e.g. xdotool) as uid 1000 inside a running desktop's mount
 * namespace, on its display: the X socket and cookie live in the desktop's private /tmp and
 * runtime directory. Needs root (nsenter). Returns stdout; throws with stderr on failure.
 */
export function runOnDisplay(d: DesktopProcess, argv: string[]): string {
  const events = launcherEvents(d.logs);
  const runtime = events.find((e) => e.event === 'start')?.fields.runtime;
  const display = events.find((e) => e.event === 'x-up')?.fields.display;
  if (!runtime || !display)
    throw new Error(
      `the desktop's launcher has not reported its display yet (events: ${events.map((e) => e.event).join(', ')})`,
    );
  const inner = desktopProcesses(d.proc.pid!).find((p) => p.cmdline.some((a) => a.endsWith('/launcher.py')));
  if (!inner) throw new Error('the desktop has no launcher process (has it exited?)');
  const r = spawnSync(
    'nsenter',
    ['--target', String(inner.pid), '--mount', '--setuid', '1000', '--setgid', '1000', '--', ...argv],
    {
      encoding: 'utf8',
      timeout: 10_000,
      env: { PATH: '/usr/bin:/bin', DISPLAY: display, XAUTHORITY: `${runtime}/Xauthority`, LANG: 'C.UTF-8' },
    },
  );
  if (r.status !== 0)
    throw new Error(`${argv.join(' ')} on the desktop's display exited ${r.status ?? r.signal}: ${r.stderr}`);
  return r.stdout;
}
