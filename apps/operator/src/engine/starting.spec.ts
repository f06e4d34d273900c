/**
 * Which sessions count as being started (what deferred writes wait for): new and on-the-way
 * sessions do, those waiting for a GPU, a fix or their home's node do not, and none counts longer
 * than its window.
 */
import type { VDISession, VDISessionStatus } from '@vdi/crd-types';
import { sampleSession } from '@vdi/session-spec/testing';
import { isStarting, onlyProgress, StartingSessions } from './starting.js';

const session = (
  name: string,
  status?: Partial<VDISessionStatus>,
  extra: Partial<VDISession['spec']> = {},
) => {
  const s = sampleSession();
  return {
    ...s,
    metadata: { ...s.metadata, name },
    spec: { ...s.spec, ...extra },
    ...(status ? { status } : {}),
  } as VDISession;
};

describe('onlyProgress', () => {
  const cond = (type: string, status: 'True' | 'False', reason: string) => ({
    type,
    status,
    reason,
    message: reason,
    lastTransitionTime: '2026-03-02T09:00:00Z',
  });
  const applied = cond('ResourcesApplied', 'True', 'Applied');
  it('is true for a start moving on by itself: the scheduler not yet at it, or the desktop starting', () => {
    const placed = cond('Scheduled', 'True', 'PodScheduled');
    expect(
      onlyProgress({
        phase: 'Scheduling',
        conditions: [applied, cond('Scheduled', 'False', 'WaitingForScheduler')],
      }),
    ).toBe(true);
    expect(
      onlyProgress({
        phase: 'Starting',
        conditions: [applied, placed, cond('Ready', 'False', 'ContainersStarting')],
      }),
    ).toBe(true);
  });
  it('is false for a queue, a failure, or a desktop that is ready', () => {
    expect(
      onlyProgress({
        phase: 'Scheduling',
        conditions: [applied, cond('Scheduled', 'False', 'WaitingForGPU')],
      }),
    ).toBe(false);
    expect(
      onlyProgress({
        phase: 'Scheduling',
        conditions: [applied, cond('Scheduled', 'False', 'Unschedulable')],
      }),
    ).toBe(false);
    expect(
      onlyProgress({ phase: 'Failed', conditions: [applied, cond('Ready', 'False', 'ImagePullFailed')] }),
    ).toBe(false);
    expect(
      onlyProgress({ phase: 'Pending', conditions: [cond('ResourcesApplied', 'False', 'ApplyFailed')] }),
    ).toBe(false);
    expect(
      onlyProgress({ phase: 'Running', conditions: [applied, cond('Ready', 'True', 'DesktopReady')] }),
    ).toBe(false);
  });
});

describe('isStarting', () => {
  it('is true for a new session and for one on its way to Running', () => {
    expect(isStarting(session('a'))).toBe(true);
    expect(isStarting(session('a', { phase: 'Pending' }))).toBe(true);
    expect(isStarting(session('a', { phase: 'Scheduling', reason: 'WaitingForScheduler' }))).toBe(true);
    expect(isStarting(session('a', { phase: 'Starting', reason: 'ContainersStarting' }))).toBe(true);
  });

  it('is false for a session that waits for something the operator cannot speed up, or is done', () => {
    expect(isStarting(session('a', { phase: 'Scheduling', reason: 'WaitingForGPU' }))).toBe(false);
    expect(isStarting(session('a', { phase: 'Scheduling', reason: 'WaitingForHomeNode' }))).toBe(false);
    expect(isStarting(session('a', { phase: 'Pending', reason: 'TemplateNotFound' }))).toBe(false);
    expect(isStarting(session('a', { phase: 'Running', reason: 'DesktopReady' }))).toBe(false);
    expect(isStarting(session('a', { phase: 'Failed', reason: 'ImagePullFailed' }))).toBe(false);
    expect(isStarting(session('a', undefined, { state: 'Stopped' }))).toBe(false);
    const deleting = session('a');
    deleting.metadata.deletionTimestamp = '2026-12-06T00:00:00Z' as unknown as Date;
    expect(isStarting(deleting)).toBe(false);
  });
});

