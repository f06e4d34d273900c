import type { V1Pod } from '@kubernetes/client-node';
import { API_VERSION, KIND_USAGE, type VDISession, type VDIUsage } from '@vdi/crd-types';
import { LABEL_SESSION, LABEL_USER_HASH, sessionOwnerHash, usageName } from '@vdi/session-spec';
import {
  asClient,
  FakeKubeClient,
  fakeCaches,
  RecordingEvents,
  silentLog,
  type FakeCaches,
} from './testing.js';
import { checkpointMsOf, GpuAccountant, ledgerWriteDue } from './usage.js';

const NS = 'vdi';
const owner = { issuer: 'https://idp.test/realms/vdi', subject: 'acct' };
const session: VDISession = {
  apiVersion: API_VERSION,
  kind: 'VDISession',
  metadata: { name: 'desk', namespace: NS, uid: 'u-desk', resourceVersion: '1' },
  spec: { user: 'acct@example.com', template: 't', owner },
} as VDISession;
const hash = sessionOwnerHash(session)!;

/** A desktop pod of the owner holding one slice since `since`. */
function pod(uid: string, since: string): V1Pod {
  return {
    metadata: {
      name: `pod-${uid}`,
      namespace: NS,
      uid,
      labels: { [LABEL_SESSION]: 'desk', [LABEL_USER_HASH]: hash },
    },
    spec: {
      nodeName: 'gpu-1',
      containers: [{ name: 'desktop', resources: { limits: { 'nvidia.com/gpu': '1' } } }],
    },
    status: {
      phase: 'Running',
      conditions: [{ type: 'PodScheduled', status: 'True', lastTransitionTime: new Date(since) }],
    },
  } as V1Pod;
}

