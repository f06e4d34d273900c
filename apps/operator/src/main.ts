/**
 * The session operator's process: configuration, wiring and lifecycle. The logic lives in
 * engine/ (queue, caches, reconcile, leader election) and in libs/session-spec.
 *
 * Start-up: validate config → caches list and watch (every replica, so a standby is warm) →
 * campaign for the Lease → as leader: framework watches wake the queue, every session is
 * queued once, and a periodic resync re-applies everything. SIGTERM drains the workers,
 * releases the Lease and exits.
 */
import * as k8s from '@kubernetes/client-node';
import { KubeApiError, KubeJsonClient } from '@vdi/kube-client';
import { poolKeyId, secretWeakness } from '@vdi/session-spec';
import { pino } from 'pino';
import { ConfigError, loadOperatorConfig, type OperatorConfig } from './config.js';
import { Caches } from './engine/caches.js';
import { KubeEventRecorder } from './engine/events.js';
import { EventKeys } from './engine/handlers.js';
import { LeaderElector } from './engine/leader.js';
import { OperatorMetrics, startHttpServer } from './engine/metrics.js';
import { PrepullCaches, PrepullController, templateSelected } from './engine/prepull.js';
import { PoolManager } from './engine/pools.js';
import { Reconciler, START_STEPS_WINDOW_MS } from './engine/reconcile.js';
import { startTurnRestServer } from './engine/turn-rest.js';
import { TemplateStatusWriter } from './engine/templates.js';
import { GpuAccountant } from './engine/usage.js';
import { ViewerWatch } from './engine/viewers.js';
import { PRIORITIES, TerminalError, WorkQueue, type Priority } from './engine/work-queue.js';
import { VdiSessionOperator } from './framework.js';

const log = pino({
  base: { component: 'vdi-operator' },
  timestamp: pino.stdTimeFunctions.isoTime,
  level: process.env.LOG_LEVEL ?? 'info',
});

let config: OperatorConfig;
try {
  config = loadOperatorConfig();
} catch (err) {
  log.fatal(
    { err: (err as Error).message },
    err instanceof ConfigError ? 'invalid configuration' : 'cannot start',
  );
  process.exit(1);
}

const kc = new k8s.KubeConfig();
kc.loadFromDefault();
const client = new KubeJsonClient(kc);
const metrics = new OperatorMetrics();
const events = new KubeEventRecorder(
  client,
  log.child({ module: 'events' }),
  'vdi-operator',
  config.leaderElection.identity,
  {
    onDrop: () => metrics.eventsDropped.inc(),
    // Events wait while desktops are being started (events.ts; Warnings never wait).
    busy: starting,
  },
);
const ns = config.sessionsNamespace;
/** Sessions wait to be started or reported Running (the queue's `finish` and `new` lines). */
function othersWaiting(): boolean {
  return queue.depthOf('finish') + queue.depthOf('new') > 0;
}
/**
 * Desktops are being started: sessions wait in the queue to be started or reported Running, or a
 * burst is on its way to Running (from as many sessions starting as there are workers until none
 * is; starting.ts). A write that can wait (an Event, a GPU-hour round) waits then, so it does not
 * compete with the starts.
 */
function starting(): boolean {
  return caches.starting.burst(config.workers) || othersWaiting();
}

let secretCache: { value: string; at: number } | undefined;
async function turnSecret(): Promise<string> {
  if (secretCache && Date.now() - secretCache.at < 60_000) return secretCache.value;
  const { namespace, name, key } = config.turnSecretRef;
  const secret = await client.get<k8s.V1Secret>({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace },
  });
  const data = secret?.data?.[key];
  if (!data) {
    throw new TerminalError(
      `Secret ${namespace}/${name} ${secret ? `has no key ${key}` : 'does not exist'}: create it with coturn's static-auth-secret (see README, "TURN")`,
    );
  }
  const value = Buffer.from(data, 'base64').toString('utf8');
  const weakness = secretWeakness(value);
  if (weakness && config.environment !== 'dev') {
    throw new TerminalError(
      `Secret ${namespace}/${name} key ${key} is unfit as coturn's static-auth-secret: ${weakness}. Replace it (see deploy/README.md, "TURN") or run with VDI_ENVIRONMENT=dev`,
    );
  }
  secretCache = { value, at: Date.now() };
  return secretCache.value;
}

