/**
 * SessionWriter against the recording fake: the finalizer and status patches, and the memo of
 * the last write that keeps a reconcile from acting on an older copy.
 */
import { SESSION_FINALIZER, type VDISession, type VDISessionStatus } from '@vdi/crd-types';
import { sampleSession } from '@vdi/session-spec/testing';
import { SessionWriter } from './session-writes.js';
import { apiError, asClient, FakeKubeClient, RecordingEvents, sessionObject, silentLog } from './testing.js';

const KEY = 'vdi-sessions/alice-1';
const running: VDISessionStatus = { phase: 'Running', reason: 'Ready', message: 'ready' };

function setup() {
  const client = new FakeKubeClient();
  const events = new RecordingEvents();
  const session = client.seed(sessionObject(sampleSession())) as VDISession;
  const writes = new SessionWriter({ client: asClient(client), log: silentLog, events });
  return { client, events, session, writes };
}

describe('SessionWriter', () => {
  it('appends the finalizer to a list another controller started', async () => {
    const w = setup();
    const theirs = w.client.seed({
      ...w.session,
      metadata: { ...w.session.metadata, finalizers: ['x.io/keep'] },
    });
    expect(await w.writes.addFinalizer(theirs as VDISession)).toBe(true);
    expect(w.client.calls[0]!.body).toEqual([
      { op: 'test', path: '/metadata/resourceVersion', value: theirs.metadata.resourceVersion },
      { op: 'add', path: '/metadata/finalizers/-', value: SESSION_FINALIZER },
    ]);
    expect(w.client.stored<VDISession>('VDISession', 'alice-1', 'vdi-sessions')!.metadata.finalizers).toEqual(
      ['x.io/keep', SESSION_FINALIZER],
    );
  });

  it('adds nothing to a version it did not read (422 from the resourceVersion test)', async () => {
    const w = setup();
    const stale = { ...w.session, metadata: { ...w.session.metadata, resourceVersion: '1' } };
    await expect(w.writes.addFinalizer(stale)).rejects.toMatchObject({ status: 422 });
  });

  it('serves its last write until the cache is past it', async () => {
    const w = setup();
    expect(await w.writes.addFinalizer(w.session)).toBe(true);
    const written = w.writes.lastWritten(KEY, w.session.metadata.uid)!;
    expect(written.metadata.finalizers).toEqual([SESSION_FINALIZER]);
    expect(w.writes.lastWritten(KEY, 'another-uid')).toBeUndefined();
    // The cache still has the version before the write: the written copy is fresher.
    expect(w.writes.freshest(KEY, w.session)).toBe(written);
    // The cache caught up (or moved on): the cached copy, and the memo is dropped.
    const later = { ...written, metadata: { ...written.metadata, resourceVersion: '999' } };
    expect(w.writes.freshest(KEY, later)).toBe(later);
    expect(w.writes.freshest(KEY, w.session)).toBe(w.session);
  });

  it('writes a changed status once, with an Event for the new phase; an unchanged one not at all', async () => {
    const w = setup();
    await w.writes.writeStatus(w.session, running);
    expect(w.client.summary()).toEqual(['patch VDISession/alice-1/status']);
    expect(w.events.reasons()).toEqual(['Ready']);
    w.client.clear();
    await w.writes.writeStatus({ ...w.session, status: running }, running);
    expect(w.client.calls).toEqual([]);
  });

  it('records no Event for the steps of a normal start, but one for a warning on the way', async () => {
    const w = setup();
    const scheduling: VDISessionStatus = {
      phase: 'Scheduling',
      reason: 'WaitingForScheduler',
      message: 'placing',
    };
    await w.writes.writeStatus(w.session, scheduling);
    await w.writes.writeStatus(
      { ...w.session, status: scheduling },
      { phase: 'Starting', reason: 'Scheduled' },
    );
    expect(w.client.summary()).toEqual([
      'patch VDISession/alice-1/status',
      'patch VDISession/alice-1/status',
    ]);
    expect(w.events.records).toEqual([]);
    await w.writes.writeStatus(w.session, {
      phase: 'Scheduling',
      reason: 'WaitingForGPU',
      message: 'no slice',
    });
    await w.writes.writeStatus({ ...w.session, status: scheduling }, running);
    expect(w.events.records.map((e) => `${e.type}/${e.reason}`)).toEqual([
      'Warning/WaitingForGPU',
      'Normal/Ready',
    ]);
  });

  it('ends quietly when the session is gone (404) or the name holds a newer session (422)', async () => {
    const w = setup();
    w.client.failOnce((c) => c.subresource === 'status', apiError(404));
    await w.writes.writeStatus(w.session, running);
    // Deleted and made again under the same name.
    w.client.remove('VDISession', 'alice-1', 'vdi-sessions');
    const newer = sessionObject(sampleSession());
    newer.metadata.uid = '00000000-0000-4000-8000-0000000000ff';
    w.client.seed(newer);
    await w.writes.writeStatus(w.session, running);
    expect(w.client.calls.map((c) => [c.verb, c.subresource, c.status])).toEqual([
      ['patch', 'status', 404],
      ['patch', 'status', 422],
      ['get', undefined, 200],
    ]);
    expect(w.events.records).toEqual([]);
  });

  it('removes only its own finalizer, from this session only', async () => {
    const w = setup();
    const mine = w.client.seed({
      ...w.session,
      metadata: { ...w.session.metadata, finalizers: ['x.io/keep', SESSION_FINALIZER] },
    }) as VDISession;
    await w.writes.removeFinalizer(mine);
    expect(w.client.calls[0]!.body).toEqual([
      { op: 'test', path: '/metadata/uid', value: mine.metadata.uid },
      { op: 'test', path: '/metadata/finalizers/1', value: SESSION_FINALIZER },
      { op: 'remove', path: '/metadata/finalizers/1' },
    ]);
    expect(w.client.stored<VDISession>('VDISession', 'alice-1', 'vdi-sessions')!.metadata.finalizers).toEqual(
      ['x.io/keep'],
    );
    w.client.clear();
    await w.writes.removeFinalizer({ ...mine, metadata: { ...mine.metadata, finalizers: ['x.io/keep'] } });
    expect(w.client.calls).toEqual([]);
  });
});