describe('StartingSessions', () => {
  it('counts sessions starting, forgets those that get there or leave, and stops counting after the window', () => {
    let now = 0;
    const starting = new StartingSessions(1000, () => now);
    starting.set(session('a'));
    starting.set(session('b', { phase: 'Pending' }));
    starting.set(session('c', { phase: 'Scheduling', reason: 'WaitingForGPU' }));
    expect(starting.count()).toBe(2);
    // An update of a session still starting keeps its first time.
    now = 600;
    starting.set(session('a', { phase: 'Starting' }));
    starting.set(session('d'));
    expect(starting.count()).toBe(3);
    // Running, or deleted: no longer counted.
    starting.set(session('b', { phase: 'Running' }));
    starting.delete(session('d'));
    expect(starting.count()).toBe(1);
    // a's start has not moved on for longer than the window: not counted, even when the same
    // status comes again…
    now = 1700;
    expect(starting.count()).toBe(0);
    starting.set(session('a', { phase: 'Starting' }));
    expect(starting.count()).toBe(0);
    // …until it moves on: counted for a window from then.
    starting.set(session('a', { phase: 'Starting', reason: 'ContainersStarting' }));
    expect(starting.count()).toBe(1);
    now = 2800;
    expect(starting.count()).toBe(0);
    // Leaving the start and beginning another (a resume) counts again too.
    starting.set(session('a', { phase: 'Stopped' }, { state: 'Stopped' }));
    starting.set(session('a', { phase: 'Stopped' }));
    expect(starting.count()).toBe(0);
    starting.set(session('a', { phase: 'Pending' }));
    expect(starting.count()).toBe(1);
  });

  it('holds a burst longer than the window while its starts move on, and not one stuck start', () => {
    let now = 0;
    const starting = new StartingSessions(1000, () => now);
    // 30 sessions arrive at once; each moves on (its pod made) at a time of its own within 2.9 s,
    // and is Running 0.9 s after that: the burst takes four windows.
    for (let i = 0; i < 30; i++) starting.set(session(`s${i}`));
    for (let t = 0; t <= 4000; t += 50) {
      now = t;
      for (let i = 0; i < 30; i++) {
        if (t === i * 100) starting.set(session(`s${i}`, { phase: 'Starting', reason: 'PodScheduled' }));
        if (t === i * 100 + 900) starting.set(session(`s${i}`, { phase: 'Running' }));
      }
      if (t < 3800) expect(starting.burst(4)).toBe(true);
    }
    expect(starting.count()).toBe(0);
    expect(starting.burst(4)).toBe(false);
    // One start that never moves on holds nothing beyond its window.
    for (const n of ['x', 'y', 'z', 'w']) starting.set(session(n));
    expect(starting.burst(4)).toBe(true);
    for (const n of ['y', 'z', 'w']) starting.set(session(n, { phase: 'Running' }));
    now += 1000;
    expect(starting.burst(4)).toBe(false);
  });

  it('does not count a desktop that cannot pull its image, crash-loops or failed', () => {
    const starting = new StartingSessions(60_000, () => 0);
    for (const reason of ['ImagePullFailed', 'CrashLooping', 'PodFailed'])
      starting.set(session(reason.toLowerCase(), { phase: 'Starting', reason }));
    expect(starting.count()).toBe(0);
  });

  it('holds a burst from `threshold` sessions starting until none is', () => {
    const starting = new StartingSessions(60_000, () => 0);
    starting.set(session('a'));
    starting.set(session('b'));
    // Two starting: not a burst of three.
    expect(starting.burst(3)).toBe(false);
    starting.set(session('c'));
    expect(starting.burst(3)).toBe(true);
    // Still one of the burst's starts to go: held.
    starting.set(session('a', { phase: 'Running' }));
    starting.set(session('b', { phase: 'Running' }));
    expect(starting.burst(3)).toBe(true);
    starting.set(session('c', { phase: 'Running' }));
    expect(starting.burst(3)).toBe(false);
    // One session starting alone is no burst.
    starting.set(session('d'));
    expect(starting.burst(3)).toBe(false);
  });
});
