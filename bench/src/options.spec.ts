import { parseOptions, PHASES, UsageError } from './options.js';

describe('parseOptions', () => {
  it('defaults to the issue’s full size: 500 sessions on 64 nodes × 8 slices, 5000 steady, chaos 300', () => {
    const o = parseOptions([], '/out');
    expect(o).toMatchObject({
      sessions: 500,
      nodes: 64,
      gpusPerNode: 1,
      slices: 8,
      steadySessions: 5000,
      apiClients: 50,
      chaosSessions: 300,
      persistence: 'user',
      cluster: 'own',
      outDir: '/out',
      reference: false,
    });
    expect(o.phases).toEqual([...PHASES]);
  });

  it('takes a preset and overrides single sizes after it', () => {
    const o = parseOptions(['--sessions', '40', '--size', 'small', '--chaos-kill', '1-3'], '/out');
    expect(o).toMatchObject({ sessions: 40, nodes: 16, steadySessions: 1000, chaosSessions: 60 });
    expect([o.chaosKillMinSeconds, o.chaosKillMaxSeconds]).toEqual([1, 3]);
  });

  it('gives the operator as many bursts as the floor has runs, unless told how many', () => {
    expect(parseOptions([], '/o')).toMatchObject({ floorConcurrency: [8, 16, 50], operatorRuns: 3 });
    expect(parseOptions(['--floor-concurrency', '50'], '/o').operatorRuns).toBe(1);
    expect(parseOptions(['--floor-concurrency', '8,50', '--operator-runs', '5'], '/o').operatorRuns).toBe(5);
    expect(() => parseOptions(['--operator-runs', '0'], '/o')).toThrow(UsageError);
  });

  it('runs the phases asked for, in their fixed order', () => {
    expect(parseOptions(['--phases', 'chaos,floor'], '/o').phases).toEqual(['floor', 'chaos']);
  });

  it.each([
    [['--size', 'huge']],
    [['--sessions', '0']],
    [['--sessions']],
    [['--phases', 'floor,bogus']],
    [['--persistence', 'forever']],
    [['--chaos-kill', '5-2']],
    [['--whatever']],
    [['--sessions', '600']],
    [['--phases', 'api']],
  ])('refuses %p', (argv) => {
    expect(() => parseOptions(argv, '/o')).toThrow(UsageError);
  });

  it('lets a burst larger than the default nodes run when the nodes are given', () => {
    expect(parseOptions(['--sessions', '600', '--nodes', '75'], '/o').sessions).toBe(600);
    expect(parseOptions(['--sessions', '600', '--phases', 'steady'], '/o').sessions).toBe(600);
  });
});
