/**
 * createSession and retired templates, without a cluster: the template comes from a stand-in of
 * the template cache, and any call to the API server is recorded (a refused create makes none).
 */
import { withTemplateDefaults, type VDITemplate } from '@vdi/crd-types';
import { GraphQLError } from 'graphql';
import type { Principal } from '../auth/principal.js';
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
