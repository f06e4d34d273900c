import { CoalescingChannel } from './session-events.js';

describe('CoalescingChannel', () => {
  it('delivers pushed values in order, waiting when empty', async () => {
    const ch = new CoalescingChannel<string>();
    const first = ch.next();
    ch.push('a', 'a1');
    expect(await first).toEqual({ value: 'a1', done: false });
    ch.push('b', 'b1');
    ch.push('c', 'c1');
    expect((await ch.next()).value).toBe('b1');
    expect((await ch.next()).value).toBe('c1');
  });

  it('keeps only the newest undelivered value per key (bounded by the number of keys)', async () => {
    const ch = new CoalescingChannel<string>();
    for (let i = 0; i < 1000; i++) ch.push(`k${i % 3}`, `v${i}`);
    expect(ch.size).toBe(3);
    expect([(await ch.next()).value, (await ch.next()).value, (await ch.next()).value]).toEqual([
      'v997',
      'v998',
      'v999',
    ]);
  });

  it('return() ends a waiting next(), drops the rest and calls onClose once', async () => {
    let closed = 0;
    const ch = new CoalescingChannel<string>(() => closed++);
    const waiting = ch.next();
    await ch.return();
    await ch.return();
    expect(await waiting).toEqual({ value: undefined, done: true });
    ch.push('a', 'late');
    expect(await ch.next()).toEqual({ value: undefined, done: true });
    expect(closed).toBe(1);
  });
});
