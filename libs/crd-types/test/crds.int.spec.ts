/**
 * The generated CRDs against a real kube-apiserver: they install, the seed examples are accepted,
 * and the API server itself rejects bad specs (schema and CEL), each time naming the field.
 */
import {
  createTestNamespace,
  installCrds,
  kubeRequest,
  testKubeConfig,
  type TestNamespace,
} from '@vdi/testing';
import { API_VERSION } from '../src/index.js';

type Manifest = Record<string, unknown>;

const session = (spec: Record<string, unknown>, name = 'sess-1'): Manifest => ({
  apiVersion: API_VERSION,
  kind: 'VDISession',
  metadata: { name },
  spec,
});
const template = (spec: Record<string, unknown>, name = 'tmpl-1'): Manifest => ({
  apiVersion: API_VERSION,
  kind: 'VDITemplate',
  metadata: { name },
  spec,
});
const okSession = {
  user: 'alice@example.com',
  template: 'ubuntu-desktop',
  resources: { gpu: 1, memory: '4Gi' },
};
const okTemplate = {
  image: 'ghcr.io/selkies-project/nvidia-egl-desktop:latest',
  displayName: 'Ubuntu Desktop',
  resources: { defaultGPU: 1, defaultMemory: '4Gi' },
};

describe('VDISession and VDITemplate CRDs on the API server', () => {
  const kc = testKubeConfig();
  let ns: TestNamespace;

  beforeAll(async () => {
    await installCrds(kc);
    ns = await createTestNamespace('crd');
  });
  afterAll(async () => {
    await ns.cleanup();
  });

  const create = async (m: Manifest, dryRun = true) => {
    const isSession = m.kind === 'VDISession';
    const path = isSession
      ? `/apis/${API_VERSION}/namespaces/${ns.name}/vdisessions`
      : `/apis/${API_VERSION}/vditemplates`;
    return kubeRequest(kc, 'POST', `${path}?fieldValidation=Strict${dryRun ? '&dryRun=All' : ''}`, m);
  };

  it('accepts the seed examples as written and fills in the template defaults', async () => {
    // Templates are cluster-scoped: a name of this test's own.
    const t = await create(template(okTemplate, `ubuntu-desktop-${ns.name}`));
    expect(t.status).toBe(201);
    expect(t.body.spec).toMatchObject({
      encoder: 'auto',
      persistence: 'user',
      homeMountPath: '/home/ubuntu',
      resources: { maxGPU: 1, defaultCPU: '2' },
    });
    const s = await create(session(okSession, 'alice-1'));
    expect(s.status).toBe(201);
    // A session may set any part of the display; the rest comes from the template.
    const partial = await create(session({ ...okSession, display: { width: 1280 } }, 'alice-2'));
    expect(partial.status).toBe(201);
  });

  it('serves both kinds in the "vdi" category with short names and a status subresource', async () => {
    const r = await kubeRequest(kc, 'GET', `/apis/${API_VERSION}`);
    const res = r.body.resources as { name: string; categories?: string[]; shortNames?: string[] }[];
    expect(res.find((x) => x.name === 'vdisessions')).toMatchObject({
      categories: ['vdi'],
      shortNames: expect.arrayContaining(['vdis']),
    });
    expect(res.find((x) => x.name === 'vditemplates')).toMatchObject({
      categories: ['vdi'],
      shortNames: expect.arrayContaining(['vdit']),
    });
    expect(res.map((x) => x.name)).toEqual(
      expect.arrayContaining(['vdisessions/status', 'vditemplates/status']),
    );
  });

  const invalid: [string, Manifest, string][] = [
    ['gpu: 2', session({ ...okSession, resources: { gpu: 2 } }), 'spec.resources.gpu'],
    ['gpu: -1', session({ ...okSession, resources: { gpu: -1 } }), 'spec.resources.gpu'],
    ['negative memory', session({ ...okSession, resources: { memory: '-4Gi' } }), 'spec.resources.memory'],
    [
      'memory that is no quantity',
      session({ ...okSession, resources: { memory: 'lots' } }),
      'spec.resources.memory',
    ],
    ['zero memory', session({ ...okSession, resources: { memory: '0' } }), 'spec.resources.memory'],
    ['cpu that is no quantity', session({ ...okSession, resources: { cpu: '1.2.3' } }), 'spec.resources.cpu'],
    [
      'cpu below one millicore',
      session({ ...okSession, resources: { cpu: '0.0001' } }),
      'spec.resources.cpu',
    ],
    ['1.x encoder name', template({ ...okTemplate, encoder: 'nvh264enc' }), 'spec.encoder'],
    [
      'egress to no CIDR',
      template({ ...okTemplate, egress: { cidrs: ['10.1.2.3'] } }),
      'spec.egress.cidrs[0]',
    ],
    [
      'a lifetime default longer than its max',
      template({ ...okTemplate, lifetime: { default: '8h', max: '2h' } }),
      'spec.lifetime',
    ],
    [
      'an idle timeout default longer than its max',
      template({ ...okTemplate, lifetime: { idle: { default: '4h', max: '1h' } } }),
      'spec.lifetime.idle',
    ],
    [
      'an idle action that does not exist',
      template({ ...okTemplate, lifetime: { idle: { default: '1h', action: 'Hibernate' } } }),
      'spec.lifetime.idle.action',
    ],
    ['a session state that does not exist', session({ ...okSession, state: 'Paused' }), 'spec.state'],
    [
      'minCPU above defaultCPU',
      template({ ...okTemplate, resources: { defaultCPU: '1', minCPU: '2' } }),
      'spec.resources.minCPU',
    ],
    [
      'minMemory above defaultMemory',
      template({ ...okTemplate, resources: { defaultMemory: '2Gi', minMemory: '4Gi' } }),
      'spec.resources.minMemory',
    ],
    ['no user', session({ template: 'ubuntu-desktop' }), 'spec.user'],
    ['empty user', session({ ...okSession, user: '' }), 'spec.user'],
    ['user with white space', session({ ...okSession, user: 'alice smith' }), 'spec.user'],
    ['oversized user', session({ ...okSession, user: `${'a'.repeat(300)}@example.com` }), 'spec.user'],
    [
      'owner without subject',
      session({ ...okSession, owner: { issuer: 'https://id.example.com' } }),
      'spec.owner.subject',
    ],
    [
      'owner with an empty issuer',
      session({ ...okSession, owner: { issuer: '', subject: 's' } }),
      'spec.owner.issuer',
    ],
    [
      'owner subject over 255 characters',
      session({ ...okSession, owner: { issuer: 'https://id.example.com', subject: 'x'.repeat(256) } }),
      'spec.owner.subject',
    ],
    ['template that is no DNS name', session({ ...okSession, template: 'Ubuntu_Desktop' }), 'spec.template'],
    ['no template', session({ user: 'alice@example.com' }), 'spec.template'],
    ['tiny display', session({ ...okSession, display: { width: 100 } }), 'spec.display.width'],
    ['absurd framerate', session({ ...okSession, display: { framerate: 500 } }), 'spec.display.framerate'],
    ['lifetime that is no duration', session({ ...okSession, maxLifetime: '10 years' }), 'spec.maxLifetime'],
    ['lifetime under a minute', session({ ...okSession, idleTimeout: '30s' }), 'spec.idleTimeout'],
    ['name starting with a digit', session(okSession, '1-alice'), 'metadata.name'],
    ['name too long for a host name', session(okSession, `s${'x'.repeat(55)}`), 'metadata.name'],
    ['no spec', { apiVersion: API_VERSION, kind: 'VDISession', metadata: { name: 'nospec' } }, 'spec'],
    ['unknown field', session({ ...okSession, gpus: 1 }), 'spec.gpus'],
    ['template without image', template({ displayName: 'X' }), 'spec.image'],
    ['template without display name', template({ image: 'img' }), 'spec.displayName'],
    ['defaultGPU: 2', template({ ...okTemplate, resources: { defaultGPU: 2 } }), 'spec.resources.defaultGPU'],
    [
      'defaultGPU above maxGPU',
      template({ ...okTemplate, resources: { defaultGPU: 1, maxGPU: 0 } }),
      'spec.resources.defaultGPU',
    ],
    [
      'defaultMemory above maxMemory',
      template({ ...okTemplate, resources: { defaultMemory: '8Gi', maxMemory: '4Gi' } }),
      'spec.resources.defaultMemory',
    ],
    ['unknown encoder', template({ ...okTemplate, encoder: 'h265magic' }), 'spec.encoder'],
    [
      'reserved env NVIDIA_VISIBLE_DEVICES',
      template({ ...okTemplate, env: [{ name: 'NVIDIA_VISIBLE_DEVICES', value: 'all' }] }),
      'spec.env[0]',
    ],
    [
      'reserved env SELKIES_TURN_SHARED_SECRET',
      template({ ...okTemplate, env: [{ name: 'SELKIES_TURN_SHARED_SECRET', value: 'x' }] }),
      'spec.env[0]',
    ],
    [
      'env name that is no identifier',
      template({ ...okTemplate, env: [{ name: '1BAD', value: 'x' }] }),
      'spec.env[0].name',
    ],
    [
      'duplicate env names',
      template({
        ...okTemplate,
        env: [
          { name: 'A', value: '1' },
          { name: 'A', value: '2' },
        ],
      }),
      'spec.env[1]',
    ],
    ['unknown persistence', template({ ...okTemplate, persistence: 'forever' }), 'spec.persistence'],
    ['relative home path', template({ ...okTemplate, homeMountPath: 'home/ubuntu' }), 'spec.homeMountPath'],
    ['shmSize that is no quantity', template({ ...okTemplate, shmSize: 'big' }), 'spec.shmSize'],
    ['icon that is no URL', template({ ...okTemplate, icon: 'javascript:alert(1)' }), 'spec.icon'],
  ];

  it('has at least 20 invalid cases', () => {
    expect(invalid.length).toBeGreaterThanOrEqual(20);
  });

  it.each(invalid.map(([what, manifest, field]) => [what, field, manifest] as const))(
    'rejects %s, naming %s',
    async (_what, field, manifest) => {
      const r = await create(manifest);
      expect(r.status).toBeGreaterThanOrEqual(400);
      expect(r.status).toBeLessThan(500);
      expect(r.body.message).toEqual(expect.stringContaining(field));
    },
  );

  it('keeps user, template and resources of a session immutable', async () => {
    const created = await create(session(okSession, 'immutable-1'), false);
    expect(created.status).toBe(201);
    const path = `/apis/${API_VERSION}/namespaces/${ns.name}/vdisessions/immutable-1`;
    for (const [patch, field] of [
      [{ spec: { user: 'bob@example.com' } }, 'spec.user'],
      [{ spec: { template: 'other' } }, 'spec.template'],
      [{ spec: { resources: { gpu: 0 } } }, 'spec.resources'],
    ] as const) {
      const r = await kubeRequest(kc, 'PATCH', path, patch, 'application/merge-patch+json');
      expect(r.status).toBe(422);
      expect(r.body.message).toEqual(expect.stringContaining(field));
      expect(r.body.message).toEqual(expect.stringContaining('cannot change after the session is created'));
    }
    const ok = await kubeRequest(
      kc,
      'PATCH',
      path,
      { metadata: { labels: { team: 'a' } } },
      'application/merge-patch+json',
    );
    expect(ok.status).toBe(200);
  });

  it('lets a session without owner get one once (the admin migration), and never change or lose it', async () => {
    const path = `/apis/${API_VERSION}/namespaces/${ns.name}/vdisessions/owner-1`;
    const patch = (body: unknown) => kubeRequest(kc, 'PATCH', path, body, 'application/merge-patch+json');
    const alice = { issuer: 'https://id.example.com/realms/vdi', subject: '5f0c1d2e-alice' };
    expect((await create(session(okSession, 'owner-1'), false)).status).toBe(201);
    expect((await patch({ spec: { owner: alice } })).status).toBe(200);
    for (const body of [
      { spec: { owner: { ...alice, subject: 'someone-else' } } },
      { spec: { owner: { ...alice, issuer: 'https://other.example.com' } } },
      { spec: { owner: null } },
    ]) {
      const r = await patch(body);
      expect(r.status).toBe(422);
      expect(r.body.message).toEqual(expect.stringContaining('spec.owner'));
      expect(r.body.message).toEqual(expect.stringContaining('owner cannot change or be removed once set'));
    }
    const created = await create(session({ ...okSession, owner: alice }, 'owner-2'), false);
    expect(created.status).toBe(201);
    expect((created.body.spec as { owner: unknown }).owner).toEqual(alice);
  });
});