describe('GpuAccountant', () => {
  let client: FakeKubeClient;
  let f: FakeCaches;
  let clock: Date;
  let outcomes: string[];
  const at = (iso: string) => (clock = new Date(iso));

  function accountant(checkpointSeconds = 900, kube = asClient(client)) {
    return new GpuAccountant({
      client: kube,
      caches: f.caches,
      namespace: NS,
      gpuResource: 'nvidia.com/gpu',
      intervalSeconds: 60,
      checkpointSeconds,
      warnSeconds: 900,
      events: new RecordingEvents(),
      log: silentLog,
      now: () => clock,
      count: (o) => outcomes.push(o),
    });
  }
  /** The ledger as the API server holds it, and the cache caught up with it. */
  function ledger(): VDIUsage {
    const l = client.stored<VDIUsage>(KIND_USAGE, usageName(hash), NS)!;
    f.usages.replace([l]);
    return l;
  }

  beforeEach(() => {
    client = new FakeKubeClient();
    f = fakeCaches();
    f.sessions.set(session);
    outcomes = [];
  });

  it('writes a ledger when its desktops change and at its checkpoint, not at every count', async () => {
    const a = accountant();
    f.pods.set(pod('p1', '2026-12-04T10:00:00Z'));
    at('2026-12-04T10:01:00Z');
    await a.round();
    expect(client.summary(client.writes())).toEqual([
      `create ${KIND_USAGE}/${usageName(hash)}`,
      `patch ${KIND_USAGE}/${usageName(hash)}/status`,
    ]);
    expect(ledger().status).toMatchObject({ totalGpuSeconds: 60, holding: [{ pod: 'p1' }] });

    // Nothing changed: the next counts write nothing until the checkpoint (75–100 % of 900 s).
    client.clear();
    for (const t of ['10:02', '10:03', '10:10']) {
      at(`2026-12-04T${t}:00Z`);
      await a.round();
    }
    expect(client.writes()).toEqual([]);
    expect(outcomes.slice(-3)).toEqual(['deferred', 'deferred', 'deferred']);

    at(new Date(Date.parse('2026-12-04T10:01:00Z') + checkpointMsOf(hash, 900)).toISOString());
    await a.round();
    expect(client.summary(client.writes())).toEqual([`patch ${KIND_USAGE}/${usageName(hash)}/status`]);
    expect(ledger().status!.totalGpuSeconds).toBe(60 + checkpointMsOf(hash, 900) / 1000);
  });

  it('counts a desktop that ended up to the last count that saw it, and a new one from when it was scheduled', async () => {
    const a = accountant();
    f.pods.set(pod('p1', '2026-12-04T10:00:00Z'));
    at('2026-12-04T10:01:00Z');
    await a.round();
    ledger();
    at('2026-12-04T10:05:00Z');
    await a.round(); // deferred, but it saw p1 at 10:05
    // p1 ends; p2 (a resume) got its slice at 10:05:30.
    f.pods.replace([pod('p2', '2026-12-04T10:05:30Z')]);
    client.clear();
    at('2026-12-04T10:06:00Z');
    await a.round();
    expect(client.summary(client.writes())).toEqual([`patch ${KIND_USAGE}/${usageName(hash)}/status`]);
    const l = ledger();
    // p1: 10:00–10:05 (300 s; its last minute after the last look is not counted), p2: 30 s.
    expect(l.status!.totalGpuSeconds).toBe(330);
    expect(l.status!.holding!.map((h) => h.pod)).toEqual(['p2']);
  });

  it('a new leader counts a desktop that ended before it led up to when it, as a standby, last saw it', async () => {
    const old = accountant();
    f.pods.set(pod('p1', '2026-12-04T10:00:00Z'));
    at('2026-12-04T10:01:00Z');
    await old.round();
    ledger();
    old.stop();
    // The standby looks (without writing) while the old leader still leads.
    const standby = accountant();
    at('2026-12-04T10:04:00Z');
    standby.observe();
    standby.stop();
    // The desktop ends, then the standby leads and counts.
    f.pods.replace([]);
    at('2026-12-04T10:20:00Z');
    client.clear();
    await standby.round();
    const l = ledger();
    expect(l.status!.totalGpuSeconds).toBe(240);
    expect(l.status!.holding).toEqual([]);
    // A desktop nobody saw end is not counted past its checkpoint.
    const other = accountant();
    f.pods.set(pod('p3', '2026-12-04T10:20:00Z'));
    at('2026-12-04T10:21:00Z');
    await other.round();
    ledger();
    const fresh = accountant();
    f.pods.replace([]);
    at('2026-12-04T10:40:00Z');
    await fresh.round();
    expect(ledger().status).toMatchObject({ totalGpuSeconds: 300, holding: [] });
  });

  it('makes the ledgers of a burst of new owners a few at a time, each from its own session', async () => {
    // Each call to the API server takes 5 ms; the most in flight at once is recorded.
    const real = asClient(client);
    let inFlight = 0;
    let most = 0;
    const slow = new Proxy(real, {
      get(target, prop) {
        const value = Reflect.get(target, prop) as unknown;
        if (typeof value !== 'function') return value;
        return async (...args: unknown[]) => {
          most = Math.max(most, ++inFlight);
          await new Promise((r) => setTimeout(r, 5));
          try {
            return await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          } finally {
            inFlight--;
          }
        };
      },
    });
    const owners = Array.from({ length: 20 }, (_, i) => ({ ...owner, subject: `user-${i}` }));
    for (const [i, o] of owners.entries()) {
      const s = {
        ...session,
        metadata: { ...session.metadata, name: `desk-${i}`, uid: `u-${i}` },
        spec: { ...session.spec, owner: o, user: `user-${i}@example.com` },
      } as VDISession;
      f.sessions.set(s);
      const p = pod(`p-${i}`, '2026-12-04T10:00:00Z');
      p.metadata!.labels = { [LABEL_SESSION]: `desk-${i}`, [LABEL_USER_HASH]: sessionOwnerHash(s)! };
      f.pods.set(p);
    }
    at('2026-12-04T10:01:00Z');
    await accountant(900, slow).round();
    for (const [i, o] of owners.entries()) {
      const h = sessionOwnerHash({ ...session, spec: { ...session.spec, owner: o } } as VDISession)!;
      const l = client.stored<VDIUsage>(KIND_USAGE, usageName(h), NS);
      expect(l?.spec).toEqual({ owner: o, user: `user-${i}@example.com` });
      expect(l?.status).toMatchObject({ totalGpuSeconds: 60, holding: [{ pod: `p-${i}` }] });
    }
    expect(most).toBe(4);
  });
});

