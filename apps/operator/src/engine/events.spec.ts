/**
 * The Event recorder: Events are sent in order, never more than its concurrency at a time (a burst
 * of sessions does not turn into a burst of Event writes), a full queue drops and counts, and
 * flush waits for what was recorded.
 */
import type { VDISession } from '@vdi/crd-types';
import type { KubeJsonClient } from '@vdi/kube-client';
import { sampleSession } from '@vdi/session-spec/testing';
import { KubeEventRecorder } from './events.js';
import { silentLog } from './testing.js';

/** A client whose Event writes wait until released, one by one. */
function slowClient() {
  const sent: { path: string; reason: string }[] = [];
  const waiting: (() => void)[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const client = {
    call(_method: string, path: string, body: { reason: string }) {
      sent.push({ path, reason: body.reason });
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      return new Promise<void>((resolve) =>
        waiting.push(() => {
          inFlight--;
          resolve();
        }),
      );
    },
  };
  const releaseAll = async () => {
    while (waiting.length > 0) {
      waiting.shift()!();
      await new Promise((r) => setImmediate(r));
    }
  };
  return { client: client as unknown as KubeJsonClient, sent, releaseAll, maxInFlight: () => maxInFlight };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const session = {
  ...sampleSession(),
  metadata: { ...sampleSession().metadata, resourceVersion: '7' },
} as VDISession;

/** A recorder whose client answers at once, busy until `busy` is set false, looking every 10 ms. */
function busyRecorder(maxDelayMs: number, maxQueued?: number) {
  const sent: string[] = [];
  const client = {
    call: (_m: string, _p: string, body: { reason: string }) => (sent.push(body.reason), Promise.resolve()),
  } as unknown as KubeJsonClient;
  const w = { sent, busy: true, rec: undefined as unknown as KubeEventRecorder };
  w.rec = new KubeEventRecorder(client, silentLog, 'vdi-operator', 'op-0', {
    busy: () => w.busy,
    maxDelayMs,
    pollMs: 10,
    ...(maxQueued ? { maxQueued } : {}),
  });
  return w;
}

describe('KubeEventRecorder', () => {
  it('sends Events in order with at most `concurrency` writes in flight, and flush waits for all', async () => {
    const c = slowClient();
    const rec = new KubeEventRecorder(c.client, silentLog, 'vdi-operator', 'op-0', { concurrency: 2 });
    for (let i = 0; i < 10; i++) rec.record(session, 'Normal', `Step${i}`, 'something happened');
    expect(c.sent).toHaveLength(2);
    expect(rec.queued).toBe(8);
    let flushed = false;
    const flush = rec.flush(10_000).then(() => (flushed = true));
    await c.releaseAll();
    await flush;
    expect(flushed).toBe(true);
    expect(c.maxInFlight()).toBe(2);
    expect(c.sent.map((e) => e.reason)).toEqual(Array.from({ length: 10 }, (_, i) => `Step${i}`));
    expect(c.sent[0]!.path).toBe('/api/v1/namespaces/vdi-sessions/events');
  });

  it('drops and counts Events beyond its queue, and takes new ones again once there is room', async () => {
    const c = slowClient();
    let dropped = 0;
    const rec = new KubeEventRecorder(c.client, silentLog, 'vdi-operator', 'op-0', {
      concurrency: 1,
      maxQueued: 3,
      onDrop: () => dropped++,
    });
    for (let i = 0; i < 6; i++) rec.record(session, 'Normal', `E${i}`, 'm');
    // One in flight, three waiting, two dropped.
    expect(dropped).toBe(2);
    await c.releaseAll();
    rec.record(session, 'Warning', 'Later', 'm');
    await c.releaseAll();
    expect(c.sent.map((e) => e.reason)).toEqual(['E0', 'E1', 'E2', 'E3', 'Later']);
  });

  it('holds Events while the operator is busy, up to their longest wait; flush sends them anyway', async () => {
    const w = busyRecorder(300);
    const { rec, sent } = w;
    rec.record(session, 'Normal', 'A', 'm');
    await sleep(100);
    expect(sent).toEqual([]);
    // Busy all along: the Event goes once it has waited its longest.
    await sleep(300);
    expect(sent).toEqual(['A']);
    rec.record(session, 'Normal', 'B', 'm');
    await sleep(50);
    expect(sent).toEqual(['A']);
    // No longer busy: it goes at the next look.
    w.busy = false;
    await sleep(50);
    expect(sent).toEqual(['A', 'B']);
    w.busy = true;
    rec.record(session, 'Normal', 'C', 'm');
    await rec.flush(1000);
    expect(sent).toEqual(['A', 'B', 'C']);
  });

  it('holds Events while busy only until its queue is half full: holding back never drops one', async () => {
    const w = busyRecorder(60_000, 8);
    const { rec, sent } = w;
    for (let i = 0; i < 3; i++) rec.record(session, 'Normal', `E${i}`, 'm');
    await sleep(50);
    expect(sent).toEqual([]);
    // The fourth fills half the queue: the oldest go until it is below half again.
    rec.record(session, 'Normal', 'E3', 'm');
    await sleep(50);
    expect(sent).toEqual(['E0']);
    // Recorded as a burst's reconciles do, one at a time (the API server answers in between).
    for (let i = 4; i < 12; i++) {
      rec.record(session, 'Normal', `E${i}`, 'm');
      await sleep(1);
    }
    await sleep(50);
    // Nothing was dropped; three still wait for the burst to end.
    expect(sent).toEqual(['E0', 'E1', 'E2', 'E3', 'E4', 'E5', 'E6', 'E7', 'E8']);
    expect(rec.queued).toBe(3);
    w.busy = false;
    await sleep(50);
    expect(sent).toHaveLength(12);
  });

  it('sends Warnings while the operator is busy, ahead of the Normal Events it holds', async () => {
    const w = busyRecorder(60_000);
    const { rec, sent } = w;
    rec.record(session, 'Normal', 'DesktopCreated', 'm');
    rec.record(session, 'Warning', 'ImagePullFailed', 'm');
    rec.record(session, 'Normal', 'Running', 'm');
    rec.record(session, 'Warning', 'CrashLooping', 'm');
    await sleep(50);
    expect(sent).toEqual(['ImagePullFailed', 'CrashLooping']);
    expect(rec.queued).toBe(2);
    w.busy = false;
    await sleep(50);
    expect(sent).toEqual(['ImagePullFailed', 'CrashLooping', 'DesktopCreated', 'Running']);
    expect(rec.queued).toBe(0);
  });

  it('stamps an Event with the time it was recorded and the session it is about', async () => {
    const bodies: Record<string, unknown>[] = [];
    const client = {
      call: (_m: string, _p: string, body: Record<string, unknown>) => (bodies.push(body), Promise.resolve()),
    } as unknown as KubeJsonClient;
    const rec = new KubeEventRecorder(client, silentLog, 'vdi-operator', 'op-0');
    const before = Date.now();
    rec.record(session, 'Warning', 'WaitingForGPU', 'x'.repeat(2000));
    await rec.flush(1000);
    const e = bodies[0]!;
    expect(e).toMatchObject({
      type: 'Warning',
      reason: 'WaitingForGPU',
      involvedObject: {
        kind: 'VDISession',
        name: 'alice-1',
        uid: session.metadata.uid,
        resourceVersion: '7',
      },
      reportingInstance: 'op-0',
    });
    expect((e.message as string).length).toBe(1024);
    expect(new Date(e.firstTimestamp as string).getTime()).toBeGreaterThanOrEqual(before - 1000);
  });
});
