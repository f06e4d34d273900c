/**
 * The local Keycloak's lifecycle: `start` (pick Java → fetch the distribution once → render the
 * realm into data/import → `kc.sh start-dev` detached → wait for the realm's discovery document),
 * `stop` and `status`.
 *
 * Dev mode (`start-dev`) with:
 *   --hostname http://localhost:<port>  one public URL, so the issuer never follows the Host header
 *   --http-host 127.0.0.1               nothing outside this machine reaches it
 *   --db dev-mem                         in-memory H2: every start imports the realm file afresh
 *   --import-realm                       reads <kc home>/data/import (the rendered realm)
 *   --health-enabled                     /health/* on the management port
 * The first start of a distribution builds the Quarkus application (20–25 s of a 40–50 s cold
 * start on 2 cores); later starts reuse that build (warm start ~20 s). A running instance is reused when its state file's pid is alive, its
 * discovery document answers with the expected issuer, and version, ports and realm are unchanged;
 * otherwise it is restarted.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  isAlive,
  portInUse,
  readState,
  startDetached,
  stopProcess,
  tail,
  waitHealthy,
  writeState,
  type ManagedProcess,
} from '@vdi/controlplane';
import {
  BOOTSTRAP_ADMIN,
  loadKeycloakConfig,
  realmEndpoints,
  type KeycloakConfig,
  type KeycloakOptions,
} from './config.js';
import { distributionDir, ensureDistribution, isInstalled, type Logger } from './distribution.js';
import { selectJava, type JavaInstall } from './java.js';
import { loadRealm, realmHash, renderRealm } from './realm.js';

const defaultLog: Logger = (msg) => process.stderr.write(`[keycloak] ${msg}\n`);

/** What state.json records about the running instance (beside the process list). */
export interface KeycloakState {
  processes: ManagedProcess[];
  version: string;
  javaHome: string;
  javaVersion: string;
  port: number;
  managementPort: number;
  issuer: string;
  realmHash: string;
  startedAt: string;
  startMs?: number;
  cold?: boolean;
}

export function statePaths(cfg: KeycloakConfig) {
  return {
    dir: cfg.stateDir,
    state: path.join(cfg.stateDir, 'state.json'),
    log: path.join(cfg.stateDir, 'keycloak.log'),
    objectStore: path.join(cfg.stateDir, 'transaction-logs'),
  };
}

function readKeycloakState(cfg: KeycloakConfig): KeycloakState | undefined {
  const s = readState(statePaths(cfg).state) as Partial<KeycloakState>;
  return s.processes && s.processes.length > 0 && s.version ? (s as KeycloakState) : undefined;
}

/** True when the realm's discovery document answers with the pinned issuer. */
export async function discoveryAnswers(cfg: KeycloakConfig, timeoutMs = 2000): Promise<boolean> {
  try {
    const res = await fetch(realmEndpoints(cfg).internal.discovery, {
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (res.status !== 200) return false;
    const doc = (await res.json()) as { issuer?: string };
    return doc.issuer === cfg.issuer;
  } catch {
    return false;
  }
}

/** `kc.sh start-dev` arguments; the realm file must already be in `<home>/data/import`. */
export function startArgs(cfg: KeycloakConfig): string[] {
  return [
    'start-dev',
    `--http-port=${cfg.port}`,
    '--http-host=127.0.0.1',
    `--hostname=${cfg.url}`,
    `--http-management-port=${cfg.managementPort}`,
    '--health-enabled=true',
    '--db=dev-mem',
    '--import-realm',
    '--log-console-color=false',
    // Narayana's object store per instance, not in the shared distribution directory.
    `-Dquarkus.transaction-manager.object-store.directory=${statePaths(cfg).objectStore}`,
  ];
}

/** The child's environment: no stray KC_* settings from the caller's shell, Java pinned. */
export function startEnv(base: NodeJS.ProcessEnv, java: JavaInstall): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(base)) {
    if (!k.startsWith('KC_') && k !== 'JAVA_OPTS' && k !== 'JAVA') env[k] = v;
  }
  env.JAVA_HOME = java.home;
  env.KC_BOOTSTRAP_ADMIN_USERNAME = BOOTSTRAP_ADMIN.username;
  env.KC_BOOTSTRAP_ADMIN_PASSWORD = BOOTSTRAP_ADMIN.password;
  return env;
}

