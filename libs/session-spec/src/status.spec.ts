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

describe('computeStatus of the phase timings', () => {
  const at = (s: number) =>
    later(s)
      .toISOString()
      .replace(/\.\d{3}Z$/, 'Z');
  const waitingPod = (): V1Pod => {
    const p = pending();
    p.status!.conditions![0]!.lastTransitionTime = later(1);
    return p;
  };
  const runningPod = (ready: boolean, restarted = false): V1Pod =>
    placed(ready, {
      conditions: [
        { type: 'PodScheduled', status: 'True', lastTransitionTime: later(20) },
        { type: 'Ready', status: ready ? 'True' : 'False' },
      ],
      containerStatuses: [
        {
          name: 'desktop',
          image: 'desktop:1',
          imageID: 'sha256:1',
          ready,
          restartCount: restarted ? 1 : 0,
          state: { running: { startedAt: restarted ? later(40) : later(25) } },
          ...(restarted ? { lastState: { terminated: { exitCode: 1, startedAt: later(25) } } } : {}),
        },
      ],
    });

  it('records queued, scheduled, image ready, started and ready from the pod, and keeps them across looks', () => {
    const s = session();
    s.status = computeStatus(observe({ session: s, pod: waitingPod(), now: later(3) }));
    expect(s.status.reason).toBe('WaitingForGPU');
    // The scheduler's first refusal, not the operator's look.
    expect(s.status.queuedAt).toBe(at(1));
    expect(s.status.scheduledAt).toBeUndefined();
    s.status = computeStatus(observe({ session: s, pod: runningPod(false), now: later(26) }));
    expect(s.status).toMatchObject({
      phase: 'Starting',
      queuedAt: at(1),
      scheduledAt: at(20),
      imageReadyAt: at(25),
      startedAt: at(25),
    });
    expect(s.status.readyAt).toBeUndefined();
    s.status = computeStatus(observe({ session: s, pod: runningPod(true), now: later(28) }));
    const running = s.status;
    expect(running).toMatchObject({
      phase: 'Running',
      queuedAt: at(1),
      scheduledAt: at(20),
      startedAt: at(25),
      readyAt: at(28),
    });
    // A later look changes nothing: a second write is a no-op.
    expect(
      statusChanged(running, computeStatus(observe({ session: s, pod: runningPod(true), now: later(90) }))),
    ).toBe(false);
  });

  it('moves startedAt when the desktop container restarts, while imageReadyAt stays at its first run', () => {
    const s = session();
    s.status = computeStatus(observe({ session: s, pod: runningPod(true), now: later(30) }));
    const after = computeStatus(observe({ session: s, pod: runningPod(true, true), now: later(45) }));
    expect(after.imageReadyAt).toBe(at(25));
    expect(after.startedAt).toBe(at(40));
  });

  it('has no queuedAt for a desktop placed at once', () => {
    const st = computeStatus(observe({ pod: runningPod(true), now: later(30) }));
    expect(st.queuedAt).toBeUndefined();
    expect(st.scheduledAt).toBe(at(20));
  });

  it('uses the look as queuedAt when the pod does not say when it was refused', () => {
    expect(computeStatus(observe({ pod: pending(), now: later(7) })).queuedAt).toBe(at(7));
  });

  it('keeps them when the pod of a failed start is gone, clears them on stop and starts anew on resume', () => {
    const s = session();
    s.status = computeStatus(observe({ session: s, pod: waitingPod(), now: later(3) }));
    s.status = computeStatus(observe({ session: s, pod: runningPod(true), now: later(30) }));
    // The pod is gone (e.g. a start deadline released it): the facts of this start stay.
    const gone = computeStatus(observe({ session: s, now: later(40) }));
    expect(gone).toMatchObject({ queuedAt: at(1), scheduledAt: at(20), startedAt: at(25) });
    s.spec.state = 'Stopped';
    s.status = computeStatus(observe({ session: s, now: later(60) }));
    for (const k of ['queuedAt', 'scheduledAt', 'imageReadyAt', 'startedAt', 'readyAt'] as const)
      expect(s.status[k]).toBeUndefined();
    s.spec.state = 'Running';
    const again = pending();
    again.status!.conditions![0]!.lastTransitionTime = later(100);
    s.status = computeStatus(observe({ session: s, pod: again, now: later(101) }));
    expect(s.status.resumedAt).toBe(at(101));
    expect(s.status.queuedAt).toBe(at(100));
    expect(s.status.scheduledAt).toBeUndefined();
    expect(s.status.startedAt).toBeUndefined();
    // The next look of the same start keeps the new queuedAt.
    expect(computeStatus(observe({ session: s, pod: again, now: later(130) })).queuedAt).toBe(at(100));
  });
});

