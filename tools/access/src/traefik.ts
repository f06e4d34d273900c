/**
 * Traefik on this machine, routing by the cluster's IngressRoutes: the binary built from the Go
 * module proxy (tools/controlplane/scripts/build.sh), the `kubernetesCRD` provider against the
 * local API server under a least-privilege ServiceAccount, desktops behind the `web` entrypoint.
 *
 * Each start gets a directory of its own (config, token, logs), so a developer's `npm start` and
 * test runs can each have a Traefik on their own ports.
 */
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { isAlive, loadConfig, portInUse, repoRoot, stopProcess, tail, waitHealthy } from '@vdi/controlplane';
import { KubeJsonClient } from '@vdi/kube-client';
import {
  ensureTraefikIdentity,
  FIELD_MANAGER_ACCESS,
  TRAEFIK_IDENTITY,
  writeCredentialFiles,
  type TraefikIdentityOptions,
} from './identity.js';
import { log as defaultLog, type Logger } from './log.js';
import { stringify } from 'yaml';
import {
  defaultCertificateConfig,
  hostRoutesConfig,
  READINESS_HOST,
  readinessRoute,
  traefikEnv,
  traefikStaticConfigYaml,
  type HostRoute,
  type TraefikStaticConfigInput,
} from './traefik-config.js';

export const DEFAULT_WEB_PORT = 8088;
export const DEFAULT_ADMIN_PORT = 8089;

export interface TraefikOptions {
  /** Admin kubeconfig of the cluster whose IngressRoutes Traefik serves (creates Traefik's identity). */
  kubeconfig: string;
  /** Port of the `web` entrypoint (default $VDI_TRAEFIK_PORT or 8088). */
  webPort?: number;
  /** Port of the loopback `traefik` entrypoint: /ping and the read-only API (default $VDI_TRAEFIK_ADMIN_PORT or 8089). */
  adminPort?: number;
  /** Address the `web` entrypoint binds (default 127.0.0.1; the browser reaches *.vdi.localhost there). */
  host?: string;
  /** Watch only these namespaces (default: all). */
  namespaces?: string[];
  /** `respondingTimeouts.readTimeout` in seconds (default: Traefik's 60). */
  readTimeoutSeconds?: number;
  logLevel?: TraefikStaticConfigInput['logLevel'];
  /** Traefik's ServiceAccount and ClusterRole (default kube-system/vdi-local-traefik, least privilege). */
  identity?: TraefikIdentityOptions;
  /** Where this instance keeps config, token and logs (default .vdi/access/traefik-<webPort>). */
  dir?: string;
  /** The traefik binary (default: the cached build, built first when missing). */
  binary?: string;
  startTimeoutMs?: number;
  log?: Logger;
  /** Routes to processes on this host (portal, API), through Traefik's file provider. */
  hostRoutes?: HostRoute[];
  /**
   * A `websecure` entrypoint (TLS, as on K3s) on this port of `host`, whose default certificate
   * (the default TLSStore) is this PEM pair, through the file provider.
   */
  websecure?: { port: number; certFile: string; keyFile: string };
}

export interface TraefikLogs {
  /** Traefik's own log, JSON lines. */
  traefik: string;
  /** One JSON line per request. */
  access: string;
  /** stdout/stderr of the process (panics, flag errors). */
  output: string;
  /** The static configuration it runs with. */
  config: string;
}

export interface RunningTraefik {
  /** Base URL of the `web` entrypoint, e.g. http://127.0.0.1:8088 (send Host: <session>.vdi.localhost). */
  url: string;
  port: number;
  /** Base URL of the admin entrypoint (ping, /api/...). */
  adminUrl: string;
  adminPort: number;
  pid: number;
  /** `traefik version` of the binary, e.g. v3.6.15. */
  version: string;
  logs: TraefikLogs;
  /** Milliseconds from spawn until it answered /ping and served the readiness route. */
  startMs: number;
  /** Parsed lines of Traefik's own log (or of the access log). */
  readLog(which?: 'traefik' | 'access'): Record<string, unknown>[];
  /** The HTTP routers Traefik serves now (from its API), e.g. `ns-name-<hash>@kubernetescrd`; `search` filters by name/rule. */
  routers(search?: string): Promise<{ name: string; rule: string; status: string; provider: string }[]>;
  stop(): Promise<void>;
}

const buildScript = path.join(repoRoot, 'tools', 'controlplane', 'scripts', 'build.sh');

/**
 * The traefik binary of the version in tools/controlplane/versions.env, built from the Go
 * module proxy when it is not cached yet (progress on stderr; ~10 min cold on 2 cores).
 */
export function ensureTraefikBinary(log: Logger = defaultLog): string {
  const dir = execFileSync('bash', [buildScript, '--print-dir', 'traefik'], { encoding: 'utf8' }).trim();
  if (!existsSync(path.join(dir, '.complete'))) {
    log.info('building traefik from the Go module proxy (first time only)', { cache: dir });
    execFileSync('bash', [buildScript, 'traefik'], { stdio: ['ignore', 'inherit', 'inherit'] });
  }
  return path.join(dir, 'traefik');
}

