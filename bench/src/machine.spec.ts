import { busyTicks, machineLoad, pressureTotalUs } from './machine.js';

describe('busyTicks', () => {
  it('adds user, nice, system, irq, softirq and steal, not idle and iowait', () => {
    expect(busyTicks('cpu  100 5 50 1000 40 3 2 1 0 0\ncpu0 1 2 3 4 5 6 7 8 9 10\n')).toBe(161);
  });
});

describe('pressureTotalUs', () => {
  it('reads the `some` total', () => {
    expect(
      pressureTotalUs(
        'some avg10=1.00 avg60=2.00 avg300=3.00 total=123456\nfull avg10=0 avg60=0 avg300=0 total=7\n',
      ),
    ).toBe(123456);
  });
});

describe('machineLoad', () => {
  it('gives busy cores and the stall share over the wall time', () => {
    expect(
      machineLoad({ at: 0, busyMs: 1000, pressureUs: 0 }, { at: 2000, busyMs: 4000, pressureUs: 500_000 }),
    ).toEqual({ wallMs: 2000, busyCores: 1.5, cpuPressure: 0.25 });
  });
});
