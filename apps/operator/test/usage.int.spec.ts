/**
 * GPU-hour accounting and budgets, with the operator as its own processes against the real
 * control plane: the count survives a SIGKILL of the leader and a leader change (nothing lost,
 * nothing counted twice, to within one accounting interval per desktop), and an owner over
 * budget is warned and then has their GPU desktops stopped.
 */
import * as k8s from '@kubernetes/client-node';
import { API_VERSION, PLURAL_USAGE, type VDIUsage } from '@vdi/crd-types';
import { ownerHash, usageName } from '@vdi/session-spec';
import {
  createIsolatedGpuNode,
  createTestNamespace,
  installCrds,
  testKubeConfig,
  waitFor,
  type IsolatedNode,
  type TestNamespace,
} from '@vdi/testing';
import { Fixture, startOperator, type OperatorProcess } from './harness.js';

const INTERVAL_SECONDS = 2;
const report = (line: string) => process.stderr.write(`[usage] ${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('GPU-hour accounting', () => {
  let kc: k8s.KubeConfig;
  let ns: TestNamespace;
  let f: Fixture;
  let node: IsolatedNode;
  let template: string;
  const replicas: OperatorProcess[] = [];
  const alive = (op: OperatorProcess) => op.proc.exitCode === null && op.proc.signalCode === null;

  async function replica(lease: string, identity: string, env: Record<string, string> = {}) {
    const op = await startOperator(
      ns.name,
      { VDI_LEASE_NAME: lease, VDI_USAGE_INTERVAL_SECONDS: String(INTERVAL_SECONDS), ...env },
      identity,
    );
    replicas.push(op);
    return op;
  }

  const ledgerPath = (owner: { issuer: string; subject: string }) =>
    `/apis/${API_VERSION}/namespaces/${ns.name}/${PLURAL_USAGE}/${usageName(ownerHash(owner))}`;
  const ledger = (owner: { issuer: string; subject: string }) =>
    f.client.call<VDIUsage>('GET', ledgerPath(owner)).catch(() => undefined);

  /** When a session's pod got its slice (scheduled) and when the test saw it gone. */
  async function scheduledAt(name: string): Promise<number> {
    const pod = await f.core.readNamespacedPod({ name, namespace: ns.name });
    const c = pod.status?.conditions?.find((x) => x.type === 'PodScheduled' && x.status === 'True');
    return new Date(c!.lastTransitionTime!).getTime();
  }
  async function podGoneAt(name: string): Promise<number> {
    await waitFor(
      `pod ${name} gone`,
      async () => !(await f.core.readNamespacedPod({ name, namespace: ns.name }).catch(() => undefined)),
      30_000,
      100,
    );
    return Date.now();
  }

  beforeAll(async () => {
    kc = testKubeConfig();
    await installCrds(kc);
    ns = await createTestNamespace('use');
    f = new Fixture(kc, ns.name);
    await f.turnSecret();
    node = await createIsolatedGpuNode({ gpus: 1, replicas: 8 });
    template = await f.template('use-gpu', {
      nodeSelector: node.nodeSelector,
      tolerations: node.tolerations as never,
      persistence: 'none',
      resources: { defaultGPU: 1, defaultMemory: '4Gi' } as never,
    });
  });

  afterAll(async () => {
    if (process.env.VDI_DEBUG_OPERATOR)
      for (const op of replicas) process.stderr.write(`--- ${op.identity}\n${op.logs.join('\n')}\n`);
    await f?.releaseSessions();
    await Promise.all(replicas.filter(alive).map((op) => op.stop('SIGKILL')));
    await f?.deleteTemplate(template).catch(() => undefined);
    await ns?.cleanup();
    await node?.remove();
  });

  it('counts every second a desktop holds a slice across a SIGKILL of the leader and a leader change, none twice', async () => {
    const owner = { issuer: 'https://idp.test/realms/vdi', subject: 'acct-1' };
    const both = await Promise.all([replica('use-ha', 'use-a'), replica('use-ha', 'use-b')]);
    const gauges = await waitFor('one replica to lead', async () => {
      const g = await Promise.all(both.map((op) => op.leader()));
      return g.some((x) => x === 1) && g;
    });
    const leader = both[gauges.indexOf(1)]!;
    const standby = both[1 - gauges.indexOf(1)]!;

    for (const name of ['acct-a', 'acct-b'])
      await f.session(name, template, { user: 'acct@example.com', owner });
    await f.waitPhase('acct-a', 'Running');
    await f.waitPhase('acct-b', 'Running');
    const since = { a: await scheduledAt('acct-a'), b: await scheduledAt('acct-b') };
    const counted = await waitFor('the ledger to count both desktops', async () => {
      const l = await ledger(owner);
      return (l?.status?.holding?.length ?? 0) === 2 && (l?.status?.totalGpuSeconds ?? 0) > 0 && l;
    });
    expect(counted.spec).toEqual({ owner, user: 'acct@example.com' });

    // kill -9 at whatever point of a count it is in; the standby takes over (Lease 10 s).
    leader.proc.kill('SIGKILL');
    const killedAt = Date.now();
    await waitFor('the standby to lead', async () => (await standby.leader()) === 1, 30_000);
    report(`standby led ${((Date.now() - killedAt) / 1000).toFixed(1)} s after the SIGKILL`);
    await sleep(3 * INTERVAL_SECONDS * 1000);

    // One desktop ends by deletion, the other by a stop.
    await f.delete('acct-a');
    const endA = await podGoneAt('acct-a');
    await f.client.mergePatch(f.sessionRef('acct-b'), { spec: { state: 'Stopped' } });
    const endB = await podGoneAt('acct-b');
    const final = await waitFor(
      'the ledger to drop both desktops',
      async () => {
        const l = await ledger(owner);
        return l?.status?.holding?.length === 0 && l;
      },
      30_000,
    );
    const held = (endA - since.a + (endB - since.b)) / 1000;
    const total = final.status!.totalGpuSeconds!;
    report(
      `held ${held.toFixed(1)} s in all; counted ${total.toFixed(1)} s (interval ${INTERVAL_SECONDS} s)`,
    );
    // Never more than was held (a count landed twice would exceed it) ...
    expect(total).toBeLessThanOrEqual(held + 0.5);
    // ... and at most one interval short per desktop (the stretch after its last count): the
    // failover gap (≥ several seconds without a leader) is counted by the new leader. "held" is
    // measured generously: starts in whole seconds (up to 1 s early each) and ends when this test
    // saw each pod gone (a poll after the fact), hence the 4 s of slack.
    expect(total).toBeGreaterThanOrEqual(held - 2 * INTERVAL_SECONDS - 4);
    expect(final.status!.days!.reduce((n, d) => n + d.gpuSeconds, 0)).toBeCloseTo(total, 1);
    await standby.stop();
  }, 180_000);

  it('warns an owner whose budget runs low, then stops their GPU desktops when it is used up', async () => {
    const owner = { issuer: 'https://idp.test/realms/vdi', subject: 'budget-1' };
    // The ledger as the API writes it at a create: 18 s of GPU time a day.
    await f.client.call('POST', `/apis/${API_VERSION}/namespaces/${ns.name}/${PLURAL_USAGE}`, {
      apiVersion: API_VERSION,
      kind: 'VDIUsage',
      metadata: { name: usageName(ownerHash(owner)) },
      spec: {
        owner,
        user: 'budget@example.com',
        budget: { gpuHours: 0.005, period: 'Day', rule: 'default' },
      },
    });
    const op = await replica('use-budget', 'use-budget', {
      VDI_LEADER_ELECTION: 'false',
      VDI_USAGE_INTERVAL_SECONDS: '1',
      VDI_BUDGET_WARN_SECONDS: '10',
    });
    try {
      await f.session('budget-a', template, { user: 'budget@example.com', owner });
      await f.waitPhase('budget-a', 'Running');
      const sessionEvents = async () =>
        (await f.events('budget-a')).filter((e) => e.involvedObject.kind === 'VDISession');
      // The warning comes first, while the desktop still runs (10 s of budget left) ...
      const low = await waitFor(
        'the BudgetLow warning',
        async () => (await sessionEvents()).find((e) => e.reason === 'BudgetLow'),
        40_000,
        200,
      );
      expect((await f.get('budget-a'))?.spec.state).not.toBe('Stopped');
      expect(low.message).toMatch(
        /of your 18 GPU-seconds today \(budget rule default\); it renews at \d{4}-\d\d-\d\dT00:00:00Z/,
      );
      // ... then the stop, once the budget is used up.
      const stopped = await f.waitPhase('budget-a', 'Stopped', 60_000);
      expect(stopped.spec.state).toBe('Stopped');
      await podGoneAt('budget-a');
      // Events are written asynchronously: wait for this one.
      const events = await waitFor(
        'the BudgetExhausted Event',
        async () => {
          const all = await sessionEvents();
          return all.some((e) => e.reason === 'BudgetExhausted') ? all : undefined;
        },
        70_000,
      );
      const out = events.find((e) => e.reason === 'BudgetExhausted');
      expect(out?.message).toMatch(/GPU budget used up: .*it renews at .*stopped to free its GPU time-slice/);
      const l = await ledger(owner);
      expect(l!.status!.totalGpuSeconds).toBeGreaterThanOrEqual(18);
      // Warned once for the period.
      expect(events.filter((e) => e.reason === 'BudgetLow')).toHaveLength(1);
      expect(l!.status!.warnedFor).toMatch(/T00:00:00/);
    } finally {
      await f.deleteAllSessions();
      await op.stop();
    }
  }, 180_000);
});
