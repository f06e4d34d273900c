/**
 * Every object the renderer produces is accepted by a real API server — Pod Security
 * `restricted` enforced on the namespace, Traefik's own CRDs installed, the RuntimeClass K3s
 * ships — through a server-side dry-run create of the exact JSON.
 */
import {
  createTestNamespace,
  kubeRequest,
  resourcePath,
  testKubeConfig,
  type TestNamespace,
} from '@vdi/testing';
import {
  chooseEncoder,
  renderSession,
  renderedObjects,
  type GpuFacts,
  type PlatformOptions,
} from '../src/index.js';
import {
  sampleOptions,
  samplePassword,
  sampleSession,
  sampleTemplate,
  sampleTurnRestKey,
} from '../src/testing.js';

const facts: GpuFacts = {
  products: [
    { product: 'NVIDIA-L4-SHARED', free: 1, total: 8 },
    { product: 'NVIDIA-H100-80GB-HBM3-SHARED', free: 0, total: 8 },
  ],
};

describe('rendered sessions on the API server', () => {
  const kc = testKubeConfig();
  let ns: TestNamespace;

  beforeAll(async () => {
    ns = await createTestNamespace('render', {
      'pod-security.kubernetes.io/enforce': 'restricted',
      'pod-security.kubernetes.io/enforce-version': 'latest',
    });
  });
  afterAll(async () => {
    await ns.cleanup();
  });

  const cases: [string, Partial<PlatformOptions>, ReturnType<typeof sampleTemplate>, number][] = [
    ['GPU, NVENC, host mode, forward-auth', {}, sampleTemplate(), 1],
    [
      'GPU, CPU encoding, plain http on a port',
      { publicScheme: 'http', publicPort: 8081, tls: undefined },
      sampleTemplate(),
      1,
    ],
    [
      'CPU only, session-owned home',
      {},
      sampleTemplate('cpu', { resources: { defaultGPU: 0, maxGPU: 0 } as never, persistence: 'session' }),
      0,
    ],
    [
      'basic auth, no home volume, renamed GPU resource',
      { accessMode: 'basicAuth', gpuResourceName: 'nvidia.com/gpu.shared' },
      sampleTemplate('b', { persistence: 'none' }),
      1,
    ],
  ];

  it.each(cases)(
    '%s: every object passes a server-side dry-run create',
    async (_name, opts, template, gpu) => {
      const options = sampleOptions({ ...opts, namespace: ns.name });
      const rendered = renderSession(
        sampleSession('alice-1', { template: template.metadata.name!, resources: { gpu } }),
        template,
        options,
        {
          encoderPlan: chooseEncoder('auto', gpu, facts),
          turnRestKey: sampleTurnRestKey,
          sessionPassword: samplePassword,
        },
      );
      const kinds: string[] = [];
      for (const obj of renderedObjects(rendered)) {
        const r = await kubeRequest(
          kc,
          'POST',
          `${await resourcePath(kc, obj)}?dryRun=All&fieldValidation=Strict`,
          obj,
        );
        if (r.status !== 201)
          throw new Error(
            `${obj.kind} ${obj.metadata!.name} was refused (${r.status}): ${r.body.message ?? r.text}`,
          );
        kinds.push(obj.kind!);
      }
      expect(kinds).toEqual(
        expect.arrayContaining(['Pod', 'Service', 'Secret', 'NetworkPolicy', 'IngressRoute']),
      );
    },
  );

  it('would be refused by Pod Security if the desktop ran as root (the check is real)', async () => {
    const rendered = renderSession(sampleSession(), sampleTemplate(), sampleOptions({ namespace: ns.name }), {
      encoderPlan: { encoder: 'h264enc', device: 'cpu' },
      turnRestKey: sampleTurnRestKey,
      sessionPassword: samplePassword,
    });
    const pod = structuredClone(rendered.pod);
    pod.spec!.securityContext!.runAsUser = 0;
    pod.spec!.containers[0]!.securityContext!.allowPrivilegeEscalation = true;
    const r = await kubeRequest(kc, 'POST', `${await resourcePath(kc, pod)}?dryRun=All`, pod);
    expect(r.status).toBe(403);
    expect(r.body.message).toEqual(
      expect.stringMatching(/violates PodSecurity "restricted:latest".*allowPrivilegeEscalation != false/),
    );
  });
});
