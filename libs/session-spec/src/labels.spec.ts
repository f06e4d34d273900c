import { API_VERSION, KIND_SESSION, SESSION_FINALIZER } from '@vdi/crd-types';
import { ANNOTATION_USER, LABEL_TEMPLATE, LABEL_USER_HASH, newSession } from './labels.js';
import { ownerHash, sessionOwnerHash } from './owner.js';

describe('newSession', () => {
  const owner = { issuer: 'https://id.example.com/realms/vdi', subject: 'a11ce' };

  it('carries the operator’s finalizer from the start, so the operator need not write it', () => {
    const s = newSession('alice-1', 'vdi-sessions', { user: 'alice@example.com', template: 'ubuntu', owner });
    expect(s).toMatchObject({ apiVersion: API_VERSION, kind: KIND_SESSION });
    expect(s.metadata).toEqual({
      name: 'alice-1',
      namespace: 'vdi-sessions',
      labels: { [LABEL_USER_HASH]: ownerHash(owner), [LABEL_TEMPLATE]: 'ubuntu' },
      annotations: { [ANNOTATION_USER]: 'alice@example.com' },
      finalizers: [SESSION_FINALIZER],
    });
    expect(SESSION_FINALIZER).toBe('vdi.kasm.io/session-cleanup');
  });

  it('labels an unclaimed session (no owner) by the hash of its user, as the operator renders it', () => {
    const spec = { user: 'bob@example.com', template: 'ubuntu' };
    const s = newSession('bob-1', 'ns', spec);
    expect(s.metadata.labels?.[LABEL_USER_HASH]).toBe(sessionOwnerHash({ spec }));
    expect(s.spec).toBe(spec);
  });
});
