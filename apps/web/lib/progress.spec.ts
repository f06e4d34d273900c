import type { SessionPhase, SessionReason } from './api/types';
import { phaseLabel, reasonWords, rereadsWhileOpen, sessionProgress, type StepState } from './progress';

const cond = (type: string, status: string, reason = '') => ({ type, status, reason, message: '' });
const states = (p: ReturnType<typeof sessionProgress>) => p.steps.map((s) => s.state);

describe('sessionProgress', () => {
  it.each<[SessionPhase, SessionReason | null, StepState[], string]>([
    ['Pending', null, ['current', 'todo', 'todo', 'todo'], 'progress'],
    ['Pending', 'TemplateNotFound', ['waiting', 'todo', 'todo', 'todo'], 'waiting'],
    ['Scheduling', 'WaitingForScheduler', ['done', 'current', 'todo', 'todo'], 'progress'],
    ['Scheduling', 'WaitingForGPU', ['done', 'waiting', 'todo', 'todo'], 'waiting'],
    ['Scheduling', 'Unschedulable', ['done', 'waiting', 'todo', 'todo'], 'waiting'],
    ['Scheduling', 'WaitingForHomeNode', ['done', 'waiting', 'todo', 'todo'], 'waiting'],
    ['Starting', 'ContainersStarting', ['done', 'done', 'current', 'todo'], 'progress'],
    ['Running', 'DesktopReady', ['done', 'done', 'done', 'done'], 'ready'],
  ])('%s (%s) → steps %j, tone %s', (phase, reason, expected, tone) => {
    const p = sessionProgress({ phase, reason, message: null, conditions: [] });
    expect(states(p)).toEqual(expected);
    expect(p.tone).toBe(tone);
  });

  it('explains a wait for a GPU in words, with the operator’s message as detail', () => {
    const p = sessionProgress({
      phase: 'Scheduling',
      reason: 'WaitingForGPU',
      message: 'waiting for a GPU: 0 of 8 time-slices free; the desktop starts by itself when one frees up',
      conditions: [],
    });
    expect(p.headline).toBe('Waiting for a free GPU time-slice');
    expect(p.explanation).toMatch(/starts by itself as soon as one frees up/);
    expect(p.detail).toBe(
      'Waiting for a GPU: 0 of 8 time-slices free; the desktop starts by itself when one frees up.',
    );
  });

  it('says a desktop waits for the node of its home', () => {
    const p = sessionProgress({
      phase: 'Scheduling',
      reason: 'WaitingForHomeNode',
      message: 'waiting for node gpu-2: the session’s home is on node-local storage there',
      conditions: [],
    });
    expect(p.headline).toBe('Waiting for the node that holds your home folder');
    expect(p.explanation).toMatch(/home folder lives on one GPU node/);
    expect(p.detail).toMatch(/^Waiting for node gpu-2/);
  });

  it('names the node a starting desktop was placed on', () => {
    expect(
      sessionProgress({ phase: 'Starting', reason: 'ContainersStarting', nodeName: 'gpu-1', conditions: [] })
        .headline,
    ).toBe('Starting your desktop on node gpu-1');
  });

  it.each([
    [[cond('ResourcesApplied', 'False', 'ApplyFailed')], ['failed', 'todo', 'todo', 'todo']],
    [[cond('ResourcesApplied', 'True')], ['done', 'failed', 'todo', 'todo']],
    [
      [cond('ResourcesApplied', 'True'), cond('Scheduled', 'True')],
      ['done', 'done', 'failed', 'todo'],
    ],
  ])('marks the step where a start failed (%j)', (conditions, expected) => {
    const p = sessionProgress({ phase: 'Failed', reason: 'ImagePullFailed', message: 'x', conditions });
    expect(states(p)).toEqual(expected);
    expect(p.tone).toBe('failed');
    expect(p.explanation).toMatch(/image could not be downloaded/);
  });

  it('says a session being deleted is going away', () => {
    const p = sessionProgress({ phase: 'Terminating', reason: 'Deleting', conditions: [] });
    expect(p).toMatchObject({ tone: 'ending', headline: 'This session is being deleted' });
  });

  it('shows an unknown phase or reason as it is rather than failing', () => {
    // Not in this portal's types, but an API newer than the portal may add enum values.
    const p = sessionProgress({
      phase: 'Hibernating' as SessionPhase,
      reason: 'Sleepy' as SessionReason,
      message: 'zz',
      conditions: [],
    });
    expect(p.headline).toBe('The session is Hibernating');
    expect(p.explanation).toBeUndefined();
    expect(p.detail).toBe('Zz.');
  });
});

describe('words', () => {
  it('has words for reasons and short labels for phases', () => {
    expect(reasonWords('Unschedulable')).toMatch(/No node can run your desktop/);
    expect(reasonWords(undefined)).toBeUndefined();
    expect(phaseLabel('Pending')).toBe('Queued');
    expect(phaseLabel('Terminating')).toBe('Deleting');
    expect(phaseLabel('Other')).toBe('Other');
  });
});

describe('rereadsWhileOpen', () => {
  const at = (phase: SessionPhase, queuePosition: number | null = null, deleting = false) => ({
    phase,
    queuePosition,
    deleting,
  });
  it('while the session waits in the queue or is on its way', () => {
    expect(rereadsWhileOpen(at('Scheduling', 1))).toBe(true);
    // A first read that came before the session was queued: still read again (no event may come).
    expect(rereadsWhileOpen(at('Pending'))).toBe(true);
    expect(rereadsWhileOpen(at('Scheduling'))).toBe(true);
    expect(rereadsWhileOpen(at('Starting'))).toBe(true);
  });
  it('not once it is settled, being deleted, or not read yet', () => {
    for (const phase of ['Running', 'Stopped', 'Failed', 'Terminating'] as SessionPhase[])
      expect(rereadsWhileOpen(at(phase))).toBe(false);
    expect(rereadsWhileOpen(at('Scheduling', 2, true))).toBe(false);
    expect(rereadsWhileOpen(undefined)).toBe(false);
  });
});
