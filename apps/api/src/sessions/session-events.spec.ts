import type { VDISession } from '@vdi/crd-types';
import { CoalescingChannel, SessionEvents, type SessionEvent } from './session-events.js';

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

describe('SessionEvents.subscribe with current sessions', () => {
  const session = (name: string, phase = 'Pending'): VDISession =>
    ({ metadata: { name, namespace: 'ns' }, spec: {}, status: { phase } }) as unknown as VDISession;

  /** SessionEvents on a stand-in cache whose add/update/delete the test fires itself. */
  function events() {
    const on: Record<string, (s: VDISession) => void> = {};
    const caches = { sessions: { on: (ev: string, fn: (s: VDISession) => void) => (on[ev] = fn) } };
    const metrics = { subscriptions: { set: () => undefined } };
    return { ev: new SessionEvents(caches as never, metrics as never), on };
  }

  const take = async (ch: AsyncIterator<SessionEvent>, n: number) => {
    const out: [string, string, string][] = [];
    for (let i = 0; i < n; i++) {
      const { value } = await ch.next();
      out.push([value.type, value.session.metadata.name, value.session.status.phase]);
    }
    return out;
  };

  it('sends the sessions that pass the filter as CURRENT, then the changes', async () => {
    const { ev, on } = events();
    const ch = ev.subscribe(
      (s) => s.metadata.name !== 'other',
      () => [session('a', 'Running'), session('other'), session('b', 'Scheduling')],
    );
    on.update!(session('b', 'Starting'));
    on.add!(session('c'));
    on.add!(session('other'));
    expect(await take(ch, 3)).toEqual([
      ['CURRENT', 'a', 'Running'],
      ['MODIFIED', 'b', 'Starting'], // newer than its undelivered CURRENT, which it replaces
      ['ADDED', 'c', 'Pending'],
    ]);
    expect(ch.size).toBe(0);
  });

  it('reads the current sessions only after it listens: a change during the read is not lost', async () => {
    const { ev, on } = events();
    const ch = ev.subscribe(
      () => true,
      () => {
        const seen = [session('a', 'Scheduling'), session('b', 'Running')];
        // The cache changes right after the read saw `a`: only a listener already there hears it,
        // and the older state the read saw must not replace it.
        on.update!(session('a', 'Running'));
        return seen;
      },
    );
    expect(await take(ch, 2)).toEqual([
      ['MODIFIED', 'a', 'Running'],
      ['CURRENT', 'b', 'Running'],
    ]);
  });

  it('without current sends only changes', async () => {
    const { ev, on } = events();
    const ch = ev.subscribe(() => true);
    expect(ch.size).toBe(0);
    on.delete!(session('a'));
    expect(await take(ch, 1)).toEqual([['DELETED', 'a', 'Pending']]);
  });
});