export interface StartResult {
  reused: boolean;
  pid: number;
  issuer: string;
  url: string;
  log: string;
  version: string;
  java: { home: string; version: string };
  /** Time until the discovery document answered (0 when reused). */
  startMs: number;
  /** True when this start built the Quarkus application first (first start of a distribution). */
  cold: boolean;
  /** Time spent fetching and unpacking the distribution (0 when cached). */
  fetchMs: number;
}

function reusedResult(cfg: KeycloakConfig, state: KeycloakState, proc: ManagedProcess): StartResult {
  return {
    reused: true,
    pid: proc.pid,
    issuer: cfg.issuer,
    url: cfg.url,
    log: proc.log,
    version: state.version,
    java: { home: state.javaHome, version: state.javaVersion },
    startMs: 0,
    cold: false,
    fetchMs: 0,
  };
}

export interface StartOptions extends KeycloakOptions {
  /** How long to wait for the discovery document; default 300 s (a cold start on 2 cores is ~1.5 min). */
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  log?: Logger;
}

/**
 * Starts Keycloak with the `vdi` realm, or reuses the running one. Resolves once
 * `<url>/realms/vdi/.well-known/openid-configuration` answers with the pinned issuer; on failure
 * nothing is left running and the error carries the log's tail.
 */
export async function start(opts: StartOptions = {}): Promise<StartResult> {
  const env = opts.env ?? process.env;
  const log = opts.log ?? defaultLog;
  const cfg = loadKeycloakConfig(env, opts);
  // Concurrent starts (two test projects, a CLI and a test) take turns: the later ones reuse.
  return withStartLock(cfg, log, opts.timeoutMs ?? 300_000, () => startLocked(cfg, env, log, opts));
}

let inProcess: Promise<unknown> = Promise.resolve();

