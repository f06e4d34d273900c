import { SESSION_PHASES, SessionReason, type VDISession } from '@vdi/crd-types';
import { knownReason, sessionModelOf, SessionPhaseEnum, toSessionModel } from './session.model.js';

const session = (o: { phase?: (typeof SESSION_PHASES)[number]; reason?: string; deleting?: boolean }) =>
  ({
    apiVersion: 'vdi.kasm.io/v1alpha1',
    kind: 'VDISession',
    metadata: {
      name: 's',
      namespace: 'vdi-sessions',
      ...(o.deleting ? { deletionTimestamp: new Date() } : {}),
    },
    spec: { user: 'a@example.com', template: 't' },
    ...(o.phase || o.reason ? { status: { phase: o.phase, reason: o.reason } } : {}),
  }) as VDISession;

describe('phase and reason enums', () => {
  it('are the CRD library’s lists', () => {
    expect(Object.values(SessionPhaseEnum)).toEqual([...SESSION_PHASES]);
    expect(Object.keys(SessionPhaseEnum)).toEqual([...SESSION_PHASES]);
  });

  it('every phase the model can answer is in the enum (no status, each phase, deleting)', () => {
    const answered = [
      toSessionModel(session({})).phase,
      toSessionModel(session({ deleting: true })).phase,
      ...SESSION_PHASES.map((phase) => toSessionModel(session({ phase })).phase),
    ];
    for (const p of answered) expect(SESSION_PHASES).toContain(p);
    expect(answered.slice(0, 2)).toEqual(['Pending', 'Terminating']);
  });

  it('passes known reasons and answers an unknown one as null rather than failing the query', () => {
    for (const r of Object.values(SessionReason))
      expect(toSessionModel(session({ reason: r })).reason).toBe(r);
    expect(knownReason(undefined)).toBeUndefined();
    // e.g. a reason a newer operator writes that this API does not know yet.
    expect(toSessionModel(session({ phase: 'Failed', reason: 'SomethingNewer' }))).not.toHaveProperty(
      'reason',
    );
  });
});

describe('sessionModelOf', () => {
  it('makes one model per version of a cached session, and a new one when the cache holds a new object', () => {
    const v1 = session({ phase: 'Starting' });
    const m1 = sessionModelOf(v1);
    expect(m1).toEqual(toSessionModel(v1));
    expect(sessionModelOf(v1)).toBe(m1);
    // The caches replace the object on every change: the next version gets its own model.
    const v2 = session({ phase: 'Running' });
    expect(sessionModelOf(v2).phase).toBe('Running');
    expect(sessionModelOf(v1).phase).toBe('Starting');
  });

  it('shares a frozen model: no answer can change what the next one returns', () => {
    const m = sessionModelOf(session({ phase: 'Running' }));
    expect(Object.isFrozen(m)).toBe(true);
    expect(() => {
      (m as { phase: string }).phase = 'Failed';
    }).toThrow(TypeError);
  });
});
