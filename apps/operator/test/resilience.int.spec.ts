/**
 * Resilience of the session operator, run as its own processes against the real control plane:
 * a SIGKILL in the middle of a burst of creations, two replicas with leader election and a
 * failover, the start deadline, create/delete cycles that must leave nothing behind, and a
 * SIGTERM that drains the workers and hands the Lease over.
 *
 * Every test starts its own replicas with a Lease of its own (VDI_LEASE_NAME), so a replica one
 * test killed never delays the next, and deletes its sessions while a replica still runs.
 * Measured numbers are written to stderr as `[resilience] …` lines.
 */
import { randomBytes } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';
import type { VDISession } from '@vdi/crd-types';
import { ANNOTATION_LEASE_KEY_ID, poolKeyId } from '@vdi/session-spec';
import {
  createIsolatedGpuNode,
  createTestNamespace,
  installCrds,
  TEST_SESSION_KEY,
  testKubeConfig,
  waitFor,
  type IsolatedNode,
  type TestNamespace,
} from '@vdi/testing';
import {
  Fixture,
  inBatches,
  startOperator,
  waitLeader,
  type ChildObject,
  type OperatorProcess,
} from './harness.js';

const FIELD_MANAGER = 'vdi-operator';
/** The lease duration the replicas run with: the default, on purpose (failover must hold with it). */
const LEASE_SECONDS = 10;

