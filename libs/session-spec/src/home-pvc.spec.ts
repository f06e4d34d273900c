import type { V1PersistentVolumeClaim } from '@kubernetes/client-node';
import { chooseEncoder } from './encoder.js';
import { SessionSpecError } from './errors.js';
import { mayHandOverHomes, userHomeClaimName, type ClaimFacts } from './home-pvc.js';
import { homePvcName } from './names.js';
import { ownerAnnotations, ownerHash, ownerHomeName } from './owner.js';
import { renderSession } from './render.js';
import {
  sampleOptions,
  samplePassword,
  sampleSession,
  sampleTemplate,
  sampleTurnRestKey,
} from './testing.js';

const ISSUER = 'https://id.example.com/realms/vdi';
const alice = { issuer: ISSUER, subject: '5f0c1d2e-alice' };
const newcomer = { issuer: ISSUER, subject: '9b8a7c6d-newcomer' };
const LEGACY = homePvcName('alice@example.com');

/** A per-user home claim as the operator (or the migration) leaves it. */
const home = (name: string, annotations: Record<string, string> = {}): ClaimFacts => ({
  metadata: {
    name,
    labels: { 'app.kubernetes.io/component': 'home' },
    annotations: { 'vdi.kasm.io/user': 'alice@example.com', ...annotations },
  },
});

const owned = (owner = alice) => sampleSession('alice-1', { owner });
const unclaimed = sampleSession('alice-0');

function refusal(fn: () => unknown): SessionSpecError {
  try {
    fn();
  } catch (err) {
    if (err instanceof SessionSpecError) return err;
    throw err;
  }
  throw new Error('expected a SessionSpecError');
}

describe('userHomeClaimName', () => {
  it('gives an owner without a home its own new one, never the e-mail-keyed home of 0.1.x', () => {
    expect(userHomeClaimName(owned(), [])).toBe(ownerHomeName(alice));
    // The 0.1.x home of the same e-mail exists, unclaimed: it is not this owner's.
    expect(userHomeClaimName(owned(), [home(LEGACY)])).toBe(ownerHomeName(alice));
    expect(userHomeClaimName(owned(newcomer), [home(LEGACY)])).toBe(ownerHomeName(newcomer));
  });

  it("mounts the owner's own home when it is annotated for them", () => {
    const own = home(ownerHomeName(alice), ownerAnnotations(alice));
    expect(userHomeClaimName(owned(), [own, home(LEGACY)])).toBe(ownerHomeName(alice));
  });

  it('mounts a 0.1.x home that the admin migration handed to the owner, under its old name', () => {
    const handed = home(LEGACY, ownerAnnotations(alice));
    expect(userHomeClaimName(owned(), [handed])).toBe(LEGACY);
    // Handed to alice's subject: the newcomer with the same e-mail does not get it.
    expect(userHomeClaimName(owned(newcomer), [handed])).toBe(ownerHomeName(newcomer));
  });

  it('prefers the own-named home when a handed one exists too', () => {
    const claims = [
      home(LEGACY, ownerAnnotations(alice)),
      home(ownerHomeName(alice), ownerAnnotations(alice)),
    ];
    expect(userHomeClaimName(owned(), claims)).toBe(ownerHomeName(alice));
  });

  it('ignores session-owned homes annotated for the owner', () => {
    const sessionHome: ClaimFacts = {
      metadata: {
        name: 'alice-9-home',
        labels: { 'app.kubernetes.io/component': 'home' },
        annotations: ownerAnnotations(alice),
        ownerReferences: [{ uid: 'x' }],
      },
    };
    expect(userHomeClaimName(owned(), [sessionHome])).toBe(ownerHomeName(alice));
  });

  it.each([
    ['annotated for another subject', ownerAnnotations(newcomer), 'subject 9b8a7c6d-newcomer'],
    [
      'annotated for another issuer',
      ownerAnnotations({ ...alice, issuer: 'https://evil.example.com' }),
      'evil',
    ],
    ['not annotated at all', {}, 'no owner'],
  ])('refuses an own-named home %s', (_what, annotations, named) => {
    const err = refusal(() => userHomeClaimName(owned(), [home(ownerHomeName(alice), annotations)]));
    expect(err.reason).toBe('HomeNotOwned');
    expect(err.message).toContain(ownerHomeName(alice));
    expect(err.message).toContain(named);
  });

  it('refuses to pick between several homes handed to one owner, naming them', () => {
    const err = refusal(() =>
      userHomeClaimName(owned(), [
        home('home-b-0123456789', ownerAnnotations(alice)),
        home('home-a-0123456789', ownerAnnotations(alice)),
      ]),
    );
    expect(err.reason).toBe('HomeNotOwned');
    expect(err.message).toContain('home-a-0123456789, home-b-0123456789');
  });

  it('keeps an unclaimed (0.1.x) session on its e-mail-keyed home until the home is handed to an owner', () => {
    expect(userHomeClaimName(unclaimed, [home(LEGACY)])).toBe(LEGACY);
    expect(userHomeClaimName(unclaimed, [])).toBe(LEGACY);
    const err = refusal(() => userHomeClaimName(unclaimed, [home(LEGACY, ownerAnnotations(alice))]));
    expect(err.reason).toBe('HomeNotOwned');
    expect(err.message).toContain('migrate the session too');
  });
});