/** Runs `fn` holding `<state>/start.lock` (and, within this process, after earlier calls). */
async function withStartLock<T>(
  cfg: KeycloakConfig,
  log: Logger,
  waitMs: number,
  fn: () => Promise<T>,
): Promise<T> {
  const run = inProcess.then(async () => {
    mkdirSync(cfg.stateDir, { recursive: true });
    const lock = path.join(cfg.stateDir, 'start.lock');
    const deadline = Date.now() + waitMs + 60_000;
    let announced = false;
    for (;;) {
      try {
        writeFileSync(lock, String(process.pid), { flag: 'wx' });
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const raw = readFileSync(lock, 'utf8').trim();
        if (raw === '' && Date.now() < deadline) {
          // Just created by another process that has not written its pid yet.
          await new Promise((r) => setTimeout(r, 100));
          continue;
        }
        const holder = Number(raw);
        if (!Number.isInteger(holder) || holder <= 0 || !isAlive(holder)) {
          rmSync(lock, { force: true }); // left by a process that died
          continue;
        }
        if (Date.now() > deadline) {
          throw new Error(
            `another Keycloak start (pid ${holder}) holds ${lock} for too long; stop it or delete the file`,
          );
        }
        if (!announced) log(`waiting for another start of Keycloak (pid ${holder}) to finish`);
        announced = true;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    try {
      return await fn();
    } finally {
      rmSync(lock, { force: true });
    }
  });
  inProcess = run.catch(() => undefined);
  return run;
}

async function startLocked(
  cfg: KeycloakConfig,
  env: NodeJS.ProcessEnv,
  log: Logger,
  opts: StartOptions,
): Promise<StartResult> {
  const paths = statePaths(cfg);
  const rendered = renderRealm(loadRealm(), cfg.portalOrigins);
  const hash = realmHash(rendered);

  const current = readKeycloakState(cfg);
  const proc = current?.processes[0];
  let restarting: string | undefined;
  if (current && proc && isAlive(proc.pid)) {
    const why = [
      current.version !== cfg.version && `version ${current.version} → ${cfg.version}`,
      current.port !== cfg.port && `port ${current.port} → ${cfg.port}`,
      current.managementPort !== cfg.managementPort &&
        `management port ${current.managementPort} → ${cfg.managementPort}`,
      current.realmHash !== hash && 'the realm file (or VDI_PORTAL_ORIGINS) changed',
    ].filter((x): x is string => typeof x === 'string');
    if (why.length === 0 && (await discoveryAnswers(cfg))) {
      log(`already running (pid ${proc.pid}), issuer ${cfg.issuer}; reusing it`);
      return reusedResult(cfg, current, proc);
    }
    if (why.length === 0 && current.startMs === undefined) {
      // Another `start` (a CLI, a test worker) launched it and it is still coming up: wait for it.
      log(`already starting (pid ${proc.pid}); waiting for ${cfg.issuer}`);
      await waitHealthy(proc, () => discoveryAnswers(cfg), opts.timeoutMs ?? 300_000);
      return reusedResult(cfg, current, proc);
    }
    restarting = `restarting the running Keycloak (pid ${proc.pid}): ${why.join('; ') || 'it does not answer'}`;
  }
  // Check Java and the ports before stopping anything: a clash must not cost the running instance.
  const java = selectJava(cfg.version, env);
  const ours = current && proc && isAlive(proc.pid) ? [current.port, current.managementPort] : [];
  for (const [what, p, variable] of [
    ['HTTP', cfg.port, 'VDI_KEYCLOAK_PORT'],
    ['management', cfg.managementPort, 'VDI_KEYCLOAK_MANAGEMENT_PORT'],
  ] as const) {
    if (!ours.includes(p) && (await portInUse(p))) {
      const kc = what === 'HTTP' && (await discoveryAnswers(cfg));
      throw new Error(
        kc
          ? `a Keycloak that this checkout did not start (no live pid in ${paths.state}) already serves ${cfg.issuer}; ` +
              `stop it (from the checkout that started it: cli.ts down) or move this one with ${variable}`
          : `port ${p} (Keycloak ${what}) is already in use: stop what holds it (\`ss -ltnp | grep ${p}\`) or move Keycloak with ${variable}`,
      );
    }
  }
  // Stop what is left of an earlier run (a crash, a changed configuration); no-op otherwise.
  // stop() also checks that the old instance's ports are free again.
  if (restarting) log(restarting);
  await stop({ ...opts, log: () => undefined });

  log(`Keycloak ${cfg.version} on Java ${java.version} (${java.home})`);
  const tFetch = Date.now();
  const fetched = !isInstalled(cfg.cacheDir, cfg.version);
  const home = await ensureDistribution(cfg.version, cfg.cacheDir, java, log);
  const fetchMs = fetched ? Date.now() - tFetch : 0;

  // --import-realm reads every file of data/import: exactly ours.
  const importDir = path.join(home, 'data', 'import');
  mkdirSync(importDir, { recursive: true });
  for (const f of readdirSync(importDir)) rmSync(path.join(importDir, f), { recursive: true, force: true });
  writeFileSync(path.join(importDir, 'vdi-realm.json'), JSON.stringify(rendered, null, 2));
  mkdirSync(paths.dir, { recursive: true });

  const logOffset = existsSync(paths.log) ? statSync(paths.log).size : 0;
  const kcsh = path.join(home, 'bin', 'kc.sh');
  log(
    `starting ${path.relative(distributionDir(cfg.cacheDir, cfg.version), kcsh)} start-dev on ${cfg.url} (log ${paths.log})`,
  );
  const child = startDetached('keycloak', kcsh, startArgs(cfg), paths.dir, {
    env: startEnv(env, java),
    cwd: home,
    port: cfg.port,
  });
  const state: KeycloakState = {
    processes: [child],
    version: cfg.version,
    javaHome: java.home,
    javaVersion: java.version,
    port: cfg.port,
    managementPort: cfg.managementPort,
    issuer: cfg.issuer,
    realmHash: hash,
    startedAt: new Date().toISOString(),
  };
  writeState(paths.state, state);

  let startMs: number;
  let announcedBuild = false;
  try {
    startMs = await waitHealthy(
      child,
      async () => {
        if (!announcedBuild && logSince(paths.log, logOffset).includes('Updating the configuration')) {
          announcedBuild = true;
          log('building the Quarkus application for this distribution (first start only; ~1 min on 2 cores)');
        }
        return discoveryAnswers(cfg);
      },
      opts.timeoutMs ?? 300_000,
    );
  } catch (err) {
    await stop({ ...opts, log: () => undefined }).catch(() => undefined);
    throw err;
  }
  const since = logSince(paths.log, logOffset);
  const build = /Quarkus augmentation completed in (\d+)ms/.exec(since);
  const cold = build !== null;
  const started: KeycloakState = { ...state, startMs, cold };
  writeState(paths.state, started);
  log(
    `ready in ${(startMs / 1000).toFixed(1)}s (${cold ? `cold: includes building the Quarkus app, ${(Number(build[1]) / 1000).toFixed(1)}s` : 'warm'}); issuer ${cfg.issuer}`,
  );
  return {
    reused: false,
    pid: child.pid,
    issuer: cfg.issuer,
    url: cfg.url,
    log: child.log,
    version: cfg.version,
    java: { home: java.home, version: java.version },
    startMs,
    cold,
    fetchMs,
  };
}

function logSince(file: string, offset: number): string {
  try {
    return readFileSync(file).subarray(offset).toString('utf8');
  } catch {
    return '';
  }
}

export interface StopOptions extends KeycloakOptions {
  env?: NodeJS.ProcessEnv;
  log?: Logger;
}

/**
 * Stops the Keycloak this checkout started (its whole process group: kc.sh and the JVM) and checks
 * that its ports are free. A no-op when nothing runs.
 */
export async function stop(opts: StopOptions = {}): Promise<void> {
  const log = opts.log ?? defaultLog;
  const cfg = loadKeycloakConfig(opts.env ?? process.env, opts);
  const paths = statePaths(cfg);
  const current = readKeycloakState(cfg);
  const ports = current ? [current.port, current.managementPort] : [cfg.port, cfg.managementPort];
  for (const proc of current?.processes ?? []) {
    if (isAlive(proc.pid)) {
      await stopProcess(proc.pid, 20_000);
      log(`stopped Keycloak (pid ${proc.pid})`);
    }
  }
  if (existsSync(paths.state)) rmSync(paths.state);
  if (!current) return;
  // The JVM has exited once the group is gone; its listening sockets close with it.
  const deadline = Date.now() + 5_000;
  let busy: number[] = [];
  do {
    busy = [];
    for (const p of ports) if (await portInUse(p)) busy.push(p);
    if (busy.length === 0) return;
    await new Promise((r) => setTimeout(r, 100));
  } while (Date.now() < deadline);
  throw new Error(
    `ports ${busy.join(', ')} are still in use after stopping Keycloak (another process holds them; \`ss -ltnp | grep ${busy[0]}\`)`,
  );
}

export interface KeycloakStatus {
  running: boolean;
  pid?: number;
  /** Resident memory of the whole process group (kc.sh + JVM). */
  rssMiB?: number;
  version: string;
  java?: string;
  issuer: string;
  urls: ReturnType<typeof realmEndpoints>['public'] & { adminConsole: string; health: string };
  log: string;
  startedAt?: string;
  startMs?: number;
  cold?: boolean;
}

/** Resident memory of every process in process group `pgid`, from /proc. */
export function groupRssMiB(pgid: number): number | undefined {
  let kb = 0;
  let found = false;
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      // Fields after the parenthesised command: state ppid pgrp …
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) !== pgid) continue;
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${d}/status`, 'utf8'));
      if (m) {
        kb += Number(m[1]);
        found = true;
      }
    } catch {
      /* the process ended meanwhile */
    }
  }
  return found ? Math.round(kb / 1024) : undefined;
}

export async function status(opts: StopOptions = {}): Promise<KeycloakStatus> {
  const cfg = loadKeycloakConfig(opts.env ?? process.env, opts);
  const current = readKeycloakState(cfg);
  const proc = current?.processes[0];
  const alive = proc !== undefined && isAlive(proc.pid);
  const running = alive && (await discoveryAnswers(cfg));
  const rss = alive ? groupRssMiB(proc.pid) : undefined;
  return {
    running,
    ...(alive ? { pid: proc.pid } : {}),
    ...(rss !== undefined ? { rssMiB: rss } : {}),
    version: current?.version ?? cfg.version,
    ...(current ? { java: `${current.javaVersion} (${current.javaHome})` } : {}),
    issuer: cfg.issuer,
    urls: {
      ...realmEndpoints(cfg).public,
      adminConsole: `${cfg.url}/admin/`,
      health: `http://127.0.0.1:${cfg.managementPort}/health/ready`,
    },
    log: statePaths(cfg).log,
    ...(current?.startedAt ? { startedAt: current.startedAt } : {}),
    ...(current?.startMs !== undefined ? { startMs: current.startMs } : {}),
    ...(current?.cold !== undefined ? { cold: current.cold } : {}),
  };
}

/** The last lines of Keycloak's log, for error messages. */
export function logTail(opts: StopOptions = {}, lines = 20): string {
  return tail(statePaths(loadKeycloakConfig(opts.env ?? process.env, opts)).log, lines);
}
