/**
 * Turns jest's JSON results into the closing line of a test run: `tests: N passed, N failed,
 * N skipped`. Suites that crashed before running their tests count as failures, so a broken
 * import can never pass as "0 failed".
 */
export interface JestJson {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests?: number;
  numRuntimeErrorTestSuites: number;
  numTotalTests: number;
  success: boolean;
}

export interface Totals {
  passed: number;
  failed: number;
  skipped: number;
}

export function totals(results: JestJson[]): Totals {
  return results.reduce<Totals>(
    (t, r) => ({
      passed: t.passed + r.numPassedTests,
      failed: t.failed + r.numFailedTests + r.numRuntimeErrorTestSuites,
      skipped: t.skipped + r.numPendingTests + (r.numTodoTests ?? 0),
    }),
    { passed: 0, failed: 0, skipped: 0 },
  );
}

export function summaryLine(t: Totals): string {
  return `tests: ${t.passed} passed, ${t.failed} failed, ${t.skipped} skipped`;
}

/** A run is green only when something ran, nothing failed and nothing was skipped. */
export function isGreen(t: Totals): boolean {
  return t.passed > 0 && t.failed === 0 && t.skipped === 0;
}