describe('mayHandOverHomes', () => {
  it('is true while a home without an owner exists (the migration may still hand it over)', () => {
    expect(mayHandOverHomes([home(LEGACY)])).toBe(true);
    expect(mayHandOverHomes([home(ownerHomeName(alice), ownerAnnotations(alice)), home(LEGACY)])).toBe(true);
  });

  it('is false when every home has its owner, or there is none, or only session homes lack one', () => {
    expect(mayHandOverHomes([])).toBe(false);
    expect(mayHandOverHomes([home(ownerHomeName(alice), ownerAnnotations(alice))])).toBe(false);
    expect(mayHandOverHomes([home(LEGACY, ownerAnnotations(alice))])).toBe(false);
    // A session's own home (owned by its session) is never handed to anyone.
    const sessionHome = home('alice-1-home');
    sessionHome.metadata!.ownerReferences = [{ uid: 'u' }];
    expect(mayHandOverHomes([sessionHome])).toBe(false);
  });

  it('agrees with userHomeClaimName: without such a home an owner can only get their own name', () => {
    const others = [home(ownerHomeName(newcomer), ownerAnnotations(newcomer))];
    expect(mayHandOverHomes(others)).toBe(false);
    expect(userHomeClaimName(owned(), others)).toBe(ownerHomeName(alice));
  });
});

describe('the rendered per-user home', () => {
  const render = (session = owned(), userHomeClaim?: string) =>
    renderSession(session, sampleTemplate(), sampleOptions(), {
      encoderPlan: chooseEncoder('auto', 1, {
        products: [{ product: 'NVIDIA-L4-SHARED', free: 1, total: 8 }],
      }),
      sessionPassword: samplePassword,
      turnRestKey: sampleTurnRestKey,
      ...(userHomeClaim ? { userHomeClaim } : {}),
    });
  const claimOf = (r: ReturnType<typeof render>) => r.home!.claim as V1PersistentVolumeClaim;
  const podClaim = (r: ReturnType<typeof render>) =>
    r.pod.spec!.volumes!.find((v) => v.name === 'home')!.persistentVolumeClaim!.claimName;

  it('is named, labelled and annotated after the owner; the e-mail is only an annotation for people', () => {
    const r = render();
    const claim = claimOf(r);
    expect(claim.metadata!.name).toBe(ownerHomeName(alice));
    expect(claim.metadata!.labels!['vdi.kasm.io/user-hash']).toBe(ownerHash(alice));
    expect(claim.metadata!.annotations).toEqual({
      'vdi.kasm.io/user': 'alice@example.com',
      'vdi.kasm.io/owner-issuer': ISSUER,
      'vdi.kasm.io/owner-subject': alice.subject,
    });
    expect(claim.metadata!.ownerReferences).toBeUndefined();
    expect(r.pod.metadata!.labels!['vdi.kasm.io/user-hash']).toBe(ownerHash(alice));
  });

  it('is the claim the desktop pod mounts, also when the operator found a handed home', () => {
    expect(podClaim(render())).toBe(ownerHomeName(alice));
    const r = render(owned(), LEGACY);
    expect(claimOf(r).metadata!.name).toBe(LEGACY);
    expect(podClaim(r)).toBe(LEGACY);
  });

  it('stays as 0.1.x rendered it for an unclaimed session', () => {
    const r = render(unclaimed);
    expect(claimOf(r).metadata!.name).toBe(LEGACY);
    expect(claimOf(r).metadata!.annotations).toEqual({ 'vdi.kasm.io/user': 'alice@example.com' });
    expect(podClaim(r)).toBe(LEGACY);
  });
});
