import { isGreen, summaryLine, totals, type JestJson } from './summary.js';

const run = (o: Partial<JestJson>): JestJson => ({
  numPassedTests: 0,
  numFailedTests: 0,
  numPendingTests: 0,
  numRuntimeErrorTestSuites: 0,
  numTotalTests: 0,
  success: true,
  ...o,
});

describe('test summary', () => {
  it('adds up the tiers', () => {
    const t = totals([run({ numPassedTests: 10 }), run({ numPassedTests: 5, numFailedTests: 1 })]);
    expect(summaryLine(t)).toBe('tests: 15 passed, 1 failed, 0 skipped');
    expect(isGreen(t)).toBe(false);
  });
  it('counts a suite that crashed before its tests as a failure', () => {
    const t = totals([run({ numPassedTests: 3, numRuntimeErrorTestSuites: 1 })]);
    expect(t.failed).toBe(1);
    expect(isGreen(t)).toBe(false);
  });
  it('is not green when nothing ran or something was skipped', () => {
    expect(isGreen(totals([run({})]))).toBe(false);
    expect(isGreen(totals([run({ numPassedTests: 2, numPendingTests: 1 })]))).toBe(false);
    expect(isGreen(totals([run({ numPassedTests: 2 })]))).toBe(true);
  });
});
