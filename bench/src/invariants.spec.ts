import { checkInvariants, problemCount, type ChildView, type SessionView } from './invariants.js';

const session = (name: string, over: Partial<SessionView> = {}): SessionView => ({
  name,
  uid: `uid-${name}`,
  finalizers: ['vdi.kasm.io/session-cleanup'],
  phase: 'Running',
  ...over,
});
const child = (kind: string, session: string, over: Partial<ChildView> = {}): ChildView => ({
  kind,
  name: session,
  session,
  ownerReferences: [{ kind: 'VDISession', name: session, uid: `uid-${session}`, controller: true }],
  ...over,
});

describe('checkInvariants', () => {
  it('finds nothing wrong with Running sessions that own their children', () => {
    const r = checkInvariants(
      [session('a'), session('b')],
      [child('pods', 'a'), child('services', 'a'), child('pods', 'b')],
      new Set(['a', 'b']),
    );
    expect(problemCount(r)).toBe(0);
  });

  it('reports a child of a session that is gone, and one owned by an earlier session of the same name', () => {
    const r = checkInvariants(
      [session('a', { uid: 'uid-a-2' })],
      [child('pods', 'a'), child('secrets', 'gone')],
    );
    expect(r.leakedChildren).toEqual([
      'pods/a: controller a (uid-a), not a (uid-a-2)',
      'secrets/gone: session gone does not exist',
    ]);
  });

  it('reports a child without a controller and one being deleted under a live session', () => {
    const r = checkInvariants(
      [session('a')],
      [child('services', 'a', { ownerReferences: [] }), child('pods', 'a', { deletionTimestamp: 'now' })],
    );
    expect(r.leakedChildren).toHaveLength(2);
  });

  it('reports two pods of one session', () => {
    const r = checkInvariants([session('a')], [child('pods', 'a'), child('pods', 'a', { name: 'a-2' })]);
    expect(r.duplicatePods).toEqual(['a: a, a-2']);
  });

  it('reports a deleted session still held by its finalizer, and live sessions not Running', () => {
    const r = checkInvariants(
      [
        session('a', { deletionTimestamp: 't', phase: 'Terminating' }),
        session('b', { phase: 'Starting' }),
        session('c', { phase: undefined }),
      ],
      [],
    );
    expect(r.stuckFinalizers).toEqual(['a: deleted at t, finalizers vdi.kasm.io/session-cleanup']);
    expect(r.notRunning).toEqual(['b: Starting', 'c: no status']);
  });

  it('compares the sessions with those the churn left alive', () => {
    const r = checkInvariants([session('a'), session('x')], [], new Set(['a', 'b']));
    expect(r.unexpected).toEqual(['b: missing', 'x: deleted but still there']);
  });
});