describe('GpuAccountant while desktops wait to start', () => {
  it('writes only once nothing waits, or after waiting its longest; counting from the checkpoints loses no time', async () => {
    const client = new FakeKubeClient();
    const f = fakeCaches();
    f.sessions.set(session);
    f.pods.set(pod('p1', '2026-12-04T10:00:00Z'));
    let busy = true;
    const make = (maxDelayMs: number) =>
      new GpuAccountant({
        client: asClient(client),
        caches: f.caches,
        namespace: NS,
        gpuResource: 'nvidia.com/gpu',
        intervalSeconds: 60,
        checkpointSeconds: 900,
        warnSeconds: 900,
        events: new RecordingEvents(),
        log: silentLog,
        now: () => new Date('2026-12-04T10:01:00Z'),
        busy: () => busy,
        maxDelayMs,
        pollMs: 2,
      });
    // Busy: the round waits and writes nothing; once nothing waits, it counts.
    const round = make(60_000).round();
    await new Promise((r) => setTimeout(r, 30));
    expect(client.writes()).toEqual([]);
    busy = false;
    await round;
    expect(client.summary(client.writes())).toEqual([
      `create ${KIND_USAGE}/${usageName(hash)}`,
      `patch ${KIND_USAGE}/${usageName(hash)}/status`,
    ]);
    expect(client.stored<VDIUsage>(KIND_USAGE, usageName(hash), NS)?.status?.totalGpuSeconds).toBe(60);
    // Busy for longer than it may wait: it counts anyway, after maxDelayMs.
    client.clear();
    busy = true;
    f.pods.set(pod('p2', '2026-12-04T10:00:30Z'));
    f.usages.replace([client.stored<VDIUsage>(KIND_USAGE, usageName(hash), NS)!]);
    const t0 = Date.now();
    await make(40).round();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(40);
    expect(client.summary(client.writes())).toEqual([`patch ${KIND_USAGE}/${usageName(hash)}/status`]);
  });
});

describe('ledgerWriteDue', () => {
  const status = {
    countedAt: '2026-12-04T10:00:00Z',
    holding: [
      {
        pod: 'p1',
        session: 's',
        slices: 1,
        since: '2026-12-04T09:00:00Z',
        countedUntil: '2026-12-04T10:00:00Z',
      },
    ],
  };
  const held = (pod: string, until?: string) => ({
    pod,
    session: 's',
    slices: 1,
    since: new Date('2026-12-04T09:00:00Z'),
    ...(until ? { until: new Date(until) } : {}),
  });
  const t = new Date('2026-12-04T10:05:00Z');

  it('is due for a new ledger, a new or ended desktop, or an old checkpoint; not otherwise', () => {
    expect(ledgerWriteDue(undefined, [], t, 600_000)).toBe(true);
    expect(ledgerWriteDue(status, [held('p1')], t, 600_000)).toBe(false);
    expect(ledgerWriteDue(status, [held('p1'), held('p2')], t, 600_000)).toBe(true);
    expect(ledgerWriteDue(status, [held('p1', '2026-12-04T10:04:00Z')], t, 600_000)).toBe(true);
    expect(ledgerWriteDue(status, [held('p2')], t, 600_000)).toBe(true);
    expect(ledgerWriteDue(status, [held('p1')], t, 300_000)).toBe(true);
  });

  it('spreads owners over the last quarter of the checkpoint interval, the same for an owner each time', () => {
    expect(checkpointMsOf('00000000aa', 900)).toBe(675_000);
    expect(checkpointMsOf('ffffffffaa', 900)).toBeGreaterThan(899_000);
    expect(checkpointMsOf('8000000012', 900)).toBe(787_500);
  });
});
