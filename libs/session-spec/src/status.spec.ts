import type { V1Pod } from '@kubernetes/client-node';
import { SessionSpecError } from './errors.js';
import { computeStatus, phaseOf, statusChanged, type Observation } from './status.js';
import { sampleSession } from './testing.js';

const t0 = new Date('2026-11-29T10:00:00Z');
const later = (s: number) => new Date(t0.getTime() + s * 1000);

function session() {
  const s = sampleSession();
  s.metadata.creationTimestamp = t0;
  return s;
}

const pending = (message = '0/3 nodes are available: 1 Insufficient nvidia.com/gpu.'): V1Pod => ({
  spec: { containers: [{ name: 'desktop', resources: { limits: { 'nvidia.com/gpu': '1' } } }] },
  status: {
    phase: 'Pending',
    conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message }],
  },
});
const placed = (ready: boolean, extra: Partial<V1Pod['status']> = {}): V1Pod => ({
  spec: {
    nodeName: 'gpu-1',
    containers: [{ name: 'desktop', resources: { limits: { 'nvidia.com/gpu': '1' } } }],
  },
  status: {
    phase: ready ? 'Running' : 'Pending',
    conditions: [
      { type: 'PodScheduled', status: 'True' },
      { type: 'Ready', status: ready ? 'True' : 'False' },
    ],
    ...extra,
  },
});

const observe = (o: Partial<Observation>): Observation => ({
  session: session(),
  now: later(5),
  startDeadlineSeconds: 300,
  url: 'https://alice-1.vdi.example.com/',
  encoderPlan: { encoder: 'h264enc', device: 'nvenc' },
  ...o,
});

