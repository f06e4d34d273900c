import type { Session } from './api/types';
import { firstPage, withPage, withUpdate } from './session-pages';

const session = (name: string, minute: number, s: Partial<Session> = {}): Session => ({
  name,
  user: `${name}@example.com`,
  template: 't',
  phase: 'Running',
  createdAt: `2026-12-04T10:${String(minute).padStart(2, '0')}:00Z`,
  deleting: false,
  conditions: [],
  ...s,
});
const names = (l: { sessions: Session[] }) => l.sessions.map((s) => s.name);

describe('sessions a page at a time, kept live', () => {
  const page1 = { items: [session('d', 4), session('c', 3)], nextCursor: 'c1', totalCount: 4 };
  const page2 = { items: [session('b', 2), session('a', 1)], nextCursor: null, totalCount: 4 };

  it('adds the next page after the loaded ones and stops at the last', () => {
    const one = firstPage(page1);
    expect(one).toEqual({ sessions: page1.items, nextCursor: 'c1', totalCount: 4 });
    const two = withPage(one, page2);
    expect(names(two)).toEqual(['d', 'c', 'b', 'a']);
    expect(two.nextCursor).toBeNull();
  });

  it('puts a new session on top and counts it', () => {
    const l = withUpdate(firstPage(page1), { type: 'ADDED', session: session('e', 5) });
    expect(names(l)).toEqual(['e', 'd', 'c']);
    expect(l.totalCount).toBe(5);
  });

  it('updates a listed session, and leaves one on a page not loaded yet to that page', () => {
    const l = firstPage(page1);
    const updated = withUpdate(l, { type: 'MODIFIED', session: session('c', 3, { phase: 'Stopped' }) });
    expect(updated.sessions.find((s) => s.name === 'c')?.phase).toBe('Stopped');
    expect(withUpdate(l, { type: 'MODIFIED', session: session('a', 1, { phase: 'Stopped' }) })).toBe(l);
  });

  it('drops a deleted session and counts one fewer, loaded or not', () => {
    const l = firstPage(page1);
    const gone = withUpdate(l, { type: 'DELETED', session: session('d', 4) });
    expect(names(gone)).toEqual(['c']);
    expect(gone.totalCount).toBe(3);
    expect(withUpdate(gone, { type: 'DELETED', session: session('a', 1) }).totalCount).toBe(2);
  });

  it('takes the current state (CURRENT) of listed sessions, adds one new since the read, leaves the rest to their pages', () => {
    const l = firstPage(page1);
    const current = withUpdate(l, { type: 'CURRENT', session: session('d', 4, { phase: 'Stopped' }) });
    expect(names(current)).toEqual(['d', 'c']);
    expect(current.sessions[0]?.phase).toBe('Stopped');
    expect(current.totalCount).toBe(4);
    // Created after the page was read, before the subscription started: newest, so shown and counted.
    const added = withUpdate(current, { type: 'CURRENT', session: session('e', 5) });
    expect(names(added)).toEqual(['e', 'd', 'c']);
    expect(added.totalCount).toBe(5);
    // On the next page, not loaded yet: not shown, already counted.
    expect(withUpdate(added, { type: 'CURRENT', session: session('a', 1) })).toBe(added);
    // With every page loaded, any session not listed is new.
    const all = withPage(l, { items: [session('b', 2)], nextCursor: null, totalCount: 3 });
    const late = withUpdate(all, { type: 'CURRENT', session: session('a', 1) });
    expect(names(late)).toEqual(['d', 'c', 'b', 'a']);
    expect(late.totalCount).toBe(4);
  });

  it('a page loaded after live events keeps their state', () => {
    const l = withUpdate(firstPage(page1), {
      type: 'MODIFIED',
      session: session('c', 3, { phase: 'Stopped' }),
    });
    // The next page overlaps (c moved pages on the server side): the live state stays.
    const next = withPage(l, { items: [session('c', 3), session('b', 2)], nextCursor: null, totalCount: 4 });
    expect(names(next)).toEqual(['d', 'c', 'b']);
    expect(next.sessions.find((s) => s.name === 'c')?.phase).toBe('Stopped');
  });
});