let leading = !config.leaderElection.enabled;
// Cache events only arrive after caches.start(), when the queue below exists.
const enqueue = (key: string, priority?: Priority) => {
  if (leading) queue.add(key, priority);
};
const enqueueSoon = (key: string) => {
  if (leading) queue.addSoon(key, START_STEPS_WINDOW_MS);
};
const keys = new EventKeys(
  ns,
  () => caches.sessions.list(ns),
  (hash) => caches.owners.keys(hash),
);
const wake = (list: string[]) => list.forEach((key) => enqueue(key));
// Template status (Ready, Sessions) follows the template and the sessions made from it.
const templateStatus = (name: string) => {
  if (leading && templateWriter) templateWriter.add(name);
};
// A session came, changed or went: its template's count, batched (TemplateStatusWriter.addCount).
const templateCount = (name: string) => {
  if (leading && templateWriter) templateWriter.addCount(name);
};
const caches = new Caches(
  kc,
  ns,
  log.child({ module: 'caches' }),
  {
    session: (s, event) => {
      templateCount(s.spec.template);
      if (event === 'delete' && leading) pools.sessionGone(s);
      // The echo of the operator's own finalizer or status write: that reconcile already acted on it.
      if (event === 'update' && reconciler.isOwnSessionWrite(s)) {
        reconciler.cacheHas(s);
        return;
      }
      // Seen here first or not, the cache's event wakes (reconciles read the cache); the
      // framework's copy of this version then wakes nobody (EventKeys.cached).
      keys.cached(
        'session',
        s.metadata.namespace!,
        s.metadata.name!,
        s.metadata.resourceVersion,
        event === 'delete',
      );
      // A new or edited session goes before status refreshes (work-queue.ts, priorities).
      for (const key of keys.session(s)) enqueue(key, keys.sessionPriority(s));
    },
    template: (t, event) => {
      templateStatus(t.metadata!.name!);
      prepull.template(t.metadata!.name!);
      if (leading) pools.template(t.metadata!.name!);
      keys.cached('template', '', t.metadata!.name!, t.metadata!.resourceVersion, event === 'delete');
      // Its sessions when its spec changed, not for a status write (EventKeys.templateEvent).
      wake(keys.templateEvent(t.metadata!.name!, t.metadata!.generation, event === 'delete'));
    },
    pod: (p) => {
      // A warm pool's pod: its pool syncs (refill, counts).
      if (leading) pools.pod(p);
      // A desktop becoming ready goes before other refreshes: its owner waits for Running.
      for (const key of keys.pod(p)) {
        const [, name] = key.split('/') as [string, string];
        const priority = keys.podPriority(p, caches.sessions.get(name, ns));
        // Ready or failed: at once. Every other step of a start: batched (START_STEPS_WINDOW_MS).
        if (priority === 'refresh') enqueueSoon(key);
        else enqueue(key, priority);
      }
    },
    node: (n, event) => wake(keys.node(n, event)),
    pool: (p) => {
      if (leading) pools.add(p.metadata.name!);
    },
    claim: (c, event) => {
      // A deleted claim is applied again at the next look, not trusted as on its way.
      if (event === 'delete') reconciler.forgetChild({ ...c, kind: 'PersistentVolumeClaim' });
      // A claim provisioned, placed or bound is a step of a start: batched with the pod's.
      keys.claim(c).forEach(enqueueSoon);
    },
    // A child changed by anyone but this process (an edit, a deletion) wakes its session, which
    // applies it again; the echo of our own apply wakes nobody.
    child: (c, event) => {
      if (event === 'delete') reconciler.forgetChild(c);
      else if (reconciler.isOwnWrite(c)) return;
      wake(keys.child(c));
    },
  },
  config.platform.gpuResourceName,
);
// Image pre-pull: puller DaemonSets in the operator's own namespace (its Lease's), for the
// templates it answers for; their counts go into the template status written above.
const prepullCaches = new PrepullCaches(
  kc,
  client,
  config.leaderElection.namespace,
  log.child({ module: 'prepull' }),
  {
    daemonSet: (d) => prepull.daemonSet(d),
    pod: (p) => prepull.pod(p),
  },
);
const prepull = new PrepullController({
  client,
  templates: caches.templates,
  daemonSets: prepullCaches.daemonSets,
  pods: prepullCaches.pods,
  namespace: config.leaderElection.namespace,
  enabled: config.prepull.enabled && config.templateStatus !== 'off',
  pauseImage: config.prepull.pauseImage,
  selected: (t) => templateSelected(config.templateStatus, t),
  statusChanged: templateStatus,
  log: log.child({ module: 'prepull' }),
});
const templateWriter =
  config.templateStatus === 'off'
    ? undefined
    : new TemplateStatusWriter({
        selector: config.templateStatus,
        caches,
        client,
        namespace: ns,
        log: log.child({ module: 'templates' }),
        prepull: (t) => prepull.status(t),
      });
