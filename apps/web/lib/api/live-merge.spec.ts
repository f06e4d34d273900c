import { ChangesSinceRead, mergeRead, withSessionUpdate } from './live-merge';
import type { Session, SessionUpdate } from './types';

const session = (name: string, phase: Session['phase'] = 'Running'): Session => ({
  name,
  user: 'alice@example.com',
  template: 't',
  phase,
  deleting: false,
  conditions: [],
});
const update = (type: SessionUpdate['type'], name: string, phase?: Session['phase']): SessionUpdate => ({
  type,
  session: session(name, phase),
});
const shown = (l: Session[]) => l.map((s) => `${s.name}:${s.phase}`).sort();

describe('a read and the live events together', () => {
  it('applies CURRENT like an update: replaces a listed session, adds one not listed, never twice', () => {
    let list = [session('a', 'Scheduling'), session('b')];
    list = withSessionUpdate(list, update('CURRENT', 'a', 'Running'));
    list = withSessionUpdate(list, update('CURRENT', 'c', 'Pending'));
    list = withSessionUpdate(list, update('CURRENT', 'c', 'Pending')); // a duplicate is harmless
    expect(shown(list)).toEqual(['a:Running', 'b:Running', 'c:Pending']);
    expect(shown(withSessionUpdate(list, update('DELETED', 'b')))).toEqual(['a:Running', 'c:Pending']);
  });

  it('records only the events that arrive while a read is on its way, the newest per session', () => {
    const changes = new ChangesSinceRead();
    changes.record(update('MODIFIED', 'before'));
    const first = changes.begin();
    changes.record(update('CURRENT', 'a', 'Scheduling'));
    const second = changes.begin();
    changes.record(update('MODIFIED', 'a', 'Running'));
    const one = first();
    changes.record(update('ADDED', 'late'));
    expect([...one.values()]).toEqual([update('MODIFIED', 'a', 'Running')]);
    expect([...second().keys()]).toEqual(['a', 'late']);
    // Answered reads record nothing more.
    changes.record(update('ADDED', 'later'));
    expect(one.size).toBe(1);
  });

  it('an answer older than the events keeps the events: changed, added and deleted sessions', () => {
    const read = [session('a', 'Scheduling'), session('gone'), session('b', 'Starting')];
    const changes = new ChangesSinceRead();
    const since = changes.begin();
    changes.record(update('CURRENT', 'a', 'Scheduling'));
    changes.record(update('MODIFIED', 'a', 'Running')); // after the read was answered on the server
    changes.record(update('DELETED', 'gone'));
    changes.record(update('ADDED', 'new', 'Pending'));
    expect(shown(mergeRead(read, since()))).toEqual(['a:Running', 'b:Starting', 'new:Pending']);
  });

  it('an event for a session the read does not have yet is shown once; a deleted one is not shown again', () => {
    const changes = new ChangesSinceRead();
    const since = changes.begin();
    changes.record(update('CURRENT', 'x', 'Pending'));
    changes.record(update('DELETED', 'x'));
    changes.record(update('CURRENT', 'y', 'Pending'));
    expect(shown(mergeRead([session('y', 'Pending')], since()))).toEqual(['y:Pending']);
  });
});