describe('computeStatus of a desktop waiting for its home node', () => {
  // As kube-scheduler 1.37 says it (seen on the local cluster), and as older ones did.
  const conflict =
    "0/6 nodes are available: 1 Insufficient nvidia.com/gpu, 1 node(s) didn't match PersistentVolume's node affinity, 1 node(s) had untolerated taint(s), 3 node(s) didn't match Pod's node affinity/selector. preemption: 0/6 nodes are available: 1 No preemption victims found for incoming pod, 5 Preemption is not helpful for scheduling.";
  const older =
    '0/3 nodes are available: 1 Insufficient nvidia.com/gpu, 2 node(s) had volume node affinity conflict.';

  it('understands the older scheduler wording too', () => {
    expect(computeStatus(observe({ pod: pending(older), homeNode: 'gpu-2' })).reason).toBe(
      'WaitingForHomeNode',
    );
  });

  it('says WaitingForHomeNode, naming the node and what to do, when the scheduler refuses other nodes for the home volume', () => {
    const st = computeStatus(
      observe({ pod: pending(conflict), homeNode: 'gpu-2', gpuSlices: { free: 5, total: 16 } }),
    );
    expect(st.phase).toBe('Scheduling');
    expect(st.reason).toBe('WaitingForHomeNode');
    expect(st.message).toMatch(/waiting for node gpu-2/);
    expect(st.message).toMatch(/node-local storage/);
    expect(st.message).toMatch(/shared storage/);
    // It waits for a slice on that node: a queued start.
    expect(st.queuedAt).toBe('2026-11-29T10:00:05Z');
  });

  it('says so without a node name when the claim does not tell it, also for a node that is not ready', () => {
    const st = computeStatus(
      observe({
        pod: pending(
          '0/2 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }, 1 node(s) had volume node affinity conflict.',
        ),
      }),
    );
    expect(st.reason).toBe('WaitingForHomeNode');
    expect(st.message).toMatch(/waiting for the node of its home/);
    expect(st.message).toMatch(/not-ready/);
  });

  it.each([
    [
      'no slice anywhere, no volume conflict',
      '0/1 nodes are available: 1 Insufficient nvidia.com/gpu.',
      'WaitingForGPU',
    ],
    [
      'a conflict of another kind',
      "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector.",
      'Unschedulable',
    ],
  ])('keeps other reasons: %s', (_what, message, reason) => {
    expect(computeStatus(observe({ pod: pending(message), homeNode: 'gpu-2' })).reason).toBe(reason);
  });
});