const viewers = new ViewerWatch({
  caches,
  sessionKey: config.sessionKey,
  intervalSeconds: config.viewerPollSeconds,
  enqueue,
  log: log.child({ module: 'viewers' }),
  count: (outcome) => metrics.viewerLooks.inc({ outcome }),
});
const accountant = new GpuAccountant({
  client,
  caches,
  namespace: ns,
  gpuResource: config.platform.gpuResourceName,
  intervalSeconds: config.usageIntervalSeconds,
  checkpointSeconds: config.usageCheckpointSeconds,
  warnSeconds: config.budgetWarnSeconds,
  events,
  log: log.child({ module: 'usage' }),
  count: (outcome) => metrics.usageWrites.inc({ outcome }),
  roundTook: (seconds) => metrics.usageRound.observe(seconds),
  // Ledger writes wait while desktops are being started (at most five minutes or one interval).
  busy: starting,
});
const pools = new PoolManager({
  caches,
  client,
  config,
  log: log.child({ module: 'pools' }),
  events,
});
const reconciler = new Reconciler({
  caches,
  client,
  config,
  log: log.child({ module: 'reconcile' }),
  events,
  viewers,
  pools,
  othersWaiting,
  // A burst of starts (as many starting as there are workers, until none is): progress waits.
  quietStarts: () => caches.starting.burst(config.workers),
});
const queue: WorkQueue = new WorkQueue({
  workers: config.workers,
  handler: (key) => reconciler.reconcile(key),
  onResult: (key, outcome, ms, err) => {
    metrics.reconcileDuration.observe({ outcome }, ms / 1000);
    for (const priority of PRIORITIES) metrics.queueDepth.set({ priority }, queue.depthOf(priority));
    if (outcome === 'retry' || outcome === 'terminal') {
      metrics.reconcileErrors.inc({ kind: outcome });
      const conflict = err instanceof KubeApiError && err.conflict;
      log[conflict ? 'debug' : 'warn'](
        {
          key,
          outcome,
          err: err instanceof Error ? err.message : String(err),
          retries: queue.failuresOf(key),
        },
        'reconcile failed',
      );
    }
  },
});