export function traefikVersion(binary: string): string {
  const out = execFileSync(binary, ['version'], { encoding: 'utf8' });
  const m = /^Version:\s+(\S+)/m.exec(out);
  if (!m) throw new Error(`could not read the version of ${binary} from: ${out.slice(0, 200)}`);
  return m[1]!;
}

function intEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0 || n > 65535) {
    throw new Error(`${name}=${raw} is not a valid port; unset it or give one from 1 to 65535`);
  }
  return n;
}

function httpGet(url: string, timeoutMs = 2000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: timeoutMs }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: no answer within ${timeoutMs} ms`)));
  });
}

export function parseJsonLines(text: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim().startsWith('{')) continue;
    try {
      out.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      /* a line being written */
    }
  }
  return out;
}

/**
 * Starts Traefik and resolves once it answers /ping and its Kubernetes provider has started
 * without an error. Fails naming the log when it exits or does not become ready.
 */
export async function startTraefik(o: TraefikOptions): Promise<RunningTraefik> {
  const log = o.log ?? defaultLog;
  const port = o.webPort ?? intEnv('VDI_TRAEFIK_PORT', DEFAULT_WEB_PORT);
  const adminPort = o.adminPort ?? intEnv('VDI_TRAEFIK_ADMIN_PORT', DEFAULT_ADMIN_PORT);
  if (port === adminPort) throw new Error(`webPort and adminPort are both ${port}; give two ports`);
  const host = o.host ?? '127.0.0.1';
  for (const [what, p, env] of [
    ['web', port, 'VDI_TRAEFIK_PORT'],
    ['admin', adminPort, 'VDI_TRAEFIK_ADMIN_PORT'],
  ] as const) {
    // Checked first: a Traefik already on the admin port would answer our readiness probes.
    if (await portInUse(p)) {
      throw new Error(
        `Traefik's ${what} port ${p} is in use (another Traefik of this checkout?); stop it or choose another port (${env} or the ${what === 'web' ? 'webPort' : 'adminPort'} option)`,
      );
    }
  }
  const binary = o.binary ?? ensureTraefikBinary(log);
  const version = traefikVersion(binary);
  const dir = o.dir ?? path.join(loadConfig().stateDir, '..', 'access', `traefik-${port}`);
  mkdirSync(dir, { recursive: true });
  const logs: TraefikLogs = {
    traefik: path.join(dir, 'traefik.log'),
    access: path.join(dir, 'access.log'),
    output: path.join(dir, 'output.log'),
    config: path.join(dir, 'traefik.yaml'),
  };
  const tokenFile = path.join(dir, 'token');
  const caFile = path.join(dir, 'ca.crt');

  const kc = new k8s.KubeConfig();
  kc.loadFromFile(o.kubeconfig);
  const creds = await ensureTraefikIdentity(kc, o.identity);
  writeCredentialFiles(creds, tokenFile, caFile);
  await applyReadinessRoute(kc, o.namespaces?.[0] ?? 'kube-system');
  const dynamicFile = path.join(dir, 'host-routes.yaml');
  const dynamic = o.hostRoutes?.length || o.websecure;
  if (dynamic) {
    writeFileSync(
      dynamicFile,
      stringify(
        {
          ...(o.hostRoutes?.length ? hostRoutesConfig(o.hostRoutes) : {}),
          ...(o.websecure ? defaultCertificateConfig(o.websecure) : {}),
        },
        { lineWidth: 0 },
      ),
    );
  }
  // Fresh logs per start: readers (tests, the CLI) see this run only.
  for (const f of [logs.traefik, logs.access]) writeFileSync(f, '');
  writeFileSync(
    logs.config,
    traefikStaticConfigYaml({
      webAddress: `${host}:${port}`,
      adminAddress: `127.0.0.1:${adminPort}`,
      endpoint: creds.endpoint,
      tokenFile,
      caFile,
      logFile: logs.traefik,
      accessLogFile: logs.access,
      ...(o.namespaces ? { namespaces: o.namespaces } : {}),
      ...(o.logLevel ? { logLevel: o.logLevel } : {}),
      ...(o.readTimeoutSeconds !== undefined ? { readTimeoutSeconds: o.readTimeoutSeconds } : {}),
      ...(dynamic ? { dynamicFile } : {}),
      ...(o.websecure ? { websecureAddress: `${host}:${o.websecure.port}` } : {}),
    }),
  );

  const out = openSync(logs.output, 'a');
  writeFileSync(out, `\n--- ${new Date().toISOString()} starting ${binary} --configFile=${logs.config}\n`);
  // Where this run's output begins (the file collects every run on this port).
  const outputFrom = readFileSync(logs.output).length;
  const started = Date.now();
  const child = spawn(binary, [`--configFile=${logs.config}`], {
    // Its own process group, so stop() ends it and anything it started.
    detached: true,
    stdio: ['ignore', out, out],
    env: traefikEnv(process.env),
    cwd: dir,
  });
  closeSync(out);
  if (child.pid === undefined) throw new Error(`could not start ${binary}; see ${logs.output}`);
  const pid = child.pid;
  child.unref();
  // If the caller exits without stop(), Traefik goes with it rather than holding the ports.
  const onExit = () => {
    try {
      process.kill(-pid, 'SIGTERM');
    } catch {
      /* gone */
    }
  };
  process.once('exit', onExit);

  const proc = { name: `traefik (${logs.traefik})`, pid, log: logs.output };
  const stop = async () => {
    process.removeListener('exit', onExit);
    await stopProcess(pid, 5000);
    // The token is a credential of the cluster; the logs stay for whoever debugs the run.
    rmSync(tokenFile, { force: true });
  };
  try {
    const timeoutMs = o.startTimeoutMs ?? 30_000;
    await waitHealthy(
      proc,
      async () => (await httpGet(`http://127.0.0.1:${adminPort}/ping`)).status === 200,
      timeoutMs,
    );
    await waitProviderReady({
      adminPort,
      pid,
      output: logs.output,
      outputFrom,
      timeoutMs,
      identity: o.identity?.name ?? TRAEFIK_IDENTITY.name,
    });
    const startMs = Date.now() - started;
    const running: RunningTraefik = {
      url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`,
      port,
      adminUrl: `http://127.0.0.1:${adminPort}`,
      adminPort,
      pid,
      version,
      logs,
      startMs,
      readLog: (which = 'traefik') =>
        parseJsonLines(existsSync(logs[which]) ? readFileSync(logs[which], 'utf8') : ''),
      routers: async (search?: string) => {
        // The API pages its lists (100 by default); one large page is plenty locally.
        const q = new URLSearchParams({ per_page: '10000', ...(search ? { search } : {}) });
        const r = await httpGet(`http://127.0.0.1:${adminPort}/api/http/routers?${q}`);
        if (r.status !== 200) throw new Error(`Traefik API /api/http/routers answered ${r.status}`);
        return (JSON.parse(r.body) as { name: string; rule: string; status: string; provider: string }[]).map(
          (x) => ({ name: x.name, rule: x.rule, status: x.status, provider: x.provider }),
        );
      },
      stop,
    };
    log.info('traefik ready', {
      version,
      url: running.url,
      admin: running.adminUrl,
      pid,
      startMs: running.startMs,
      log: logs.traefik,
    });
    return running;
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}\nTraefik's log (${logs.traefik}):\n${tail(logs.traefik)}`);
  }
}

