import { sessionEvent } from './session-event.js';

describe('sessionEvent', () => {
  const now = new Date('2026-12-05T10:00:00Z');

  it('is an Event about the session, from the API, counted once', () => {
    expect(
      sessionEvent({
        namespace: 'vdi-sessions',
        name: 'alice-1.access-revoked.x',
        session: 'alice-1',
        sessionUid: 'u-1',
        reason: 'AccessRevoked',
        message: 'closed 2 connections',
        now,
      }),
    ).toEqual({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: 'alice-1.access-revoked.x', namespace: 'vdi-sessions' },
      involvedObject: {
        apiVersion: 'vdi.kasm.io/v1alpha1',
        kind: 'VDISession',
        name: 'alice-1',
        namespace: 'vdi-sessions',
        uid: 'u-1',
      },
      reason: 'AccessRevoked',
      message: 'closed 2 connections',
      type: 'Normal',
      source: { component: 'vdi-api' },
      firstTimestamp: '2026-12-05T10:00:00.000Z',
      lastTimestamp: '2026-12-05T10:00:00.000Z',
      count: 1,
    });
  });

  it('names a related object in the same namespace, and leaves out an unknown session uid', () => {
    const e = sessionEvent({
      namespace: 'ns',
      name: 'n',
      session: 's',
      reason: 'ShareUsed',
      message: 'm',
      related: { kind: 'VDIShare', name: 'share-1' },
      now,
    });
    expect(e.related).toEqual({
      apiVersion: 'vdi.kasm.io/v1alpha1',
      kind: 'VDIShare',
      name: 'share-1',
      namespace: 'ns',
    });
    expect(e.involvedObject).not.toHaveProperty('uid');
  });
});
