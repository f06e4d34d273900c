/**
 * Chaos: a churn of sessions (creations, deletions, re-creations of deleted names) while the
 * operator is SIGKILLed at random every few seconds — and restarted at once under the same
 * identity, as a container restart keeps its pod name — and kube-apiserver is killed and started
 * again once. Afterwards, without further faults, the time until the end state is right (see
 * invariants.ts), and, with `drain`, that deleting every session leaves nothing behind.
 *
 * Needs a cluster of its own for the API server restart (BenchCluster.own).
 */
import { readFileSync } from 'node:fs';
import { API_VERSION, type VDISession } from '@vdi/crd-types';
import { KubeApiError, type KubeJsonClient } from '@vdi/kube-client';
import { LABEL_SESSION } from '@vdi/session-spec';
import type * as k8s from '@kubernetes/client-node';
import type { Builds } from './build.js';
import type { BenchCluster } from './cluster.js';
import {
  checkInvariants,
  problemCount,
  type ChildView,
  type InvariantReport,
  type SessionView,
} from './invariants.js';
import { CHILD_KINDS, createSession, operatorEnv, type Persistence } from './kube.js';
import { startOperator, type OperatorProcess } from './operator.js';
import { phaseWorld } from './setup.js';

type Log = (msg: string) => void;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface ChaosOptions {
  /** Sessions created over the churn (re-creations not counted). */
  sessions: number;
  /** The churn lasts about this long. */
  churnSeconds: number;
  /** An operator process is SIGKILLed a random [min, max] ms after it became ready. */
  killEveryMs: [number, number];
  restartApiserver: boolean;
  /** Keep killing after the churn until this many kills happened (at most 2 more minutes). */
  minKills?: number;
  /** Share of the sessions deleted during the churn, and of those created again under the same name. */
  deleteShare: number;
  recreateShare: number;
  persistence: Persistence;
  convergeTimeoutMs: number;
  /** Then delete every session and check that nothing is left. */
  drain: boolean;
  /** Random source (tests pass a seeded one). */
  random?: () => number;
}

export interface ChaosResult {
  sessions: number;
  deleted: number;
  recreated: number;
  live: number;
  kills: number;
  operatorStarts: number;
  apiserverDownMs?: number;
  churnMs: number;
  converged: boolean;
  convergeMs: number;
  invariants: InvariantReport;
  /** Client calls that failed and were retried (mostly while the API server was away). */
  clientRetries: number;
  drain?: { ms: number; sessionsLeft: number; childrenLeft: number; stuckFinalizers: string[] };
  /** Last lines of the operator's logs, for a failed run. */
  operatorLogTail: string[];
  /** When it did not converge: one block per stuck session (its phase, conditions and pods). */
  stuck?: string[];
}

/** The pod fields a diagnosis shows. */
type PodView = Pick<k8s.V1Pod, 'metadata' | 'spec' | 'status'>;

/**
 * The sessions an invariant report names (each problem starts with `<session>:`; a leaked child
 * names its session after `session `), in first-seen order.
 */