const report = (line: string) => process.stderr.write(`[resilience] ${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** What a session of a template with persistence `none`, forwardAuth and host URLs owns, by kind. */
const CHILDREN_PER_SESSION: Record<string, number> = {
  pods: 1,
  services: 1,
  secrets: 1,
  networkpolicies: 1,
  ingressroutes: 1,
  middlewares: 1,
};

/**
 * Everything wrong with the children of `sessions`: a child whose session does not exist, one
 * without exactly that session (by uid) as its controller, and per-session counts other than
 * `perSession`. Empty when the world is as it should be.
 */
function ownershipProblems(
  children: ChildObject[],
  sessions: VDISession[],
  perSession: Record<string, number>,
): string[] {
  const problems: string[] = [];
  const byName = new Map(sessions.map((s) => [s.metadata.name!, s]));
  const counts = new Map<string, Record<string, number>>();
  for (const c of children) {
    const id = `${c.kind}/${c.name}`;
    const session = byName.get(c.session);
    if (!session) {
      problems.push(`${id}: orphan, session ${c.session} does not exist`);
      continue;
    }
    const controllers = c.ownerReferences.filter((o) => o.controller);
    if (
      controllers.length !== 1 ||
      controllers[0]!.kind !== 'VDISession' ||
      controllers[0]!.name !== c.session ||
      controllers[0]!.uid !== session.metadata.uid
    ) {
      problems.push(`${id}: controller owners ${JSON.stringify(controllers)}, not session ${c.session}`);
    }
    if (c.deletionTimestamp) problems.push(`${id}: being deleted (finalizers ${c.finalizers.join(',')})`);
    const mine = counts.get(c.session) ?? {};
    mine[c.kind] = (mine[c.kind] ?? 0) + 1;
    counts.set(c.session, mine);
  }
  for (const name of byName.keys()) {
    const got = counts.get(name) ?? {};
    for (const kind of new Set([...Object.keys(perSession), ...Object.keys(got)])) {
      if ((got[kind] ?? 0) !== (perSession[kind] ?? 0))
        problems.push(`session ${name}: ${got[kind] ?? 0} ${kind}, expected ${perSession[kind] ?? 0}`);
    }
  }
  return problems;
}

/** Events a session got more than once although they happen once in its life (a stale read repeats them). */
async function repeatedEvents(f: Fixture, reasons: string[]): Promise<string[]> {
  const seen = new Map<string, number>();
  for (const e of await f.allEvents()) {
    if (e.involvedObject.kind !== 'VDISession' || !reasons.includes(e.reason)) continue;
    const id = `${e.involvedObject.name} (${e.involvedObject.uid}) ${e.reason}`;
    seen.set(id, (seen.get(id) ?? 0) + 1);
  }
  return [...seen].filter(([, n]) => n > 1).map(([id, n]) => `${id} ×${n}`);
}

/** The operator's warnings that a reconcile failed and was retried. */
/**
 * Reconciles that failed for a reason of the operator's own (a conflict from acting on a stale
 * copy, a bad write): a loaded API server's timeouts and throttling are retried and not counted.
 */
const failedReconciles = (op: OperatorProcess) =>
  op.logs.filter(
    (l) =>
      l.includes('"msg":"reconcile failed"') &&
      !/ETIMEDOUT|ECONNRESET|ECONNREFUSED|socket hang up|timed? ?out|Too Many Requests|\b(429|500|502|503|504)\b/i.test(
        l,
      ),
  );

describe('session operator resilience', () => {
  let kc: k8s.KubeConfig;
  let ns: TestNamespace;
  let f: Fixture;
  let node: IsolatedNode;
  let gpuTemplate: string;
  const templates: string[] = [];
  /** Every replica started here: afterAll stops what a failed test left running. */
  const replicas: OperatorProcess[] = [];

  const alive = (op: OperatorProcess) => op.proc.exitCode === null && op.proc.signalCode === null;

  async function replica(lease: string, identity: string, env: Record<string, string> = {}) {
    const op = await startOperator(ns.name, { VDI_LEASE_NAME: lease, ...env }, identity);
    replicas.push(op);
    return op;
  }

  /** Deletes the test's sessions through a replica that still runs, then stops every replica. */
  async function finish(...ops: (OperatorProcess | undefined)[]): Promise<void> {
    const running = ops.filter((op): op is OperatorProcess => !!op && alive(op));
    try {
      if (running.length > 0) {
        const started = Date.now();
        const n = (await f.list()).length;
        await f.deleteAllSessions(120_000);
        if (n > 0)
          report(`cleanup: ${n} sessions deleted through the operator in ${seconds(Date.now() - started)}`);
      }
    } finally {
      await Promise.all(running.map((op) => op.stop()));
    }
  }

  beforeAll(async () => {
    kc = testKubeConfig();
    await installCrds(kc);
    ns = await createTestNamespace('res');
    f = new Fixture(kc, ns.name);
    await f.turnSecret();
    // 16 GPUs × 8 time-slices = 128 slices and room for 250 pods, for this file only.
    node = await createIsolatedGpuNode({ gpus: 16, replicas: 8, pods: 250 });
    gpuTemplate = await f.template('res-gpu', {
      nodeSelector: node.nodeSelector,
      tolerations: node.tolerations as never,
      persistence: 'none',
      resources: { defaultGPU: 1, defaultMemory: '4Gi' } as never,
    });
    templates.push(gpuTemplate);
  });

  afterAll(async () => {
    if (process.env.VDI_DEBUG_OPERATOR)
      for (const op of replicas) process.stderr.write(`--- ${op.identity}\n${op.logs.join('\n')}\n`);
    // Leftovers of a failed test: let its sessions go without an operator, then stop everything.
    await f?.releaseSessions();
    await Promise.all(replicas.filter(alive).map((op) => op.stop('SIGKILL')));
    for (const t of templates) await f?.deleteTemplate(t).catch(() => undefined);
    await ns?.cleanup();
    await node?.remove();
  });

  it('converges 100 sessions after a SIGKILL mid-burst: all Running, one pod each, no duplicate or orphan children', async () => {
    const lease = 'res-kill';
    const first = await replica(lease, 'kill-first');
    let second: OperatorProcess | undefined;
    try {
      await waitLeader(first);
      const names = Array.from({ length: 100 }, (_, i) => `burst-${String(i).padStart(3, '0')}`);
      let created = 0;
      let createdAtKill = -1;
      let killedAt = 0;
      let secondStarting: Promise<OperatorProcess> | undefined;
      let startedAtKill = -1;
      // The kill: once 30 sessions exist and the first replica has begun on them, with the other
      // creations still in flight (the last 40 wait for the kill, so it surely comes mid-burst
      // however slow the replica is to start). The successor is a new process (new identity), so
      // it must also wait for the dead replica's Lease to expire.
      const killer = (async () => {
        await waitFor(
          '30 sessions created and the first replica at work',
          async () => created >= 30 && (await f.list()).some((s) => s.metadata.finalizers?.length),
          30_000,
          20,
        );
        first.proc.kill('SIGKILL');
        killedAt = Date.now();
        createdAtKill = created;
        secondStarting = replica(lease, 'kill-second');
        // Sessions the first replica had begun on (finalizer added) when it died.
        startedAtKill = (await f.list()).filter((s) => s.metadata.finalizers?.length).length;
      })();
      const burstStarted = Date.now();
      await inBatches(names, 10, async (name, i) => {
        if (i >= 60) await killer;
        await f.session(name, gpuTemplate);
        created++;
      });
      const burstMs = Date.now() - burstStarted;
      await killer;
      expect(await first.exited).toBeNull();
      expect(first.proc.signalCode).toBe('SIGKILL');
      // The kill happened while creations were still in flight.
      expect(createdAtKill).toBeGreaterThanOrEqual(30);
      expect(createdAtKill).toBeLessThan(100);

      second = await secondStarting!;
      const [ledAt, convergedAt] = await Promise.all([
        waitLeader(second, 30_000),
        waitFor(
          'all 100 sessions Running',
          async () => {
            const all = await f.list();
            return all.length === 100 && all.every((s) => s.status?.phase === 'Running') && Date.now();
          },
          120_000,
          250,
        ),
      ]);
      report(
        `kill -9: burst of 100 took ${seconds(burstMs)}; killed after ${createdAtKill} created (${startedAtKill} begun); ` +
          `successor led ${seconds(ledAt - killedAt)} after the kill; all Running ${seconds(convergedAt - killedAt)} ` +
          `after the kill (${seconds(convergedAt - ledAt)} after taking the Lease)`,
      );

      const sessions = await f.list();
      expect(sessions.map((s) => s.status?.phase)).toEqual(names.map(() => 'Running'));
      // Exactly one pod per session, and no pod that is not a session's.
      const pods = await f.listAll<k8s.V1Pod>('/api/v1', 'pods');
      expect(pods.map((p) => p.metadata!.name).sort()).toEqual(names);
      expect(ownershipProblems(await f.childObjects(), sessions, CHILDREN_PER_SESSION)).toEqual([]);
      // No desktop was created, and none became ready, twice (an Event of the killed replica may
      // be missing: it records them without waiting).
      expect(await repeatedEvents(f, ['DesktopCreated', 'DesktopReady'])).toEqual([]);
      expect(failedReconciles(second)).toEqual([]);
    } finally {
      await finish(first, second);
    }
  }, 300_000);

  it('runs two replicas: only the leader writes, and the standby takes over within 15 s of a SIGKILL', async () => {
    const lease = 'res-ha';
    const both = await Promise.all([replica(lease, 'ha-a'), replica(lease, 'ha-b')]);
    let standby: OperatorProcess | undefined;
    try {
      const leaderIdx = await waitFor('one replica to lead', async () => {
        const gauges = await Promise.all(both.map((op) => op.leader()));
        return gauges.some((g) => g === 1) && gauges;
      }).then((gauges) => {
        expect(gauges.reduce((a, b) => a + b, 0)).toBe(1);
        return gauges.indexOf(1);
      });
      const leader = both[leaderIdx]!;
      standby = both[1 - leaderIdx]!;
      expect((await f.lease(lease))?.spec.holderIdentity).toBe(leader.identity);

      await f.session('ha-1', gpuTemplate);
      const s1 = await f.waitPhase('ha-1', 'Running');
      const events = await waitFor('the DesktopReady Event of ha-1', async () => {
        // The session's Events (the pod of the same name has the scheduler's).
        const ev = (await f.events('ha-1')).filter((e) => e.involvedObject.kind === 'VDISession');
        return ev.some((e) => e.reason === 'DesktopReady') && ev;
      });

      // Only the leader wrote: every Event came from it, every applied field and the session's
      // status and finalizer are the operator's, and the standby never reconciled.
      expect([...new Set(events.map((e) => e.reportingInstance))]).toEqual([leader.identity]);
      const children = (await f.childObjects()).filter((c) => c.session === 'ha-1');
      expect(children).toHaveLength(6);
      for (const c of children) {
        const writers = c.managedFields.filter((m) => !m.subresource).map((m) => m.manager);
        expect({ [`${c.kind}/${c.name}`]: [...new Set(writers)] }).toEqual({
          [`${c.kind}/${c.name}`]: [FIELD_MANAGER],
        });
      }
      const sessionFields = s1.metadata.managedFields ?? [];
      const writersOf = (pick: (m: k8s.V1ManagedFieldsEntry) => boolean) => [
        ...new Set(sessionFields.filter(pick).map((m) => m.manager)),
      ];
      expect(writersOf((m) => m.subresource === 'status')).toEqual([FIELD_MANAGER]);
      expect(writersOf((m) => JSON.stringify(m.fieldsV1 ?? {}).includes('f:finalizers'))).toEqual([
        FIELD_MANAGER,
      ]);
      expect(await leader.leader()).toBe(1);
      expect(await standby.leader()).toBe(0);
      expect(await standby.metrics()).not.toMatch(/vdi_operator_reconcile_duration_seconds_count\{/);
      expect(standby.logs.join('\n')).not.toMatch(/became leader|session phase changed|reconcile failed/);

      // Failover: kill the leader without a chance to release the Lease.
      const pod1 = await f.core.readNamespacedPod({ name: 'ha-1', namespace: ns.name });
      leader.proc.kill('SIGKILL');
      const killedAt = Date.now();
      // Created right after the kill: only the new leader can start it.
      await f.session('ha-2', gpuTemplate);
      const [ledAt, runningAt] = await Promise.all([
        waitLeader(standby, 30_000),
        f.waitPhase('ha-2', 'Running', 40_000).then(() => Date.now()),
      ]);
      report(
        `failover: standby led ${seconds(ledAt - killedAt)} after SIGKILL of the leader; ` +
          `a session created after the kill was Running ${seconds(runningAt - killedAt)} after it ` +
          `(lease ${LEASE_SECONDS} s)`,
      );
      // The Lease (10 s) expires, the standby takes it on its next retry (every 2 s), and it starts
      // what arrived meanwhile: bounds with room for a loaded machine, far below "never".
      expect(ledAt - killedAt).toBeLessThanOrEqual(20_000);
      expect(runningAt - ledAt).toBeLessThanOrEqual(15_000);
      const after = await f.lease(lease);
      expect(after?.spec.holderIdentity).toBe(standby.identity);
      // The first desktop kept running through the failover: same pod, still Running.
      expect((await f.core.readNamespacedPod({ name: 'ha-1', namespace: ns.name })).metadata!.uid).toBe(
        pod1.metadata!.uid,
      );
      expect((await f.get('ha-1'))?.status?.phase).toBe('Running');
    } finally {
      await finish(...both);
    }
  });

  it('fails a session that cannot start within VDI_START_DEADLINE_SECONDS=5: Scheduling first, then Failed (StartDeadlineExceeded)', async () => {
    const op = await replica('res-deadline', 'deadline', { VDI_START_DEADLINE_SECONDS: '5' });
    const nowhere = await f.template('nowhere', {
      // No node has this label: the pod can never be scheduled.
      nodeSelector: { 'vdi.kasm.io/test-node': `nowhere-${ns.name}` },
      persistence: 'none',
      resources: { defaultGPU: 0, maxGPU: 0, defaultMemory: '4Gi' } as never,
    });
    templates.push(nowhere);
    try {
      await waitLeader(op);
      const postedAt = Date.now();
      await f.session('stuck-1', nowhere);
      // Scheduling, with the scheduler's verdict (first it may say it waits for the scheduler).
      const scheduling = await waitFor(
        'stuck-1 Scheduling/Unschedulable',
        async () => {
          const s = await f.get('stuck-1');
          return s?.status?.phase === 'Scheduling' && s.status.reason === 'Unschedulable' ? s : undefined;
        },
        30_000,
      );
      const schedulingAt = Date.now();
      expect(scheduling.status!.message).toMatch(/no node can run the desktop yet/);
      const failed = await f.waitPhase('stuck-1', 'Failed', 20_000);
      const failedAt = Date.now();
      expect(failed.status).toMatchObject({ phase: 'Failed', reason: 'StartDeadlineExceeded' });
      expect(failed.status!.message).toMatch(/did not become ready within 5s/);
      // Not before the deadline: the Ready condition turned at least 5 s after creation (both in
      // whole seconds), and the operator did not wait much longer than the deadline either.
      const ready = failed.status!.conditions!.find((c) => c.type === 'Ready')!;
      expect(ready.reason).toBe('StartDeadlineExceeded');
      const createdMs = new Date(failed.metadata.creationTimestamp!).getTime();
      expect(new Date(ready.lastTransitionTime!).getTime() - createdMs).toBeGreaterThanOrEqual(5_000);
      expect(failedAt - postedAt).toBeGreaterThanOrEqual(4_000);
      // (Not much later either: the deadline's timer, not some later event, failed it.)
      expect(failedAt - postedAt).toBeLessThanOrEqual(20_000);
      report(
        `deadline: Scheduling ${seconds(schedulingAt - postedAt)} after the create, Failed ` +
          `(StartDeadlineExceeded) ${seconds(failedAt - postedAt)} after it (deadline 5 s)`,
      );
      // Failed for good: a later reconcile (the pod changes, a resync) does not revive it.
      await sleep(1_500);
      expect((await f.get('stuck-1'))?.status?.reason).toBe('StartDeadlineExceeded');
      // Events are written asynchronously (held while work is queued, at most 60 s).
      await waitFor(
        'the StartDeadlineExceeded Event',
        async () =>
          (await f.events('stuck-1')).some(
            (e) => `${e.type}/${e.reason}` === 'Warning/StartDeadlineExceeded',
          ),
        70_000,
      );
    } finally {
      await finish(op);
    }
  });

  it('leaks nothing over 50 create/delete cycles: no session, child, pod or stuck finalizer; per-user homes stay', async () => {
    const op = await replica('res-cycles', 'cycles', { LOG_LEVEL: 'debug' });
    const common = {
      nodeSelector: node.nodeSelector,
      tolerations: node.tolerations as never,
      resources: { defaultGPU: 1, defaultMemory: '4Gi' } as never,
    };
    const perUser = await f.template('cyc-user', { ...common, persistence: 'user' });
    templates.push(perUser);
    const perSession = await f.template('cyc-session', { ...common, persistence: 'session' });
    templates.push(perSession);
    const users = ['cyc-a@example.com', 'cyc-b@example.com', 'cyc-c@example.com'];
    let watch: AbortController | undefined;
    try {
      await waitLeader(op);
      // Every version of every session, checked as it comes: a session's status must be its own
      // (a status written for an earlier session of the same name carries that one's createdAt),
      // and Terminating only while it is really being deleted.
      const wrongStatus: string[] = [];
      /**
       * Sessions (by uid) that kube-apiserver removed at once although they carried the finalizer:
       * a DELETE that read the session just before the operator's finalizer landed deletes it
       * outright (kubernetes/kubernetes#77988). Their last version has the finalizer but no
       * deletionTimestamp.
       */
      const hardDeleted = new Set<string>();
      const deletedSeen = new Set<string>();
      watch = await new k8s.Watch(kc).watch(
        `/apis/vdi.kasm.io/v1alpha1/namespaces/${ns.name}/vdisessions`,
        {},
        (type, s: VDISession) => {
          if (type === 'DELETED') {
            deletedSeen.add(s.metadata.uid!);
            if (
              !s.metadata.deletionTimestamp &&
              s.metadata.finalizers?.includes('vdi.kasm.io/session-cleanup')
            )
              hardDeleted.add(s.metadata.uid!);
          }
          const st = s.status;
          if (!st || type === 'DELETED') return;
          const id = `${s.metadata.name} (${s.metadata.uid})`;
          if (st.createdAt && st.createdAt !== String(s.metadata.creationTimestamp))
            wrongStatus.push(
              `${id}: status.createdAt ${st.createdAt}, created ${s.metadata.creationTimestamp}`,
            );
          if (st.phase === 'Terminating' && !s.metadata.deletionTimestamp)
            wrongStatus.push(`${id}: Terminating but not being deleted`);
        },
        () => undefined,
      );
      const lanes = 10;
      const rounds = 5;
      /** Children of a session still there right after the session was gone (not counting a home being deleted). */
      const leftovers: string[] = [];
      /** Sessions the API server deleted past the finalizer, and how long their objects outlived them. */
      const raced: { session: string; uid: string; cleanupMs: number }[] = [];
      /** Users who had a per-user-home session (their home may remain), and those whose desktop ran (it must). */
      const homeUsers = new Set<string>();
      const ranUsers = new Set<string>();
      /** Which lane and round each session (by uid) was. */
      const generations = new Map<string, string>();
      const childrenOf = async (name: string) =>
        (await f.childObjects()).filter(
          (c) => c.session === name && !(c.kind === 'persistentvolumeclaims' && c.name === `${name}-home`),
        );
      const started = Date.now();
      // 10 lanes in parallel, 5 rounds each, each lane reusing its session name at once: in odd
      // rounds the session is deleted while the operator is still creating it, in even rounds
      // its desktop gets to Running first. Templates (home per user / per session) and users alternate.
      await inBatches(
        Array.from({ length: lanes }, (_, i) => i),
        lanes,
        async (lane) => {
          const name = `cyc-${lane}`;
          for (let round = 0; round < rounds; round++) {
            const template = (lane + round) % 2 === 0 ? perUser : perSession;
            const user = users[(lane + round) % users.length]!;
            if (template === perUser) homeUsers.add(user);
            const created = await f.session(name, template, { user });
            const uid = created.metadata.uid!;
            generations.set(uid, `${name} round ${round}`);
            if (round % 2 === 0) {
              await f.waitPhase(name, 'Running', 60_000);
              if (template === perUser) ranUsers.add(user);
            } else {
              await sleep(lane * 20);
            }
            await f.delete(name);
            await f.waitGone(name, 60_000);
            const gone = Date.now();
            const left = await childrenOf(name);
            if (left.length === 0) continue;
            await waitFor(`the DELETED event of ${name}`, async () => deletedSeen.has(uid), 10_000, 20);
            if (hardDeleted.has(uid)) {
              // Only then may objects outlive the session, briefly: the operator removes them as
              // soon as it sees the session gone (not waiting for the garbage collector).
              await waitFor(
                `the objects of ${name} (${uid}) removed`,
                async () => (await childrenOf(name)).length === 0,
                10_000,
                50,
              );
              raced.push({ session: `${name} round ${round}`, uid, cleanupMs: Date.now() - gone });
              continue;
            }
            for (const c of left) {
              const owners = c.ownerReferences.map((o) => generations.get(o.uid) ?? o.uid).join(', ');
              leftovers.push(`round ${round}: ${c.kind}/${c.name} (owned by ${owners || 'nobody'})`);
            }
          }
        },
      );
      const cyclesMs = Date.now() - started;
      report(
        `cycles: 50 create/delete cycles (10 lanes × 5 rounds) in ${seconds(cyclesMs)}; ` +
          `${failedReconciles(op).length} retried reconciles in the operator's log`,
      );
      if (leftovers.length > 0) {
        // What the operator did with those sessions, to tell which write came too late.
        const names = new Set(leftovers.map((l) => /\/(cyc-\d+)/.exec(l)?.[1]));
        for (const line of op.logs) if ([...names].some((n) => line.includes(`/${n}"`))) report(line);
      }
      report(
        `cycles: ${hardDeleted.size} sessions deleted by the API server past their finalizer (kubernetes#77988); ` +
          `the operator removed their objects within ${raced.map((r) => seconds(r.cleanupMs)).join(', ') || '-'}`,
      );
      // The operator (not only the garbage collector) cleaned up after each of them.
      expect(
        raced.filter(({ uid }) => !op.logs.some((l) => l.includes(uid) && l.includes('kubernetes#77988'))),
      ).toEqual([]);
      expect(leftovers).toEqual([]);
      expect(wrongStatus).toEqual([]);
      expect(await f.list()).toEqual([]);

      // What remains right after the last session went: at most session homes on their way out.
      const immediately = await f.childObjects();
      expect(
        immediately
          .filter((c) => !(c.kind === 'persistentvolumeclaims' && c.deletionTimestamp))
          .map((c) => `${c.kind}/${c.name}`),
      ).toEqual([]);
      const goneAt = await waitFor(
        'no object with the session label',
        async () => (await f.childObjects()).length === 0 && Date.now(),
        30_000,
        250,
      );
      expect(await f.listAll('/api/v1', 'pods')).toEqual([]);
      // Per-user homes are the user's: they stay, unowned and not being deleted.
      const claims = await f.listAll<k8s.V1PersistentVolumeClaim>('/api/v1', 'persistentvolumeclaims');
      const claimUsers = claims.map(
        (c) => c.metadata!.annotations?.['vdi.kasm.io/user'] ?? c.metadata!.name!,
      );
      expect(claims.map((c) => c.metadata!.name).every((n) => n!.startsWith('home-cyc-'))).toBe(true);
      expect(claimUsers.filter((u) => !homeUsers.has(u))).toEqual([]);
      expect([...ranUsers].filter((u) => !claimUsers.includes(u))).toEqual([]);
      for (const c of claims) {
        expect(c.metadata!.deletionTimestamp).toBeUndefined();
        expect(c.metadata!.ownerReferences).toBeUndefined();
      }
      // Nothing in the namespace is stuck on a finalizer.
      for (const [base, plural] of Fixture.childKinds) {
        const stuck = (await f.listAll(base, plural)).filter((o) => o.metadata.deletionTimestamp);
        expect({ [plural]: stuck.map((o) => `${o.metadata.name} (${o.metadata.finalizers})`) }).toEqual({
          [plural]: [],
        });
      }
      // The session homes' volumes were released and deleted; the per-user ones are still bound.
      const volumes = await waitFor(
        'session home volumes deleted',
        async () => {
          const pvs = (
            await f.client.call<{ items: k8s.V1PersistentVolume[] }>('GET', '/api/v1/persistentvolumes')
          ).items.filter((pv) => pv.spec?.claimRef?.namespace === ns.name);
          return pvs.every((pv) => pv.spec!.claimRef!.name!.startsWith('home-')) && pvs;
        },
        30_000,
        250,
      );
      expect(volumes).toHaveLength(claims.length);
      report(
        `cycles: ${immediately.length} session homes still being deleted after the last session, ` +
          `all gone ${seconds(goneAt - started - cyclesMs)} later`,
      );
      // Each session (by uid) was created and became ready at most once, and no reconcile failed:
      // the operator never acted on a stale copy of a session (a finalizer added twice, a status
      // written twice, a write aimed at the previous session of the same name).
      expect(await repeatedEvents(f, ['DesktopCreated', 'DesktopReady', 'Deleted'])).toEqual([]);
      expect(failedReconciles(op)).toEqual([]);
    } finally {
      watch?.abort();
      await finish(op);
    }
  }, 240_000);

  it('a replica with another session key is told: the fingerprint on the Lease differs, a warning, the gauge at 1', async () => {
    const lease = 'res-key';
    const leader = await replica(lease, 'key-a');
    let other: OperatorProcess | undefined;
    try {
      await waitLeader(leader);
      // The fingerprint of the leader's key, never the key.
      const held = await f.lease(lease);
      expect(held?.metadata.annotations?.[ANNOTATION_LEASE_KEY_ID]).toBe(poolKeyId(TEST_SESSION_KEY));
      expect(JSON.stringify(held)).not.toContain(TEST_SESSION_KEY);
      other = await replica(lease, 'key-b', { VDI_SESSION_KEY: randomBytes(32).toString('hex') });
      await waitFor('the replica with another key to say so', async () =>
        /^vdi_operator_session_key_mismatch 1$/m.test(await other!.metrics()),
      );
      expect(other.logs.join('\n')).toContain('Give every operator replica the same VDI_SESSION_KEY');
      expect(await other.leader()).toBe(0);
      expect(await leader.metrics()).not.toMatch(/^vdi_operator_session_key_mismatch 1$/m);
    } finally {
      await finish(leader, other);
    }
  }, 120_000);

  it('drains and releases the Lease on SIGTERM: exit 0, holder cleared, a standby takes over at once', async () => {
    const lease = 'res-term';
    const leader = await replica(lease, 'term-a');
    let standby: OperatorProcess | undefined;
    let watch: AbortController | undefined;
    try {
      await waitLeader(leader);
      standby = await replica(lease, 'term-b');
      expect(await standby.leader()).toBe(0);
      // Every version of the Lease, in order.
      const history: { type: string; holder: string }[] = [];
      watch = await new k8s.Watch(kc).watch(
        `/apis/coordination.k8s.io/v1/namespaces/${ns.name}/leases`,
        { fieldSelector: `metadata.name=${lease}` },
        (type, obj: { spec?: { holderIdentity?: string } }) =>
          history.push({ type, holder: obj.spec?.holderIdentity ?? '' }),
        () => undefined,
      );
      // Work in flight when the signal comes.
      const names = Array.from({ length: 20 }, (_, i) => `term-${String(i).padStart(2, '0')}`);
      await inBatches(names, 10, (name) => f.session(name, gpuTemplate));
      await waitFor('the leader at work on the sessions', async () =>
        (await f.list()).some((s) => s.status?.phase),
      );
      const runningAtSignal = (await f.list()).filter((s) => s.status?.phase === 'Running').length;
      leader.proc.kill('SIGTERM');
      const signalledAt = Date.now();
      expect(await leader.exited).toBe(0);
      const exitedAt = Date.now();
      // The leader's own log lines, by message (a substring search would also match a field's
      // value), in the order of the times they carry, not of their arrival: at exit the logger
      // flushes its last lines at once, and they can reach the pipe before an earlier write that
      // was still in flight (seen once in CI: 'stopped' arrived before 'released the lease').
      const lines = leader.logs.flatMap((line) => {
        try {
          const l = JSON.parse(line) as { msg?: string; time?: string };
          return l.msg && l.time ? [{ msg: l.msg, at: Date.parse(l.time) }] : [];
        } catch {
          return [];
        }
      });
      const at = ['draining workers', 'released the lease', 'stopped'].map(
        (m) => lines.find((l) => l.msg === m)?.at ?? NaN,
      );
      expect(at.every((t) => Number.isFinite(t))).toBe(true);
      expect([...at].sort((a, b) => a - b)).toEqual(at);

      const ledAt = await waitLeader(standby, LEASE_SECONDS * 1000);
      await waitFor('the standby to appear as holder', async () =>
        history.some((h) => h.holder === standby!.identity),
      );
      const holders = history.map((h) => h.holder);
      const lastA = holders.lastIndexOf(leader.identity);
      const firstB = holders.indexOf(standby.identity);
      // leader → nobody → standby: the Lease was released, not left to expire.
      expect(lastA).toBeGreaterThanOrEqual(0);
      expect(firstB).toBeGreaterThan(lastA + 1);
      expect(holders.slice(lastA + 1, firstB)).toContain('');
      // It takes over on its next retry (every 2 s), long before the Lease could have expired.
      expect(ledAt - exitedAt).toBeLessThan(LEASE_SECONDS * 1000);
      // The new leader finishes the work the old one left.
      await waitFor(
        'the 20 sessions Running',
        async () => {
          const all = await f.list();
          return all.length === 20 && all.every((s) => s.status?.phase === 'Running');
        },
        60_000,
        250,
      );
      report(
        `SIGTERM: signalled with ${runningAtSignal} of 20 sessions Running; leader exited 0 ` +
          `${seconds(exitedAt - signalledAt)} after the signal; the standby led ` +
          `${seconds(ledAt - exitedAt)} after that (lease ${LEASE_SECONDS} s)`,
      );

      // With no standby left, the released Lease stays without a holder.
      await f.deleteAllSessions(60_000);
      expect(await standby.stop('SIGTERM')).toBe(0);
      expect((await f.lease(lease))?.spec.holderIdentity).toBeUndefined();
    } finally {
      watch?.abort();
      await finish(leader, standby);
    }
  });
});
