import { describe, expect, it } from '@jest/globals';
import { podReadyFacts } from './burst.js';

const at = (entries: [string, number][]) => new Map(entries);

describe('podReadyFacts', () => {
  const timeline = {
    created: at([
      ['a', 1000],
      ['b', 1100],
      ['c', 1200],
    ]),
    podReady: at([
      ['a', 3000],
      ['b', 4100],
    ]),
    // c's status said Running before its pod's own event came; b's status came a moment
    // before its pod's event.
    running: at([
      ['a', 3500],
      ['b', 4000],
      ['c', 5000],
    ]),
  };

  it('times the pods Ready that were seen, and the operator’s report after each', () => {
    const f = podReadyFacts(['a', 'b', 'c'], 1000, timeline, true);
    expect(f.createToPodReady).toMatchObject({ n: 2, min: 2000, max: 3000 });
    expect(f.lastPodReadyMs).toBe(3100);
    // Never negative: two watches, the status's event can come first.
    expect(f.podReadyToRunning).toMatchObject({ n: 2, min: 0, max: 500 });
  });

  it('reports no lag for a floor run, whose Running is the pod Ready itself', () => {
    const f = podReadyFacts(['a', 'b', 'c'], 1000, timeline, false);
    expect(f.podReadyToRunning).toBeUndefined();
    expect(f.lastPodReadyMs).toBe(3100);
  });

  it('says nothing when no pod was seen Ready', () => {
    expect(podReadyFacts(['c'], 1000, { ...timeline, podReady: new Map() }, true)).toEqual({});
  });
});
