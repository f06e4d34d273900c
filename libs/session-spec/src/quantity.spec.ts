import { cpuMillis, parseQuantity } from './quantity.js';

describe('parseQuantity', () => {
  it.each([
    ['4Gi', 4 * 2 ** 30],
    ['512Mi', 512 * 2 ** 20],
    ['1.5Gi', 1.5 * 2 ** 30],
    ['500m', 0.5],
    ['2', 2],
    ['1k', 1000],
    ['2e3', 2000],
    ['.5', 0.5],
  ])('%s = %d', (q, n) => {
    expect(parseQuantity(q)).toBeCloseTo(n, 9);
  });
  it.each(['', 'lots', '4GB', '1.2.3', 'Gi'])('rejects %p', (q) => {
    expect(() => parseQuantity(q)).toThrow(/not a Kubernetes quantity/);
  });
});

describe('cpuMillis', () => {
  it.each([
    ['2', 2000],
    ['500m', 500],
    ['0.25', 250],
    ['1.0001', 1001],
  ])('%s = %dm', (q, m) => {
    expect(cpuMillis(q)).toBe(m);
  });
});