export function stuckSessionNames(r: InvariantReport): string[] {
  const names = new Set<string>();
  for (const p of [...r.notRunning, ...r.stuckFinalizers, ...r.duplicatePods, ...r.unexpected])
    names.add(p.slice(0, p.indexOf(':')));
  for (const p of r.leakedChildren) {
    const m = /session (\S+?)[: ]/.exec(p) ?? /not (\S+) \(/.exec(p);
    if (m) names.add(m[1]!);
  }
  names.delete('');
  return [...names];
}

const conditionLine = (c: { type: string; status: string; reason?: string; message?: string }) =>
  `${c.type}=${c.status}${c.reason ? ` (${c.reason}${c.message ? `: ${c.message}` : ''})` : c.message ? ` (${c.message})` : ''}`;

/** One line per pod: phase, node, deletion, conditions that are not True, container states. */
function podLine(pod: PodView): string {
  const st = pod.status ?? {};
  const containers = (st.containerStatuses ?? []).map((c) => {
    const w = c.state?.waiting;
    const t = c.state?.terminated;
    const state = w ? `waiting ${w.reason ?? ''}` : t ? `terminated ${t.reason ?? t.exitCode}` : 'running';
    return `${c.name} ${state.trim()}${c.restartCount ? ` (${c.restartCount} restarts)` : ''}`;
  });
  const conditions = (st.conditions ?? []).filter((c) => c.status !== 'True').map(conditionLine);
  return (
    `    pod ${pod.metadata?.name} (uid ${pod.metadata?.uid}): ${st.phase ?? 'no phase'}` +
    `, node ${pod.spec?.nodeName ?? 'none'}` +
    (pod.metadata?.deletionTimestamp ? `, deleted at ${String(pod.metadata.deletionTimestamp)}` : '') +
    (conditions.length ? `; not true: ${conditions.join(', ')}` : '') +
    (containers.length ? `; containers: ${containers.join(', ')}` : '')
  );
}

/**
 * One block per stuck session, as the API server holds it: the session's phase, deletion,
 * finalizers and conditions, then each pod with its label — what a run that did not converge
 * prints before it fails.
 */
export function describeStuckSessions(
  names: readonly string[],
  sessions: readonly VDISession[],
  pods: readonly PodView[],
): string[] {
  const byName = new Map(sessions.map((s) => [s.metadata.name!, s]));
  const out: string[] = [];
  for (const name of names) {
    const s = byName.get(name);
    const block = [
      s
        ? `session ${name} (uid ${s.metadata.uid}): phase ${s.status?.phase ?? 'none'}` +
          (s.status?.reason ? ` (${s.status.reason})` : '') +
          (s.metadata.deletionTimestamp ? `, deleted at ${String(s.metadata.deletionTimestamp)}` : '') +
          `, finalizers ${(s.metadata.finalizers ?? []).join(', ') || 'none'}`
        : `session ${name}: not in the API server`,
    ];
    for (const c of s?.status?.conditions ?? []) block.push(`    condition ${conditionLine(c)}`);
    const own = pods.filter((p) => p.metadata?.labels?.[LABEL_SESSION] === name);
    if (own.length === 0) block.push('    no pod');
    for (const p of own) block.push(podLine(p));
    out.push(block.join('\n'));
  }
  return out;
}

/**
 * The components that place pods and bind volumes, for a run that did not converge: whether each
 * process is still alive, and the end of its log (a scheduler that stopped placing pods after the
 * API server's restart has said so there, or said nothing at all).
 */
export function describeComponents(
  processes: readonly { name: string; pid: number; log: string }[],
  names: readonly string[] = ['kube-scheduler', 'kube-controller-manager'],
  lines = 25,
): string[] {
  return names.map((name) => {
    const p = processes.find((x) => x.name === name);
    if (!p) return `${name}: not among the cluster's processes`;
    let alive = true;
    try {
      process.kill(p.pid, 0);
    } catch {
      alive = false;
    }
    let tail: string;
    try {
      tail = readFileSync(p.log, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch (err) {
      tail = `(its log ${p.log} could not be read: ${String(err)})`;
    }
    return `${name} (pid ${p.pid}, ${alive ? 'alive' : 'gone'}): the last ${lines} lines of ${p.log}:\n${tail}`;
  });
}

/** Reads the stuck sessions and their pods and describes them (see describeStuckSessions). */
async function diagnoseStuck(
  client: KubeJsonClient,
  namespace: string,
  report: InvariantReport,
  limit = 30,
): Promise<string[]> {
  const names = stuckSessionNames(report);
  const sessions = await client.call<{ items: VDISession[] }>(
    'GET',
    `/apis/${API_VERSION}/namespaces/${namespace}/vdisessions`,
  );
  const pods = await client.call<{ items: PodView[] }>(
    'GET',
    `/api/v1/namespaces/${namespace}/pods?labelSelector=${encodeURIComponent(LABEL_SESSION)}`,
  );
  const blocks = describeStuckSessions(names.slice(0, limit), sessions.items, pods.items);
  if (names.length > limit) blocks.push(`… and ${names.length - limit} more sessions`);
  return blocks;
}

export async function listSessions(client: KubeJsonClient, namespace: string): Promise<SessionView[]> {
  const r = await client.call<{ items: VDISession[] }>(
    'GET',
    `/apis/${API_VERSION}/namespaces/${namespace}/vdisessions`,
  );
  return r.items.map((s) => ({
    name: s.metadata.name!,
    uid: s.metadata.uid!,
    ...(s.metadata.deletionTimestamp ? { deletionTimestamp: String(s.metadata.deletionTimestamp) } : {}),
    finalizers: s.metadata.finalizers ?? [],
    ...(s.status?.phase ? { phase: s.status.phase } : {}),
  }));
}

/** Every object of the namespace with the session label (per-user homes carry none). */
export async function listChildren(client: KubeJsonClient, namespace: string): Promise<ChildView[]> {
  const lists = await Promise.all(
    CHILD_KINDS.map(async ([base, plural]) => {
      const r = await client.call<{
        items: {
          metadata: {
            name: string;
            labels: Record<string, string>;
            deletionTimestamp?: string;
            ownerReferences?: ChildView['ownerReferences'];
          };
        }[];
      }>(
        'GET',
        `${base}/namespaces/${namespace}/${plural}?labelSelector=${encodeURIComponent(LABEL_SESSION)}`,
      );
      return r.items.map(({ metadata: m }): ChildView => ({
        kind: plural,
        name: m.name,
        session: m.labels[LABEL_SESSION]!,
        ...(m.deletionTimestamp ? { deletionTimestamp: m.deletionTimestamp } : {}),
        ownerReferences: m.ownerReferences ?? [],
      }));
    }),
  );
  return lists.flat();
}

/** Retries `fn` while the API server is away or overloaded (connection errors, 5xx, 429). */
async function retrying<T>(
  what: string,
  fn: () => Promise<T>,
  onRetry: () => void,
  timeoutMs = 120_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const transient = !(err instanceof KubeApiError) || err.status >= 500 || err.status === 429;
      if (!transient || Date.now() > deadline) throw new Error(`${what}: ${String(err)}`);
      onRetry();
      await sleep(Math.min(2_000, 100 * 2 ** attempt));
    }
  }
}

export async function runChaos(
  cluster: BenchCluster,
  builds: Builds,
  o: ChaosOptions,
  log: Log,
): Promise<ChaosResult> {
  if (o.restartApiserver && !cluster.own)
    throw new Error('chaos restarts the API server: it needs a cluster of its own');
  const random = o.random ?? Math.random;
  const perNode = 32; // 4 GPUs × 8 time-slices
  const world = await phaseWorld(
    cluster,
    'chaos',
    { count: Math.ceil((o.sessions * 1.1) / perNode), gpus: 4, slices: 8 },
    o.persistence,
    log,
  );
  const { client, namespace } = world;
  const identity = `chaos-${world.runId}`;
  const logTail: string[] = [];
  let current: OperatorProcess | undefined;
  let supervising = true;
  let starts = 0;
  let kills = 0;
  let retries = 0;
  const onRetry = () => void retries++;

  // The supervisor: a new operator process as soon as the last one is gone (as the kubelet
  // restarts a container, without its back-off), the same identity so the Lease is its own.
  const supervisor = (async () => {
    while (supervising) {
      try {
        const op = await startOperator({
          builds,
          kubeconfig: cluster.kubeconfig,
          apiserverHost: cluster.apiserverHost,
          // The start deadline is policy, not what chaos tests: a session queued while the operator
          // is killed again and again must not be failed for good before the faults end.
          env: { ...operatorEnv(namespace), VDI_RESYNC_SECONDS: '60', VDI_START_DEADLINE_SECONDS: '3600' },
          identity,
          readyTimeoutMs: 120_000,
        });
        current = op;
        starts++;
        await op.exited;
        logTail.push(...op.logs.slice(-20));
        logTail.splice(0, Math.max(0, logTail.length - 200));
      } catch (err) {
        logTail.push(`start failed: ${String(err).slice(0, 300)}`);
        await sleep(500);
      }
      if (supervising) await sleep(200);
    }
  })();

  try {
    // The churn.
    const live = new Set<string>();
    let recreated = 0;
    let deleted = 0;
    let churning = true;
    // Each operator process lives a random 2–5 s (by default) after it became ready, then is killed.
    const killer = (async () => {
      while (churning) {
        const op = current;
        if (!op?.alive()) {
          await sleep(100);
          continue;
        }
        await sleep(o.killEveryMs[0] + random() * (o.killEveryMs[1] - o.killEveryMs[0]));
        if (churning && op === current && op.alive()) {
          op.proc.kill('SIGKILL');
          kills++;
        }
      }
    })();
    const t0 = Date.now();
    const interval = (o.churnSeconds * 1000) / o.sessions;
    const toDelete = Math.round(o.sessions * o.deleteShare);
    const toRecreate = Math.round(toDelete * o.recreateShare);
    let apiserverDownMs: number | undefined;
    const restart =
      o.restartApiserver &&
      (async () => {
        await sleep(o.churnSeconds * 400);
        log('chaos: restarting kube-apiserver');
        apiserverDownMs = await cluster.restartApiserver();
      })();
    const inFlight = new Set<Promise<void>>();
    const run = (p: Promise<void>) => {
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
    };
    const create = async (name: string) => {
      await retrying(
        `create ${name}`,
        async () => {
          try {
            await createSession(
              client,
              namespace,
              name,
              world.template.metadata.name!,
              `${name}@chaos.example.com`,
            );
          } catch (err) {
            // Already there: our own earlier attempt got through, or the deleted namesake is still
            // being finalized (then try again until it is gone).
            if (!(err instanceof KubeApiError && err.conflict)) throw err;
            const s = await client.get<VDISession>({
              apiVersion: API_VERSION,
              kind: 'VDISession',
              metadata: { name, namespace },
            });
            if (!s || s.metadata.deletionTimestamp)
              throw new KubeApiError(503, 'Retry', `${name} is still being deleted`, {});
          }
        },
        onRetry,
        300_000,
      );
      live.add(name);
    };
    const remove = async (name: string) => {
      live.delete(name);
      await retrying(
        `delete ${name}`,
        () => client.delete({ apiVersion: API_VERSION, kind: 'VDISession', metadata: { name, namespace } }),
        onRetry,
      );
      deleted++;
    };
    // Every `step`-th creation is followed by the deletion of a random live session; every
    // `again`-th deletion by a new session of the same name (a new uid under an old name).
    const step = toDelete > 0 ? Math.max(1, Math.floor(o.sessions / toDelete)) : Infinity;
    const again = toRecreate > 0 ? Math.max(1, Math.floor(toDelete / toRecreate)) : Infinity;
    let deletes = 0;
    for (let i = 0; i < o.sessions; i++) {
      run(create(`ch-${String(i).padStart(4, '0')}`));
      const candidates = [...live];
      if (i > 0 && i % step === 0 && deletes < toDelete && candidates.length > 0) {
        const victim = candidates[Math.floor(random() * candidates.length)]!;
        const recreate = ++deletes % again === 0 && recreated < toRecreate;
        if (recreate) recreated++;
        run(
          remove(victim).then(async () => {
            if (!recreate) return;
            await sleep(random() * 1_000);
            await create(victim);
          }),
        );
      }
      while (inFlight.size >= 20) await Promise.race(inFlight);
      await sleep(interval);
    }
    await Promise.all(inFlight);
    if (restart) await restart;
    // The faults go on until at least `minKills` kills, however slowly the operator restarts.
    const killDeadline = Date.now() + 120_000;
    while (kills < (o.minKills ?? 0) && Date.now() < killDeadline) await sleep(200);
    churning = false;
    await killer;
    const churnMs = Date.now() - t0;
    log(
      `chaos: churn done in ${(churnMs / 1000).toFixed(0)} s: ${o.sessions} created, ${deleted} deleted, ${recreated} re-created, ${kills} operator kills${apiserverDownMs !== undefined ? `, API server away ${(apiserverDownMs / 1000).toFixed(1)} s` : ''}`,
    );

    // Convergence: no more faults; poll the end state.
    const t1 = Date.now();
    let report: InvariantReport = checkInvariants([], [], live);
    let converged = false;
    while (Date.now() - t1 < o.convergeTimeoutMs) {
      try {
        report = checkInvariants(
          await listSessions(client, namespace),
          await listChildren(client, namespace),
          live,
        );
        if (problemCount(report) === 0) {
          converged = true;
          break;
        }
      } catch {
        /* the API server may still be busy */
      }
      await sleep(500);
    }
    const convergeMs = Date.now() - t1;
    log(
      `chaos: ${converged ? 'converged' : 'NOT converged'} ${(convergeMs / 1000).toFixed(1)} s after the churn (${live.size} live sessions)`,
    );
    let stuck: string[] | undefined;
    if (!converged) {
      stuck = await diagnoseStuck(client, namespace, report).catch((err: unknown) => [
        `the stuck sessions could not be read: ${String(err)}`,
      ]);
      log(`chaos: ${stuck.length} stuck sessions, as the API server holds them:\n${stuck.join('\n')}`);
      for (const c of describeComponents(cluster.processes())) log(`chaos: ${c}`);
    }
    const result: ChaosResult = {
      sessions: o.sessions,
      deleted,
      recreated,
      live: live.size,
      kills,
      operatorStarts: starts,
      ...(apiserverDownMs !== undefined ? { apiserverDownMs } : {}),
      churnMs,
      converged,
      convergeMs,
      invariants: report,
      clientRetries: retries,
      operatorLogTail: [],
      ...(stuck ? { stuck } : {}),
    };

    if (o.drain) {
      const t2 = Date.now();
      for (const name of [...live]) await remove(name);
      // Until the sessions are gone and so are their children (a claim waits for its pod).
      while (Date.now() - t2 < o.convergeTimeoutMs) {
        const gone =
          (await listSessions(client, namespace)).length === 0 &&
          (await listChildren(client, namespace)).length === 0;
        if (gone) break;
        await sleep(500);
      }
      const left = await listSessions(client, namespace);
      const children = await listChildren(client, namespace);
      result.drain = {
        ms: Date.now() - t2,
        sessionsLeft: left.length,
        childrenLeft: children.length,
        stuckFinalizers: left.filter((s) => s.deletionTimestamp).map((s) => s.name),
      };
      log(
        `chaos: drained in ${(result.drain.ms / 1000).toFixed(1)} s; ${left.length} sessions and ${children.length} children left`,
      );
    }
    result.operatorLogTail = [...logTail, ...(current?.logs.slice(-20) ?? [])].slice(-60);
    return result;
  } finally {
    supervising = false;
    if (current?.alive()) await current.stop('SIGTERM');
    await supervisor;
    await world.teardown();
  }
}