describe('computeStatus', () => {
  it.each([
    [
      'a missing template',
      { templateMissing: true },
      'Pending',
      'TemplateNotFound',
      /template 'ubuntu-desktop' does not exist/,
    ],
    [
      'an invalid template',
      { specError: new SessionSpecError('template x', 'is not usable: /image: required', 'TemplateInvalid') },
      'Pending',
      'TemplateInvalid',
      /is not usable/,
    ],
    [
      'a session beyond its bounds',
      {
        specError: new SessionSpecError(
          'spec.resources.memory',
          '64Gi is more than the template allows (16Gi)',
          'ResourcesOutOfBounds',
        ),
      },
      'Pending',
      'ResourcesOutOfBounds',
      /more than the template allows/,
    ],
    ['a failed apply', { applyError: 'forbidden' }, 'Pending', 'ApplyFailed', /forbidden/],
    [
      'children applied, pod not seen yet',
      {},
      'Scheduling',
      'WaitingForScheduler',
      /waiting for the scheduler/,
    ],
    [
      'a pod the scheduler has not seen yet',
      { pod: { spec: {}, status: { phase: 'Pending' } } },
      'Scheduling',
      'WaitingForScheduler',
      /waiting for the scheduler/,
    ],
    [
      'a GPU shortage',
      { pod: pending(), gpuSlices: { free: 0, total: 16 } },
      'Scheduling',
      'WaitingForGPU',
      /waiting for a GPU: 0 of 16 time-slices free/,
    ],
    [
      'another scheduling problem',
      { pod: pending('0/3 nodes are available: 3 node(s) had untolerated taint(s).') },
      'Scheduling',
      'Unschedulable',
      /untolerated taint/,
    ],
    ['a starting desktop', { pod: placed(false) }, 'Starting', 'ContainersStarting', /starting/],
    ['a ready desktop', { pod: placed(true) }, 'Running', 'DesktopReady', /ready/],
    [
      'an image that cannot be pulled',
      {
        pod: placed(false, {
          containerStatuses: [
            {
              name: 'desktop',
              image: 'bad:tag',
              imageID: '',
              ready: false,
              restartCount: 0,
              state: { waiting: { reason: 'ImagePullBackOff', message: 'not found' } },
            },
          ],
        }),
      },
      'Failed',
      'ImagePullFailed',
      /bad:tag cannot be pulled \(ImagePullBackOff: not found\)/,
    ],
    [
      'a crash loop',
      {
        pod: placed(false, {
          containerStatuses: [
            {
              name: 'desktop',
              image: 'i',
              imageID: '',
              ready: false,
              restartCount: 5,
              state: { waiting: { reason: 'CrashLoopBackOff' } },
            },
          ],
        }),
      },
      'Failed',
      'CrashLooping',
      /restarted 5 times/,
    ],
    [
      'a failed pod',
      {
        pod: placed(false, {
          phase: 'Failed',
          containerStatuses: [
            {
              name: 'desktop',
              image: 'i',
              imageID: '',
              ready: false,
              restartCount: 0,
              state: { terminated: { exitCode: 1, reason: 'Error' } },
            },
          ],
        }),
      },
      'Failed',
      'PodFailed',
      /exited with code 1 \(Error\)/,
    ],
    [
      'a start past the deadline',
      { pod: placed(false), now: later(301) },
      'Failed',
      'StartDeadlineExceeded',
      /within 300s/,
    ],
    ['a deletion', { deleting: true, pod: placed(true) }, 'Terminating', 'Deleting', /being deleted/],
  ] as const)('reports %s', (_what, o, phase, reason, message) => {
    const s = computeStatus(observe(o as Partial<Observation>));
    expect(s.phase).toBe(phase);
    expect(s.reason).toBe(reason);
    expect(s.message).toMatch(message);
  });

  it('sets the url, node and timestamps only when they are true', () => {
    const starting = computeStatus(observe({ pod: placed(false) }));
    expect(starting.url).toBeUndefined();
    expect(starting.nodeName).toBe('gpu-1');
    expect(starting.scheduledAt).toBe('2026-11-29T10:00:05Z');
    expect(starting.readyAt).toBeUndefined();
    const s = session();
    s.status = starting;
    const running = computeStatus(observe({ session: s, pod: placed(true), now: later(9) }));
    expect(running).toMatchObject({
      phase: 'Running',
      url: 'https://alice-1.vdi.example.com/',
      createdAt: '2026-11-29T10:00:00Z',
      scheduledAt: '2026-11-29T10:00:05Z',
      readyAt: '2026-11-29T10:00:09Z',
      encoder: 'h264enc',
      encoderDevice: 'nvenc',
      gpu: 1,
      observedGeneration: 1,
    });
  });

  it('keeps lastTransitionTime while a condition does not change, so a second write is a no-op', () => {
    const s = session();
    s.status = computeStatus(observe({ pod: placed(true), now: later(5) }));
    const again = computeStatus(observe({ session: s, pod: placed(true), now: later(50) }));
    expect(statusChanged(s.status, again)).toBe(false);
  });

  it('stays Failed after the deadline even if the pod becomes ready later', () => {
    const s = session();
    s.status = computeStatus(observe({ pod: placed(false), now: later(301) }));
    expect(computeStatus(observe({ session: s, pod: placed(true), now: later(320) })).phase).toBe('Failed');
  });

  it('keeps reporting a running desktop whose template was deleted, saying so', () => {
    const s = computeStatus(observe({ templateMissing: true, pod: placed(true) }));
    expect(s.phase).toBe('Running');
    expect(s.reason).toBe('TemplateNotFound');
    expect(s.message).toMatch(/was deleted; this desktop keeps running/);
    expect(s.url).toBe('https://alice-1.vdi.example.com/');
  });

  it('does not apply the deadline to a running desktop', () => {
    expect(computeStatus(observe({ pod: placed(true), now: later(10_000) })).phase).toBe('Running');
  });
});

