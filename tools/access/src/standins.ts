/**
 * Desktop stand-ins for the local cluster: the host side watches session pods (label
 * `vdi.kasm.io/session`) and keeps a pod-IP → session map in a file; one stand-in process inside
 * the desktop network namespace serves every pod IP and names the session from that map.
 *
 * The stand-in process is shared: a second caller (another test worker, `npm start`) finds it
 * healthy on the link address and adds its own map file; the process exits by itself once the
 * last map file is gone (stop() removes its file; files of dead processes are pruned).
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';
import { isAlive, loadConfig, repoRoot, tail } from '@vdi/controlplane';
import { InformerSet } from '@vdi/kube-client';
import { DESKTOP_PORT, LABEL_SESSION } from '@vdi/session-spec';
import { log as defaultLog, type Logger } from './log.js';
import { ensureDesktopNetwork, type DesktopNetwork, type DesktopNetworkOptions } from './network.js';
import {
  basicAuthSecretRefs,
  sessionMapFromPods,
  type DesktopEntry,
  type SessionMap,
} from './session-map.js';
import type { MapFile } from './standin-server.js';
import type { StandinInfo } from './standin-page.js';

export interface StandinsOptions {
  /** Kubeconfig to watch pods with (the admin kubeconfig of the local cluster). */
  kubeconfig: string;
  /** Watch the session pods of one namespace only (default: all namespaces). */
  namespace?: string;
  /** The desktop network (default: vdi-desktops, pod range of the local cluster). */
  network?: DesktopNetworkOptions;
  /** The port desktops listen on (default DESKTOP_PORT, 8080, what session Services target). */
  port?: number;
  /** Where map files and the stand-in log live (default .vdi/access/standins). */
  dir?: string;
  startTimeoutMs?: number;
  log?: Logger;
}

export interface RunningStandins {
  network: DesktopNetwork;
  port: number;
  /** Pid of the shared stand-in process (inside the desktop network). */
  pid: number;
  /** The stand-in's log (shared by every watcher). */
  logFile: string;
  /** The map this watcher publishes now. */
  sessions(): SessionMap;
  /**
   * Waits until the stand-in answers at `podIp` with a session (from the host, into the
   * namespace); `authorization` opens a desktop whose pod turns basic auth on.
   */
  waitForPod(podIp: string, timeoutMs?: number, authorization?: string): Promise<StandinInfo>;
  stop(): Promise<void>;
}

