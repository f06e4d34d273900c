/**
 * createSession and retired templates, without a cluster: the template comes from a stand-in of
 * the template cache, and any call to the API server is recorded (a refused create makes none).
 */
import { withTemplateDefaults, type VDISession, type VDITemplate } from '@vdi/crd-types';
import { GraphQLError } from 'graphql';
import type { Principal } from '../auth/principal.js';
import { SessionEvents, type CoalescingChannel, type SessionEvent } from './session-events.js';
import { SessionsService } from './sessions.service.js';

const template = (name: string, retired?: boolean): VDITemplate => ({
  apiVersion: 'vdi.kasm.io/v1alpha1',
  kind: 'VDITemplate',
  metadata: { name },
  spec: withTemplateDefaults({
    displayName: name,
    image: 'img',
    ...(retired !== undefined ? { retired } : {}),
  }),
});

const alice: Principal = {
  owner: { issuer: 'https://id.example.com/realms/vdi', subject: 'alice' },
  user: 'alice@example.com',
  subject: 'alice',
  username: 'alice',
  roles: ['vdi-user'],
  groups: [],
  isAdmin: false,
};

function service(templates: VDITemplate[]) {
  const kubeCalls: string[] = [];
  const kube = new Proxy(
    {},
    {
      get: (_t, prop) => () => {
        kubeCalls.push(String(prop));
        return Promise.reject(new Error('no cluster in this test'));
      },
    },
  );
  const byName = new Map(templates.map((t) => [t.metadata.name!, t]));
  const svc = new SessionsService(
    { synced: true, sessions: { get: () => undefined } } as never,
    { get: (n: string) => byName.get(n), list: () => templates } as never,
    kube as never,
    { sessionsNamespace: 'vdi-sessions' } as never,
    {} as never,
    {} as never,
  );
  return { svc, kubeCalls };
}

async function refusal(p: Promise<unknown>): Promise<GraphQLError> {
  try {
    await p;
  } catch (e) {
    return e as GraphQLError;
  }
  throw new Error('expected a refusal');
}

describe('SessionsService.create and retired templates', () => {
  it('refuses a new session of a retired template, saying why and what to do, and writes nothing', async () => {
    const { svc, kubeCalls } = service([template('old-desktop', true), template('new-desktop')]);
    const e = await refusal(svc.create(alice, { template: 'old-desktop', name: 'alice-1' }));
    expect(e.message).toBe(
      "template 'old-desktop' is retired: it takes no new sessions (existing ones keep running); choose another template, or ask an admin to restore it",
    );
    expect(e.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'template' });
    expect(kubeCalls).toEqual([]);
  });

  it('does not suggest retired templates when the template asked for does not exist', async () => {
    const { svc } = service([template('old-desktop', true), template('new-desktop')]);
    const e = await refusal(svc.create(alice, { template: 'typo', name: 'alice-1' }));
    expect(e.message).toBe("there is no template 'typo'; choose one of: new-desktop");
  });

  it('goes on to the write for a template that is not retired (retired: false)', async () => {
    const { svc, kubeCalls } = service([template('new-desktop', false)]);
    await refusal(svc.create(alice, { template: 'new-desktop', name: 'alice-1' }));
    expect(kubeCalls.length).toBeGreaterThan(0);
  });
});

describe('SessionsService.watch with current: true', () => {
  const bob: Principal = {
    ...alice,
    owner: { ...alice.owner, subject: 'bob' },
    user: 'bob@example.com',
    subject: 'bob',
    username: 'bob',
  };
  const admin: Principal = {
    ...alice,
    owner: { ...alice.owner, subject: 'root' },
    user: 'root@example.com',
    isAdmin: true,
  };
  const session = (name: string, owner: Principal, namespace = 'vdi-sessions'): VDISession => ({
    apiVersion: 'vdi.kasm.io/v1alpha1',
    kind: 'VDISession',
    metadata: { name, namespace },
    spec: { user: owner.user, owner: owner.owner, template: 't' },
  });
  const all = [
    session('a1', alice),
    session('b1', bob),
    session('a2', alice),
    session('elsewhere', alice, 'other-namespace'),
  ];

  /** The service on a stand-in cache holding `all`, with its index lookups counted. */
  function watching() {
    const lookups: string[] = [];
    const caches = {
      synced: true,
      sessions: {
        on: () => undefined,
        get: (name: string, ns: string) =>
          all.find((s) => s.metadata.name === name && s.metadata.namespace === ns),
      },
      indexes: {
        sessionsByOwner: {
          of: (o: Principal['owner']) => {
            lookups.push(`owner ${o.subject}`);
            return all.filter((s) => s.spec.owner?.subject === o.subject);
          },
        },
        sessionsInPageOrder: {
          allByName: () => {
            lookups.push('all');
            return all;
          },
        },
      },
    };
    const events = new SessionEvents(caches as never, { subscriptions: { set: () => undefined } } as never);
    const svc = new SessionsService(
      caches as never,
      {} as never,
      {} as never,
      { sessionsNamespace: 'vdi-sessions' } as never,
      events,
      {} as never,
    );
    return { svc, lookups };
  }

  /** The CURRENT events a new subscription starts with (all of them are queued at once). */
  async function currentOf(it: AsyncIterableIterator<SessionEvent>): Promise<string[]> {
    const ch = it as CoalescingChannel<SessionEvent>;
    const names: string[] = [];
    while (ch.size > 0) {
      const { value } = await ch.next();
      expect(value.type).toBe('CURRENT');
      names.push(value.session.metadata.name!);
    }
    await ch.return();
    return names;
  }

  it("gives a user their own sessions now, never another user's", async () => {
    const { svc, lookups } = watching();
    expect(await currentOf(svc.watch(alice, { current: true }))).toEqual(['a1', 'a2']);
    expect(await currentOf(svc.watch(bob, { current: true }))).toEqual(['b1']);
    expect(lookups).toEqual(['owner alice', 'owner bob']);
  });

  it("by name: the user's own session; another user's does not exist", async () => {
    const { svc } = watching();
    expect(await currentOf(svc.watch(alice, { name: 'a2', current: true }))).toEqual(['a2']);
    expect(() => svc.watch(alice, { name: 'b1', current: true })).toThrow("you have no session named 'b1'");
    expect(await currentOf(svc.watch(admin, { name: 'b1', current: true }))).toEqual(['b1']);
  });

  it("everyone's (admins only) from the sorted index, only the sessions namespace", async () => {
    const { svc, lookups } = watching();
    expect(() => svc.watch(alice, { all: true, current: true })).toThrow(
      "only admins may watch everyone's sessions (sessionUpdated(all: true))",
    );
    expect(await currentOf(svc.watch(admin, { all: true, current: true }))).toEqual(['a1', 'b1', 'a2']);
    expect(lookups).toEqual(['all']);
  });

  it('without current, starts with nothing', async () => {
    const { svc } = watching();
    expect(await currentOf(svc.watch(alice, {}))).toEqual([]);
  });
});