const framework = new VdiSessionOperator(
  ns,
  {
    session: (n, name, s, deleted) => {
      if (!deleted && reconciler.isOwnSessionWrite(s)) return;
      // The cache delivered this version already (and woke the session for it).
      if (!deleted && keys.cachedAlready('session', n, name, s.metadata?.resourceVersion)) return;
      enqueue(`${n}/${name}`, keys.sessionPriority(s));
    },
    template: (name, resourceVersion, generation) => {
      if (!keys.cachedAlready('template', '', name, resourceVersion))
        wake(keys.templateEvent(name, generation, resourceVersion === undefined, false));
    },
  },
  {
    debug: (m) => log.debug({ module: 'framework' }, m),
    info: (m) => log.info({ module: 'framework' }, m),
    warn: (m) => log.warn({ module: 'framework' }, m),
    error: (m) => log.error({ module: 'framework' }, m),
  },
);
function resync(): void {
  const phases = new Map<string, number>();
  for (const s of caches.sessions.list(ns)) {
    const phase = s.status?.phase ?? 'Pending';
    phases.set(phase, (phases.get(phase) ?? 0) + 1);
  }
  metrics.sessionsByPhase.reset();
  for (const [phase, n] of phases) metrics.sessionsByPhase.set({ phase }, n);
}

async function becomeLeader(): Promise<void> {
  leading = true;
  metrics.leader.set(1);
  // Every cached session once. The framework's first list, which repeats every session and
  // template at the version the caches delivered, wakes nobody again (EventKeys.cached).
  for (const s of caches.sessions.list(ns)) queue.add(`${ns}/${s.metadata.name}`);
  for (const t of caches.templates.list()) templateStatus(t.metadata.name!);
  pools.addAll();
  prepull.lead();
  await framework.start();
  viewers.start();
  accountant.start();
  setInterval(() => {
    reconciler.forgetApplied();
    for (const s of caches.sessions.list(ns)) queue.add(`${ns}/${s.metadata.name}`);
    pools.addAll();
  }, config.resyncSeconds * 1000).unref();
}

const server = await startHttpServer(
  config.metricsPort,
  metrics,
  () => caches.synced,
  process.env.VDI_METRICS_HOST ?? '0.0.0.0',
);
setInterval(resync, 10_000).unref();
log.info(
  {
    namespace: ns,
    workers: config.workers,
    identity: config.leaderElection.identity,
    metricsPort: config.metricsPort,
  },
  'starting',
);
await Promise.all([caches.start(), prepullCaches.start()]);
log.info('caches synced');
// Every replica looks who holds GPU time-slices, so a new leader can count a desktop that ended
// before it led up to when it was last seen (the leader also counts and writes; start()).
accountant.observe();
// After the caches: answering from an empty cache would refuse every desktop.
const turnRest = await startTurnRestServer(config.turnRestListen.port, config.turnRestListen.host, {
  sessions: (namespace, name) => caches.sessions.get(name, namespace),
  turnSecret,
  sessionKey: config.sessionKey,
  servers: [config.platform.turn, ...(config.platform.turnAlternatives ?? [])],
  ttlSeconds: config.turnCredentialTtlSeconds,
  log: log.child({ module: 'turn-rest' }),
  registry: metrics.registry,
});
const turnRestAddress = turnRest.address();
log.info(
  {
    listen: typeof turnRestAddress === 'object' && turnRestAddress ? turnRestAddress.port : turnRestAddress,
    url: config.platform.turnRest.url,
  },
  'TURN REST endpoint ready',
);

const elector = new LeaderElector(
  client,
  {
    ...config.leaderElection,
    // The session key's fingerprint (never the key) on the Lease: replicas with different keys are told.
    keyId: poolKeyId(config.sessionKey),
    keyMismatch: (mismatch) => metrics.sessionKeyMismatch.set(mismatch ? 1 : 0),
  },
  log.child({ module: 'leader' }),
);
if (config.leaderElection.enabled) {
  elector.run(
    () => void becomeLeader(),
    () => {
      // Another replica may be writing now: stop at once; the Deployment restarts us as a standby.
      process.exit(1);
    },
  );
} else {
  await becomeLeader();
}

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'draining workers');
  leading = false;
  accountant.stop();
  await Promise.all([queue.shutdown(), pools.shutdown(), templateWriter?.shutdown(), prepull.shutdown()]);
  // The Events of what was done are sent before leaving (a bounded wait).
  await events.flush(2_000);
  await elector.stop();
  await Promise.all([caches.stop(), prepullCaches.stop()]);
  server.close();
  turnRest.close();
  log.info('stopped');
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