function httpJson<T>(
  url: string,
  timeoutMs = 1500,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: T | undefined }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: timeoutMs, headers }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => {
        let body: T | undefined;
        try {
          body = JSON.parse(text) as T;
        } catch {
          body = undefined;
        }
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: no answer within ${timeoutMs} ms`)));
  });
}

interface Health {
  standin: boolean;
  pid: number;
  mapsDir: string;
  maps: string[];
  sessions: number;
}

/** How to run a module of this package with node: TypeScript sources through tsx, or the build. */
function nodeArgsFor(moduleBase: string): string[] {
  const fromSource = import.meta.url.endsWith('.ts');
  const file = path.join(import.meta.dirname, `${moduleBase}.${fromSource ? 'ts' : 'js'}`);
  return fromSource ? ['--conditions=@vdi/source', '--import', 'tsx', file] : [file];
}

function podsInformer(kc: k8s.KubeConfig, namespace: string | undefined) {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const labelSelector = LABEL_SESSION;
  return namespace
    ? k8s.makeInformer<k8s.V1Pod>(
        kc,
        `/api/v1/namespaces/${namespace}/pods`,
        () => core.listNamespacedPod({ namespace, labelSelector }),
        labelSelector,
      )
    : k8s.makeInformer<k8s.V1Pod>(
        kc,
        '/api/v1/pods',
        () => core.listPodForAllNamespaces({ labelSelector }),
        labelSelector,
      );
}

export async function startStandins(o: StandinsOptions): Promise<RunningStandins> {
  const log = o.log ?? defaultLog;
  const port = o.port ?? DESKTOP_PORT;
  const podCidr = o.network?.podCidr ?? loadConfig().podCidr;
  const network = ensureDesktopNetwork({ ...o.network, podCidr });
  const dir = o.dir ?? path.join(loadConfig().stateDir, '..', 'access', 'standins');
  const mapsDir = path.join(dir, `${network.netns}-${port}`, 'maps');
  mkdirSync(mapsDir, { recursive: true });
  const logFile = path.join(dir, `${network.netns}-${port}.log`);
  const id = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const mapFile = path.join(mapsDir, `${id}.json`);
  const healthUrl = `http://${network.netnsAddress}:${port}/health`;

  // 1. Watch the session pods and publish the map (written atomically: the server may read any time).
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(o.kubeconfig);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const informers = new InformerSet((msg, fields) => log.warn(msg, { component: 'standins', ...fields }));
  const pods = informers.add('session pods', podsInformer(kc, o.namespace));
  let current: SessionMap = {};
  // The Secrets that basic-auth passwords come from, read fresh for each map (a session created
  // again under its name has a new password).
  const readSecrets = async (list: readonly k8s.V1Pod[]) => {
    const found = new Map<string, Record<string, string>>();
    for (const ref of basicAuthSecretRefs(list)) {
      try {
        const secret = await core.readNamespacedSecret(ref);
        const data = Object.fromEntries(
          Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]),
        );
        found.set(`${ref.namespace}/${ref.name}`, data);
      } catch {
        /* not there yet: the desktop refuses everything until a retry reads it */
      }
    }
    return (namespace: string, name: string) => found.get(`${namespace}/${name}`);
  };
  let retry: NodeJS.Timeout | undefined;
  const publishNow = async () => {
    const list = pods.list();
    const map = sessionMapFromPods(list, podCidr, await readSecrets(list));
    if (stopped) return;
    current = map;
    const body: MapFile = { ownerPid: process.pid, writtenAt: Date.now(), map: current };
    writeFileSync(`${mapFile}.tmp`, JSON.stringify(body));
    renameSync(`${mapFile}.tmp`, mapFile);
    clearTimeout(retry);
    if (Object.values(current).some((e) => e.basicAuth && 'unreadable' in e.basicAuth)) {
      retry = setTimeout(schedule, 1000);
    }
  };
  // One publication at a time, the last change always published.
  let publishing: Promise<void> = Promise.resolve();
  const publish = () => {
    publishing = publishing
      .then(publishNow)
      .catch((err: Error) =>
        log.warn('publishing the session map failed', { component: 'standins', error: err.message }),
      );
    return publishing;
  };
  let pending: NodeJS.Timeout | undefined;
  const schedule = () => {
    clearTimeout(pending);
    pending = setTimeout(() => {
      if (!stopped) void publish();
    }, 10);
  };
  pods.on('change', schedule);
  let stopped = false;
  await informers.start();
  await publish();

  // 2. Find or start the shared stand-in process, and wait until it has read our map file.
  const deadline = Date.now() + (o.startTimeoutMs ?? 20_000);
  let spawned: number | undefined;
  let pid: number | undefined;
  try {
    for (;;) {
      const h = await httpJson<Health>(healthUrl).catch(() => undefined);
      if (h?.status === 200 && h.body?.standin) {
        if (h.body.mapsDir !== mapsDir) {
          throw new Error(
            `a stand-in of another state directory (${h.body.mapsDir}, pid ${h.body.pid}) serves ${network.netns}:${port}; stop it (kill ${h.body.pid}) or use its checkout`,
          );
        }
        if (h.body.maps.includes(id)) {
          pid = h.body.pid;
          break;
        }
      } else if (spawned === undefined || !isAlive(spawned)) {
        spawned = spawnStandin(network, port, mapsDir, logFile);
      }
      if (Date.now() > deadline) {
        throw new Error(
          `the desktop stand-in did not answer at ${healthUrl} with this watcher's map within ${o.startTimeoutMs ?? 20_000} ms; see ${logFile}\n${tail(logFile)}`,
        );
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (err) {
    stopped = true;
    clearTimeout(pending);
    clearTimeout(retry);
    await informers.stop();
    await publishing;
    rmSync(mapFile, { force: true });
    throw err;
  }
  log.info('desktop stand-ins ready', {
    component: 'standins',
    netns: network.netns,
    port,
    pid,
    reused: spawned === undefined,
    namespace: o.namespace ?? '(all)',
    sessions: Object.keys(current).length,
    log: logFile,
  });

  const serverPid = pid;
  return {
    network,
    port,
    pid: serverPid,
    logFile,
    sessions: () => ({ ...current }),
    async waitForPod(podIp: string, timeoutMs = 15_000, authorization?: string): Promise<StandinInfo> {
      const until = Date.now() + timeoutMs;
      let last = '';
      for (;;) {
        const r = await httpJson<StandinInfo>(
          `http://${podIp}:${port}/standin.json`,
          1500,
          authorization ? { authorization } : {},
        ).catch((e: Error) => {
          last = e.message;
          return undefined;
        });
        if (r?.status === 200 && r.body?.session) return r.body;
        if (r) last = `HTTP ${r.status}`;
        if (Date.now() > until) {
          throw new Error(
            `no stand-in session at ${podIp}:${port} within ${timeoutMs} ms (last: ${last}); is the pod Running with that IP and in a watched namespace (${o.namespace ?? 'all'})?`,
          );
        }
        await new Promise((r2) => setTimeout(r2, 100));
      }
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      clearTimeout(pending);
      clearTimeout(retry);
      await informers.stop();
      await publishing;
      rmSync(mapFile, { force: true });
      // When ours was the last map, the server exits on its own shortly: wait for that, so a
      // caller that stops everything leaves no process behind.
      const h = await httpJson<Health>(healthUrl).catch(() => undefined);
      const others = (h?.body?.maps ?? []).filter((m) => m !== id);
      if (others.length === 0) {
        const until = Date.now() + 10_000;
        while (isAlive(serverPid) && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
      }
    },
  };
}

/**
 * Starts the stand-in process inside the namespace, detached: it outlives a watcher that dies
 * only until it prunes that watcher's map file. If another watcher's stand-in wins the race for
 * the port, this one exits (EXIT_ADDRESS_IN_USE) and the caller's loop reuses the winner.
 */
function spawnStandin(network: DesktopNetwork, port: number, mapsDir: string, logFile: string): number {
  const fd = openSync(logFile, 'a');
  const child = spawn(
    'ip',
    [
      'netns',
      'exec',
      network.netns,
      process.execPath,
      ...nodeArgsFor('standin-main'),
      '--port',
      String(port),
      '--maps-dir',
      mapsDir,
    ],
    { detached: true, stdio: ['ignore', fd, fd], cwd: repoRoot },
  );
  closeSync(fd);
  if (child.pid === undefined)
    throw new Error(`could not run 'ip netns exec ${network.netns} node'; see ${logFile}`);
  child.unref();
  return child.pid;
}

export type { DesktopEntry };
