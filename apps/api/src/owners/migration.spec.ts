import type { V1PersistentVolumeClaim } from '@kubernetes/client-node';
import type { VDISession } from '@vdi/crd-types';
import { homePvcName, ownerAnnotations, ownerHomeName } from '@vdi/session-spec';
import { describePlan, MappingError, parseOwnerMapping, planOwnerMigration } from './migration.js';

const ISSUER = 'https://id.example.com/realms/vdi';
const alice = { issuer: ISSUER, subject: 'alice-subject' };
const bob = { issuer: ISSUER, subject: 'bob-subject' };

const session = (name: string, user: string, extra: Partial<VDISession['spec']> = {}): VDISession => ({
  apiVersion: 'vdi.kasm.io/v1alpha1',
  kind: 'VDISession',
  metadata: { name, namespace: 'vdi-sessions', uid: `uid-${name}`, resourceVersion: `rv-${name}` },
  spec: { user, template: 't', ...extra },
});

/** A per-user home as 0.1.x made it (named after the e-mail), or as the operator makes it now. */
const home = (
  name: string,
  user: string,
  annotations: Record<string, string> = {},
): V1PersistentVolumeClaim => ({
  metadata: {
    name,
    resourceVersion: `rv-${name}`,
    labels: { 'app.kubernetes.io/component': 'home', 'app.kubernetes.io/part-of': 'vdi-platform' },
    annotations: { 'vdi.kasm.io/user': user, ...annotations },
  },
});
const legacyHome = (user: string) => home(homePvcName(user), user);

describe('parseOwnerMapping', () => {
  it('reads "<e-mail> <subject>" lines with comments, blank lines and commas', () => {
    const m = parseOwnerMapping(
      '# exported from the realm on upgrade day\nalice@example.com alice-subject\n\nbob@example.com,bob-subject  # bob\n',
      ISSUER,
    );
    expect([...m]).toEqual([
      ['alice@example.com', alice],
      ['bob@example.com', bob],
    ]);
  });

  it.each([
    ['a line without subject', 'alice@example.com', 'line 1: expected'],
    ['a line with three fields', 'alice@example.com a b', 'line 1: expected'],
    [
      'an e-mail mapped twice',
      'alice@example.com a\nalice@example.com b',
      "line 2: 'alice@example.com' is mapped twice",
    ],
    ['a subject over 255 characters', `alice@example.com ${'s'.repeat(256)}`, 'over 255'],
  ])('refuses %s, saying where', (_what, text, says) => {
    expect(() => parseOwnerMapping(text, ISSUER)).toThrow(MappingError);
    expect(() => parseOwnerMapping(text, ISSUER)).toThrow(says);
  });

  it('needs an issuer', () => {
    expect(() => parseOwnerMapping('a b', '')).toThrow(/VDI_OIDC_ISSUER/);
  });
});

describe('planOwnerMigration', () => {
  const mapping = new Map([
    ['alice@example.com', alice],
    ['bob@example.com', bob],
  ]);

  it('hands mapped homes over first, then the sessions, each conditional on the version it read', () => {
    const plan = planOwnerMigration(
      [session('alice-1', 'alice@example.com'), session('bob-1', 'bob@example.com')],
      [legacyHome('alice@example.com'), legacyHome('bob@example.com')],
      mapping,
    );
    expect(plan.steps.map((s) => [s.kind, s.name, s.owner.subject])).toEqual([
      ['home', homePvcName('alice@example.com'), 'alice-subject'],
      ['home', homePvcName('bob@example.com'), 'bob-subject'],
      ['session', 'alice-1', 'alice-subject'],
      ['session', 'bob-1', 'bob-subject'],
    ]);
    expect(plan.steps[2]).toMatchObject({ uid: 'uid-alice-1', resourceVersion: 'rv-alice-1' });
    expect(plan.refused).toEqual([]);
    expect(plan.unmapped).toEqual([]);
  });

  it('leaves owned sessions, handed homes, session-owned homes and deleting sessions alone (idempotent)', () => {
    const plan = planOwnerMigration(
      [
        session('alice-2', 'alice@example.com', { owner: alice }),
        {
          ...session('alice-3', 'alice@example.com'),
          metadata: { name: 'alice-3', deletionTimestamp: new Date() },
        },
      ],
      [
        home(homePvcName('alice@example.com'), 'alice@example.com', ownerAnnotations(alice)),
        {
          ...legacyHome('bob@example.com'),
          metadata: { ...legacyHome('bob@example.com').metadata, ownerReferences: [{} as never] },
        },
        // Named after something else than its annotation: not a 0.1.x home.
        home('home-by-hand', 'bob@example.com'),
      ],
      mapping,
    );
    expect(plan).toEqual({ steps: [], unmapped: [], refused: [] });
  });

  it('lists what the mapping does not name, by e-mail, and touches none of it', () => {
    const plan = planOwnerMigration(
      [session('carol-1', 'carol@example.com'), session('carol-2', 'carol@example.com')],
      [legacyHome('carol@example.com')],
      mapping,
    );
    expect(plan.steps).toEqual([]);
    expect(plan.unmapped).toEqual([
      {
        user: 'carol@example.com',
        sessions: ['carol-1', 'carol-2'],
        homes: [homePvcName('carol@example.com')],
      },
    ]);
    expect(describePlan(plan).join('\n')).toContain("add 'carol@example.com <subject>' to the mapping");
  });

  it('refuses a second home for an owner, and then keeps that e-mail’s sessions unclaimed', () => {
    const plan = planOwnerMigration(
      [session('alice-1', 'alice@example.com'), session('bob-1', 'bob@example.com')],
      [
        legacyHome('alice@example.com'),
        // alice already has a home of her own (she used the platform after the upgrade).
        home(ownerHomeName(alice), 'alice@example.com', ownerAnnotations(alice)),
        legacyHome('bob@example.com'),
      ],
      mapping,
    );
    expect(plan.steps.map((s) => `${s.kind}/${s.name}`)).toEqual([
      `home/${homePvcName('bob@example.com')}`,
      'session/bob-1',
    ]);
    expect(plan.refused).toEqual([
      expect.objectContaining({
        kind: 'home',
        name: homePvcName('alice@example.com'),
        why: expect.stringContaining(`already has the home ${ownerHomeName(alice)}`),
      }),
      expect.objectContaining({
        kind: 'session',
        name: 'alice-1',
        why: expect.stringContaining('stays unclaimed'),
      }),
    ]);
  });

  it('hands two e-mails mapped to one subject only one home', () => {
    const plan = planOwnerMigration(
      [],
      [legacyHome('alice@example.com'), legacyHome('alice-subject')],
      new Map([
        ['alice@example.com', alice],
        ['alice-subject', alice],
      ]),
    );
    expect(plan.steps).toHaveLength(1);
    expect(plan.refused).toHaveLength(1);
  });

  it('says each step in words', () => {
    const plan = planOwnerMigration([session('alice-1', 'alice@example.com')], [], mapping);
    expect(describePlan(plan)).toEqual([
      `session  alice-1 of alice@example.com -> subject alice-subject (${ISSUER})`,
    ]);
  });
});