async function applyReadinessRoute(kc: k8s.KubeConfig, namespace: string): Promise<void> {
  const client = new KubeJsonClient(kc, 2);
  try {
    await client.apply(readinessRoute(namespace), FIELD_MANAGER_ACCESS);
  } catch (err) {
    throw new Error(
      `could not apply Traefik's readiness IngressRoute in ${namespace}: ${(err as Error).message}. Are Traefik's CRDs installed (npm run cluster:up installs them)?`,
    );
  } finally {
    client.close();
  }
}

/**
 * Waits until Traefik serves the readiness route (its kubernetesCRD provider synced every
 * cache). A missing permission shows as client-go "forbidden" lines on Traefik's stderr: fail
 * with the first of them instead of waiting for the timeout.
 */
async function waitProviderReady(w: {
  adminPort: number;
  pid: number;
  output: string;
  outputFrom: number;
  timeoutMs: number;
  identity: string;
}): Promise<void> {
  const deadline = Date.now() + w.timeoutMs;
  for (;;) {
    const r = await httpGet(`http://127.0.0.1:${w.adminPort}/api/http/routers?search=traefik-ready`).catch(
      () => undefined,
    );
    if (r?.status === 200) {
      const routers = JSON.parse(r.body) as { rule?: string; provider?: string; status?: string }[];
      if (routers.some((x) => x.rule === `Host(\`${READINESS_HOST}\`)` && x.provider === 'kubernetescrd'))
        return;
    }
    const forbidden = readFileSync(w.output)
      .subarray(w.outputFrom)
      .toString('utf8')
      .split('\n')
      .find((l) => l.includes('is forbidden'));
    if (forbidden) {
      throw new Error(
        `Traefik's kubernetesCRD provider is refused by the API server: ${forbidden.slice(0, 400)}. ` +
          `Fix the ClusterRole ${w.identity} (rules: tools/access/src/identity.ts)`,
      );
    }
    if (!isAlive(w.pid))
      throw new Error(`traefik (pid ${w.pid}) exited during start-up; see ${w.output}\n${tail(w.output)}`);
    if (Date.now() > deadline) {
      throw new Error(
        `Traefik did not serve its readiness route (${READINESS_HOST}) within ${w.timeoutMs} ms: its kubernetesCRD provider has not synced; see ${w.output}\n${tail(w.output)}`,
      );
    }
    await new Promise((res) => setTimeout(res, 100));
  }
}
