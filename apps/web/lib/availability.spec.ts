import { capacitySummary, isGpuTemplate, templateAvailability } from './availability';

const gpu = { usable: true, defaultGPU: 1, message: null };
const cpu = { usable: true, defaultGPU: 0, message: null };
const cap = (free: number, total = 8, waiting = 0) => ({
  gpuSlicesFree: free,
  gpuSlicesTotal: total,
  sessionsWaiting: waiting,
});

describe('templateAvailability', () => {
  it('offers a GPU template while a time-slice is free', () => {
    expect(templateAvailability(gpu, cap(1))).toEqual({ available: true });
  });

  it('queues a GPU template when every time-slice is taken, saying so', () => {
    expect(templateAvailability(gpu, cap(0))).toEqual({
      available: true,
      queued:
        'No GPU time-slice is free: all 8 are in use. Launching queues your desktop: it starts by itself when a time-slice frees up, and its page shows your place in the queue.',
    });
  });

  it('counts the sessions already waiting', () => {
    const a = templateAvailability(gpu, cap(0, 8, 2));
    expect(a.available && a.queued).toContain('2 sessions are already waiting.');
    const one = templateAvailability(gpu, cap(0, 8, 1));
    expect(one.available && one.queued).toContain('1 session is already waiting.');
  });

  it('says when there is no GPU at all', () => {
    expect(templateAvailability(gpu, cap(0, 0))).toEqual({
      available: false,
      reason: 'This platform has no GPU node ready, so GPU desktops cannot start.',
    });
  });

  it('never holds back a CPU template for lack of GPUs', () => {
    expect(templateAvailability(cpu, cap(0))).toEqual({ available: true });
  });

  it('lets the API decide while capacity is unknown', () => {
    expect(templateAvailability(gpu, undefined)).toEqual({ available: true });
  });

  it('disables an unusable template with the operator’s reason', () => {
    expect(templateAvailability({ ...cpu, usable: false, message: 'image is empty' }, cap(8))).toEqual({
      available: false,
      reason: 'This template cannot be used. Image is empty.',
    });
    expect(templateAvailability({ ...gpu, usable: false }, cap(8))).toMatchObject({ available: false });
  });
});

describe('isGpuTemplate and capacitySummary', () => {
  it('a template is a GPU template when its sessions get a slice by default', () => {
    expect(isGpuTemplate({ defaultGPU: 1 })).toBe(true);
    expect(isGpuTemplate({ defaultGPU: 0 })).toBe(false);
  });
  it.each([
    [cap(3), '3 of 8 GPU time-slices free'],
    [cap(0, 1), '0 of 1 GPU time-slice free'],
    [cap(0, 0), 'No GPU time-slices on this platform'],
  ])('%j → %s', (c, text) => expect(capacitySummary(c)).toBe(text));
});