describe('computeStatus of a stopped and resumed session', () => {
  const stopped = (s = session()) => {
    s.spec.state = 'Stopped';
    return s;
  };

  it('is Stopped with no URL while spec.state is Stopped, even while its pod is still going away', () => {
    const running = session();
    running.status = computeStatus(observe({ session: running, pod: placed(true), now: later(30) }));
    const s = stopped(structuredClone(running));
    const st = computeStatus(observe({ session: s, pod: placed(true), now: later(60) }));
    expect(st.phase).toBe('Stopped');
    expect(st.reason).toBe('Stopped');
    expect(st.message).toMatch(/resumeSession/);
    expect(st.url).toBeUndefined();
    expect(st.stoppedAt).toBe('2026-11-29T10:01:00Z');
    // Stopped long past the start deadline: never Failed for it.
    s.status = st;
    const much = computeStatus(observe({ session: s, now: later(10_000) }));
    expect(much.phase).toBe('Stopped');
    expect(much.stoppedAt).toBe('2026-11-29T10:01:00Z');
  });

  it('counts the start deadline from the resume, and a resume clears a start that had failed for good', () => {
    const s = session();
    s.status = computeStatus(observe({ session: s, pod: placed(false), now: later(301) }));
    expect(s.status.reason).toBe('StartDeadlineExceeded');
    expect(s.status.message).toMatch(/Stop and resume the session/);
    stopped(s);
    s.status = computeStatus(observe({ session: s, now: later(400) }));
    expect(s.status.phase).toBe('Stopped');
    // Resumed a day later: a new attempt with a whole deadline.
    s.spec.state = 'Running';
    const resumed = computeStatus(observe({ session: s, pod: pending(), now: later(86_400) }));
    expect(resumed.phase).toBe('Scheduling');
    expect(resumed.resumedAt).toBe(
      later(86_400)
        .toISOString()
        .replace(/\.\d{3}Z$/, 'Z'),
    );
    expect(resumed.stoppedAt).toBeUndefined();
    s.status = resumed;
    expect(computeStatus(observe({ session: s, pod: placed(false), now: later(86_400 + 299) })).phase).toBe(
      'Starting',
    );
    const late = computeStatus(observe({ session: s, pod: placed(false), now: later(86_400 + 301) }));
    expect(late.phase).toBe('Failed');
    expect(late.reason).toBe('StartDeadlineExceeded');
    expect(late.resumedAt).toBe(resumed.resumedAt);
  });

  it('is Stopped, saying so, when its template is gone too', () => {
    const st = computeStatus(observe({ session: stopped(), templateMissing: true }));
    expect(st.phase).toBe('Stopped');
    expect(st.conditions?.find((c) => c.type === 'TemplateResolved')?.reason).toBe('TemplateNotFound');
  });
});

describe('computeStatus of who watches a running desktop', () => {
  it('keeps since when nobody watches across looks, says when culling acts, and forgets it when someone connects', () => {
    const s = session();
    s.status = computeStatus(observe({ session: s, pod: placed(true), now: later(10) }));
    expect(s.status.viewers).toBeUndefined();
    // Nobody connected at the first look.
    s.status = computeStatus(
      observe({
        session: s,
        pod: placed(true),
        now: later(20),
        viewers: { count: 0, at: later(20) },
        idleTimeoutSeconds: 600,
      }),
    );
    expect(s.status).toMatchObject({
      viewers: 0,
      idleSince: '2026-11-29T10:00:20Z',
      idleUntil: '2026-11-29T10:10:20Z',
    });
    // Still nobody later (or the desktop not asked this time): the same since.
    for (const viewers of [{ count: 0, at: later(80) }, undefined]) {
      const again = computeStatus(
        observe({
          session: s,
          pod: placed(true),
          now: later(80),
          idleTimeoutSeconds: 600,
          ...(viewers ? { viewers } : {}),
        }),
      );
      expect(again).toMatchObject({
        viewers: 0,
        idleSince: '2026-11-29T10:00:20Z',
        idleUntil: '2026-11-29T10:10:20Z',
      });
    }
    // Someone connects: no longer idle.
    s.status = computeStatus(
      observe({
        session: s,
        pod: placed(true),
        now: later(90),
        viewers: { count: 1, at: later(90) },
        idleTimeoutSeconds: 600,
      }),
    );
    expect(s.status.viewers).toBe(1);
    expect(s.status.idleSince).toBeUndefined();
    expect(s.status.idleUntil).toBeUndefined();
  });

  it('says nothing of viewers when the desktop is not running', () => {
    const s = session();
    s.status = computeStatus(
      observe({
        session: s,
        pod: placed(true),
        now: later(20),
        viewers: { count: 0, at: later(20) },
        idleTimeoutSeconds: 60,
      }),
    );
    s.spec.state = 'Stopped';
    const stopped = computeStatus(observe({ session: s, now: later(30), idleTimeoutSeconds: 60 }));
    expect(stopped.viewers).toBeUndefined();
    expect(stopped.idleSince).toBeUndefined();
  });
});

describe('phaseOf', () => {
  it('is Pending with no conditions and Terminating when deleting', () => {
    expect(phaseOf([])).toBe('Pending');
    expect(phaseOf([], true)).toBe('Terminating');
  });
});

describe('statusChanged', () => {
  it('ignores key order but not values', () => {
    expect(statusChanged({ phase: 'Running', url: 'u' }, { url: 'u', phase: 'Running' })).toBe(false);
    expect(statusChanged({ phase: 'Running' }, { phase: 'Starting' })).toBe(true);
    expect(statusChanged(undefined, { phase: 'Pending' })).toBe(true);
  });
});