describe('the start deadline (counted from when the platform could start the desktop)', () => {
  const at = (s: number) =>
    later(s)
      .toISOString()
      .replace(/\.\d{3}Z$/, 'Z');
  /** A pod the operator made at `made` seconds, placed at `placedAt` (undefined: waiting for a GPU). */
  const podOf = (made: number, placedAt?: number): V1Pod => {
    const pod = placedAt === undefined ? pending() : placed(false);
    pod.metadata = { creationTimestamp: later(made) };
    if (placedAt !== undefined)
      pod.status!.conditions![0] = {
        type: 'PodScheduled',
        status: 'True',
        lastTransitionTime: later(placedAt),
      };
    return pod;
  };

  it('never runs while the pod waits in the queue for a GPU, however long, and says so', () => {
    const st = computeStatus(observe({ pod: podOf(1), now: later(86_400) }));
    expect(st.phase).toBe('Scheduling');
    expect(st.reason).toBe('WaitingForGPU');
    expect(st.message).toMatch(/does not count against its start deadline/);
    expect(st.startDeadlineAt).toBeUndefined();
  });

  it('never runs while the scheduler has not decided on the pod yet (its queue, a home being provisioned)', () => {
    const unseen = podOf(1);
    unseen.status!.conditions = [];
    const st = computeStatus(observe({ pod: unseen, now: later(3_600) }));
    expect(st.phase).toBe('Scheduling');
    expect(st.reason).toBe('WaitingForScheduler');
    expect(st.message).toMatch(/does not count against its start deadline/);
    expect(st.startDeadlineAt).toBeUndefined();
  });

  it('does not run before the operator made the pod (a burst it is still working through)', () => {
    const st = computeStatus(observe({ now: later(3_600) }));
    expect(st.phase).toBe('Scheduling');
    expect(st.startDeadlineAt).toBeUndefined();
  });

  it('runs from the placement after a wait in the queue, and fails only a whole deadline after it', () => {
    // Created at 0, queued for an hour, placed at 3600.
    const starting = computeStatus(observe({ pod: podOf(1, 3_600), now: later(3_610) }));
    expect(starting.phase).toBe('Starting');
    expect(starting.startDeadlineAt).toBe(at(3_900));
    expect(computeStatus(observe({ pod: podOf(1, 3_600), now: later(3_899) })).phase).toBe('Starting');
    const late = computeStatus(observe({ pod: podOf(1, 3_600), now: later(3_901) }));
    expect(late.phase).toBe('Failed');
    expect(late.reason).toBe('StartDeadlineExceeded');
    expect(late.message).toMatch(
      /within 300s of being placed on node gpu-1 \(time queued for a GPU does not count\)/,
    );
    expect(late.startDeadlineAt).toBeUndefined();
  });

  it('never runs while the scheduler has not seen the home claim the operator just made; does for another claim', () => {
    const message = (claim: string) =>
      `0/82 nodes are available: persistentvolumeclaim "${claim}" not found. not found`;
    const early = podOf(100);
    early.status!.conditions![0]!.message = message('home-alice-0123');
    const st = computeStatus(observe({ pod: early, homeClaim: 'home-alice-0123', now: later(3_600) }));
    expect(st.phase).toBe('Scheduling');
    expect(st.reason).toBe('WaitingForScheduler');
    expect(st.message).toMatch(
      /home volume claim home-alice-0123 .*does not count against its start deadline/,
    );
    expect(st.startDeadlineAt).toBeUndefined();
    // A claim that is not the session's home (not the operator's to make) is a verdict.
    const other = podOf(100);
    other.status!.conditions![0]!.message = message('someone-elses');
    const verdict = computeStatus(observe({ pod: other, homeClaim: 'home-alice-0123', now: later(200) }));
    expect(verdict.reason).toBe('Unschedulable');
    expect(verdict.startDeadlineAt).toBe(at(400));
  });

  it('runs from the pod being made for a pod no node can run (not a queue)', () => {
    const nowhere = podOf(100);
    nowhere.status!.conditions![0]!.message =
      "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector.";
    const st = computeStatus(observe({ pod: nowhere, now: later(200) }));
    expect(st.reason).toBe('Unschedulable');
    expect(st.startDeadlineAt).toBe(at(400));
    const late = computeStatus(observe({ pod: nowhere, now: later(401) }));
    expect(late.reason).toBe('StartDeadlineExceeded');
    expect(late.message).toMatch(/of its pod being made/);
  });

  it('is unset once the desktop is ready', () => {
    expect(computeStatus(observe({ pod: placed(true), now: later(10) })).startDeadlineAt).toBeUndefined();
  });
});
