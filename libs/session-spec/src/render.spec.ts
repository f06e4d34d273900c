/**
 * Whole rendered sessions against golden files (test/golden/*.yaml). After an intended change,
 * regenerate them with UPDATE_GOLDEN=1 and review the diff.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { chooseEncoder, type GpuFacts } from './encoder.js';
import { SessionSpecError } from './errors.js';
import { renderSession, renderedObjects, type RenderInputs } from './render.js';
import {
  sampleOptions,
  samplePassword,
  sampleSession,
  sampleTemplate,
  sampleTurnRestKey,
} from './testing.js';

const goldenDir = path.resolve(import.meta.dirname, '../test/golden');
const update = process.env.UPDATE_GOLDEN === '1';

const facts: GpuFacts = {
  products: [
    { product: 'NVIDIA-L4-SHARED', free: 3, total: 8 },
    { product: 'NVIDIA-H100-80GB-HBM3-SHARED', free: 8, total: 8 },
  ],
};
const noNvencFree: GpuFacts = {
  products: [
    { product: 'NVIDIA-L4-SHARED', free: 0, total: 8 },
    { product: 'NVIDIA-H100-80GB-HBM3-SHARED', free: 8, total: 8 },
  ],
};
const inputs = (plan: RenderInputs['encoderPlan']): RenderInputs => ({
  encoderPlan: plan,
  turnRestKey: sampleTurnRestKey,
  sessionPassword: samplePassword,
});

const cases = {
  'gpu-nvenc': () =>
    renderSession(
      sampleSession(),
      sampleTemplate(),
      sampleOptions(),
      inputs(chooseEncoder('auto', 1, facts)),
    ),
  'gpu-no-nvenc': () =>
    renderSession(
      sampleSession(),
      sampleTemplate(),
      sampleOptions(),
      inputs(chooseEncoder('auto', 1, noNvencFree)),
    ),
  'cpu-only': () =>
    renderSession(
      sampleSession('bob-2', {
        user: 'bob@example.com',
        template: 'ubuntu-xfce',
        resources: { memory: '2Gi' },
      }),
      sampleTemplate('ubuntu-xfce', {
        displayName: 'Ubuntu XFCE (CPU)',
        resources: { defaultGPU: 0, maxGPU: 0 } as never,
        persistence: 'session',
      }),
      sampleOptions(),
      inputs(chooseEncoder('auto', 0, facts)),
    ),
  'http-port': () =>
    renderSession(
      sampleSession(),
      sampleTemplate(),
      sampleOptions({
        publicScheme: 'http',
        publicPort: 8081,
        tls: undefined,
        entryPoints: ['web'],
      }),
      inputs(chooseEncoder('auto', 1, facts)),
    ),
  webrtc: () =>
    renderSession(
      sampleSession('carol-3', { user: 'carol@example.com', template: 'xfce-webrtc', resources: {} }),
      sampleTemplate('xfce-webrtc', {
        displayName: 'XFCE over WebRTC',
        resources: { defaultGPU: 0, maxGPU: 0 } as never,
        streaming: { mode: 'webrtc' },
      }),
      sampleOptions({
        turnAlternatives: [{ host: 'turn.vdi.example.com', port: 443, protocol: 'tcp', tls: true }],
      }),
      inputs(chooseEncoder('auto', 0, facts)),
    ),
  // Owned by issuer + subject (what the API writes since 0.2): home, labels and annotations of the owner.
  'owned-by-subject': () =>
    renderSession(
      sampleSession('alice-4', {
        owner: {
          issuer: 'https://id.example.com/realms/vdi',
          subject: '5f0c1d2e-0000-4000-8000-00000000a11c',
        },
      }),
      sampleTemplate(),
      sampleOptions(),
      inputs(chooseEncoder('auto', 1, facts)),
    ),
  'basic-auth': () =>
    renderSession(
      sampleSession(),
      sampleTemplate('ubuntu-desktop', { persistence: 'none' }),
      sampleOptions({ accessMode: 'basicAuth', gpuResourceName: 'nvidia.com/gpu.shared' }),
      inputs(chooseEncoder('auto', 1, facts)),
    ),
};

describe.each(Object.entries(cases))('rendered session %s', (name, render) => {
  it('matches its golden file', () => {
    const r = render();
    const text = renderedObjects(r)
      .map((o) => stringify(o, { lineWidth: 0 }))
      .join('---\n');
    const file = path.join(goldenDir, `${name}.yaml`);
    const doc = `# url: ${r.url}\n# encoder: ${r.encoderPlan.encoder} on ${r.encoderPlan.device}\n${text}`;
    if (update) {
      mkdirSync(goldenDir, { recursive: true });
      writeFileSync(file, doc);
    }
    if (!existsSync(file))
      throw new Error(`no golden file ${file}; create it with UPDATE_GOLDEN=1 and review it`);
    expect(doc).toBe(readFileSync(file, 'utf8'));
  });

  it('is deterministic', () => {
    expect(JSON.stringify(renderedObjects(render()))).toBe(JSON.stringify(renderedObjects(render())));
  });
});

describe('renderSession', () => {
  const gpu = () => cases['gpu-nvenc']();

  it('asks for one time-slice with the nvidia runtime, the GPU toleration and time-sliced NVENC nodes', () => {
    const pod = gpu().pod;
    expect(pod.spec!.containers[0]!.resources!.limits!['nvidia.com/gpu']).toBe('1');
    expect(pod.spec!.runtimeClassName).toBe('nvidia');
    expect(pod.spec!.tolerations).toContainEqual({
      key: 'nvidia.com/gpu',
      operator: 'Exists',
      effect: 'NoSchedule',
    });
    const terms =
      pod.spec!.affinity!.nodeAffinity!.requiredDuringSchedulingIgnoredDuringExecution!.nodeSelectorTerms[0]!;
    expect(terms.matchExpressions).toEqual([
      { key: 'nvidia.com/gpu.sharing-strategy', operator: 'In', values: ['time-slicing'] },
      { key: 'nvidia.com/gpu.product', operator: 'In', values: ['NVIDIA-L4-SHARED'] },
    ]);
  });

  it('uses the configured GPU resource name', () => {
    const pod = cases['basic-auth']().pod;
    expect(pod.spec!.containers[0]!.resources!.limits).toHaveProperty(['nvidia.com/gpu.shared'], '1');
    expect(pod.spec!.containers[0]!.resources!.limits).not.toHaveProperty(['nvidia.com/gpu']);
  });

  it('encodes on the CPU with a larger CPU request when no NVENC slice is free', () => {
    const nv = gpu().pod.spec!.containers[0]!;
    const cpu = cases['gpu-no-nvenc']().pod.spec!.containers[0]!;
    expect(nv.env).toContainEqual({ name: 'SELKIES_ENCODER', value: 'h264enc' });
    expect(nv.env).toContainEqual({ name: 'SELKIES_USE_CPU', value: 'false' });
    expect(cpu.env).toContainEqual({ name: 'SELKIES_ENCODER', value: 'h264enc' });
    expect(cpu.env).toContainEqual({ name: 'SELKIES_USE_CPU', value: 'true' });
    expect(nv.resources!.requests!.cpu).toBe('2000m');
    expect(cpu.resources!.requests!.cpu).toBe('4000m');
  });

  it('gives a CPU-only session no GPU, no GPU toleration and no nvidia runtime', () => {
    const pod = cases['cpu-only']().pod;
    const c = pod.spec!.containers[0]!;
    expect(Object.keys(c.resources!.limits!)).toEqual(['memory', 'cpu']);
    expect(c.env!.map((e) => e.name)).not.toContain('NVIDIA_DRIVER_CAPABILITIES');
    expect(pod.spec!.runtimeClassName).toBeUndefined();
    expect(pod.spec!.affinity).toBeUndefined();
    expect(pod.spec!.tolerations).toBeUndefined();
  });

  it('meets Pod Security restricted and mounts no service-account token', () => {
    const spec = gpu().pod.spec!;
    expect(spec.automountServiceAccountToken).toBe(false);
    expect(spec.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(spec.containers[0]!.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      privileged: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
    });
  });

  it('gives Selkies 2.x exactly the writable folders it needs, bounded, and probes /api/health', () => {
    const spec = gpu().pod.spec!;
    expect(spec.volumes).toContainEqual({ name: 'dshm', emptyDir: { medium: 'Memory', sizeLimit: '1Gi' } });
    expect(spec.volumes).toContainEqual({ name: 'tmp', emptyDir: { sizeLimit: '1Gi' } });
    expect(spec.volumes).toContainEqual({
      name: 'runtime',
      emptyDir: { medium: 'Memory', sizeLimit: '64Mi' },
    });
    const c = spec.containers[0]!;
    expect(c.securityContext!.readOnlyRootFilesystem).toBe(true);
    expect(c.volumeMounts!.map((m) => m.mountPath).sort()).toEqual(
      ['/dev/shm', '/home/ubuntu', '/run/user/1000', '/tmp'].sort(),
    );
    expect(c.volumeMounts!.every((m) => m.subPath === undefined)).toBe(true);
    expect(c.readinessProbe!.httpGet).toEqual({ path: '/api/health', port: 'http' });
    expect(c.env).toEqual(
      expect.arrayContaining([
        { name: 'SELKIES_PUBLIC', value: 'true' },
        { name: 'SELKIES_PORT', value: '8080' },
        { name: 'SELKIES_MODE', value: 'websockets' },
        { name: 'SELKIES_ENABLE_DUAL_MODE', value: 'false' },
        { name: 'SELKIES_MANUAL_WIDTH', value: '1920' },
        { name: 'SELKIES_MANUAL_HEIGHT', value: '1080' },
        { name: 'XDG_RUNTIME_DIR', value: '/run/user/1000' },
      ]),
    );
    // Selkies 1.x names are not read by 2.x; none may linger.
    expect(c.env!.map((e) => e.name).filter((n) => /^DISPLAY_|RTC_CONFIG|^PASSWD$/.test(n))).toEqual([]);
  });

  it('locks every desktop with its own password and never with a Selkies default or a shared secret', () => {
    for (const [, render] of Object.entries(cases)) {
      const r = render();
      const env = r.pod.spec!.containers[0]!.env!;
      const names = env.map((e) => e.name);
      expect(env).toContainEqual({ name: 'SELKIES_ENABLE_BASIC_AUTH', value: 'true' });
      expect(env).toContainEqual({ name: 'SELKIES_BASIC_AUTH_USER', value: 'vdi' });
      expect(env).toContainEqual({ name: 'SELKIES_ENABLE_SHARING', value: 'false' });
      expect(env.find((e) => e.name === 'SELKIES_BASIC_AUTH_PASSWORD')!.valueFrom!.secretKeyRef).toEqual({
        name: `${r.pod.metadata!.name}-auth`,
        key: 'password',
      });
      expect(names).not.toContain('SELKIES_TURN_SHARED_SECRET');
      expect(names).not.toContain('NVIDIA_VISIBLE_DEVICES');
      expect(JSON.stringify(r)).not.toContain('mypasswd');
      expect(JSON.stringify(r)).not.toContain(samplePassword);
    }
  });

  it('owns every child with controller: true, except the per-user home claim', () => {
    const r = gpu();
    for (const obj of renderedObjects(r)) {
      if (obj === r.home?.claim) {
        expect(obj.metadata!.ownerReferences).toBeUndefined();
        continue;
      }
      expect(obj.metadata!.ownerReferences).toEqual([
        expect.objectContaining({
          kind: 'VDISession',
          name: 'alice-1',
          controller: true,
          blockOwnerDeletion: true,
        }),
      ]);
      expect(obj.metadata!.labels!['vdi.kasm.io/session']).toBe('alice-1');
    }
    expect(cases['cpu-only']().home).toMatchObject({ ownedBySession: true });
    expect(cases['basic-auth']().home).toBeUndefined();
  });

  it('routes each desktop on a host of its own through forward-auth', () => {
    const host = gpu();
    expect(host.url).toBe('https://alice-1.vdi.example.com/');
    expect(host.ingressRoute.spec.routes).toEqual([
      expect.objectContaining({
        match: 'Host(`alice-1.vdi.example.com`)',
        middlewares: [{ name: 'alice-1-forward-auth' }],
      }),
    ]);
    expect(host.ingressRoute.spec.tls).toEqual({});
    const plain = cases['http-port']();
    expect(plain.url).toBe('http://alice-1.vdi.example.com:8081/');
    expect(plain.ingressRoute.spec.tls).toBeUndefined();
    expect(cases['basic-auth']().middlewares).toEqual([]);
  });

  it.each([
    [
      'more memory than the template allows',
      sampleSession('s', { resources: { gpu: 1, memory: '64Gi' } }),
      'spec.resources.memory',
    ],
    [
      'more CPU than the template allows',
      sampleSession('s', { resources: { gpu: 1, cpu: '32' } }),
      'spec.resources.cpu',
    ],
    [
      'memory that leaves no room for /dev/shm',
      sampleSession('s', { resources: { gpu: 1, memory: '512Mi' } }),
      'spec.resources.memory',
    ],
    ['a name that is no host name', sampleSession('1-bad'), 'metadata.name'],
    [
      'less than one millicore',
      sampleSession('s', { resources: { gpu: 1, cpu: '0.0004' } }),
      'spec.resources.cpu',
    ],
  ])('refuses %s with an error naming the field', (_what, session, field) => {
    expect(() =>
      renderSession(
        session,
        sampleTemplate(),
        sampleOptions(),
        inputs({ encoder: 'h264enc', device: 'nvenc', gpuProducts: ['NVIDIA-L4-SHARED'] }),
      ),
    ).toThrow(expect.objectContaining({ name: 'SessionSpecError', field }));
  });

  it('gives a websockets desktop no path to or from the TURN relay or its credentials', () => {
    const spec = gpu().networkPolicy.spec as { ingress: { ports: unknown[] }[]; egress: unknown[] };
    const policy = JSON.stringify(spec);
    expect(policy).not.toContain('192.0.2.10/32');
    // The operator reaches the desktop's port (idle culling's look), never the other way round.
    expect(JSON.stringify(spec.egress)).not.toContain('vdi-operator');
    for (const rule of spec.ingress) expect(rule.ports).toEqual([{ protocol: 'TCP', port: 8080 }]);
    const r = gpu();
    expect(Object.keys(r.authSecret.data!)).toEqual(['password', 'viewonly-password']);
    expect(r.pod.spec!.containers[0]!.env!.filter((e) => /TURN|STUN/.test(e.name))).toEqual([]);
  });

  describe('a WebRTC desktop', () => {
    const webrtc = () => cases.webrtc();
    const env = () => webrtc().pod.spec!.containers[0]!.env!;
    const value = (name: string) => env().find((e) => e.name === name);

    it('admits the TURN relay over UDP only, never to the HTTP port', () => {
      const ingress = webrtc().networkPolicy.spec.ingress as { from: unknown[]; ports?: unknown[] }[];
      const relay = ingress.find((r) => JSON.stringify(r.from).includes('192.0.2.10/32'))!;
      expect(relay.ports).toEqual([{ protocol: 'UDP' }]);
    });

    it('reaches the relay on its ports and the TURN REST endpoint on the operator pods only', () => {
      const egress = webrtc().networkPolicy.spec.egress as { to: unknown[]; ports: unknown[] }[];
      expect(egress).toContainEqual({
        to: [{ ipBlock: { cidr: '192.0.2.10/32' } }],
        ports: [
          { protocol: 'UDP', port: 3478 },
          { protocol: 'TCP', port: 443 },
        ],
      });
      expect(egress).toContainEqual({
        to: [
          {
            namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'vdi-system' } },
            podSelector: { matchLabels: { 'app.kubernetes.io/name': 'vdi-operator' } },
          },
        ],
        ports: [{ protocol: 'TCP', port: 8444 }],
      });
    });

    it('fetches its credentials from the TURN REST endpoint with its own key, from its Secret', () => {
      expect(value('SELKIES_MODE')).toEqual({ name: 'SELKIES_MODE', value: 'webrtc' });
      expect(value('SELKIES_TURN_REST_URI')!.value).toBe(
        'http://vdi-turn-rest.vdi-system.svc.cluster.local:8444/turn/vdi-sessions/carol-3',
      );
      expect(value('SELKIES_TURN_REST_API_KEY')!.valueFrom!.secretKeyRef).toEqual({
        name: 'carol-3-auth',
        key: 'turn-rest-key',
      });
      const data = webrtc().authSecret.data!;
      expect(Buffer.from(data['turn-rest-key']!, 'base64').toString()).toBe(sampleTurnRestKey);
    });

    it("never falls back to Selkies' public relay or Google's STUN server", () => {
      expect(value('SELKIES_TURN_HOST')!.value).toBe('turn.vdi.example.com');
      expect(value('SELKIES_STUN_HOST')!.value).toBe('turn.vdi.example.com');
      // Selkies' built-in HMAC secret is public: coturn refuses credentials made from it.
      expect(value('SELKIES_TURN_SHARED_SECRET')).toBeUndefined();
      expect(JSON.stringify(env())).not.toMatch(/google|metered|openrelay/);
    });
  });

  describe('egress per template', () => {
    const egressOf = (egress: object | undefined, opts = {}) => {
      const t = sampleTemplate('e', egress ? ({ egress } as never) : {});
      const r = renderSession(
        sampleSession(),
        t,
        sampleOptions({ clusterCidrs: ['10.42.0.0/16', '198.18.0.0/15'], ...opts }),
        inputs({ encoder: 'h264enc', device: 'nvenc', gpuProducts: ['NVIDIA-L4-SHARED'] }),
      );
      return r.networkPolicy.spec.egress as { to: { ipBlock?: { cidr: string; except?: string[] } }[] }[];
    };

    it('allows only DNS by default', () => {
      const rules = egressOf(undefined);
      expect(rules).toHaveLength(1);
      expect(JSON.stringify(rules)).not.toContain('0.0.0.0/0');
    });

    it('opens the public internet but never private, metadata or cluster ranges', () => {
      const rules = egressOf({ internet: true });
      const v4 = rules.flatMap((r) => r.to).find((p) => p.ipBlock?.cidr === '0.0.0.0/0')!.ipBlock!;
      expect(v4.except).toEqual(
        expect.arrayContaining([
          '10.0.0.0/8',
          '172.16.0.0/12',
          '192.168.0.0/16',
          '169.254.0.0/16',
          '127.0.0.0/8',
        ]),
      );
      expect(v4.except).toEqual(expect.arrayContaining(['198.18.0.0/15']));
      const v6 = rules.flatMap((r) => r.to).find((p) => p.ipBlock?.cidr === '::/0')!.ipBlock!;
      expect(v6.except).toEqual(expect.arrayContaining(['fc00::/7', 'fe80::/10', '::1/128']));
    });

    it('adds the listed destinations as they are', () => {
      const rules = egressOf({ internet: false, cidrs: ['10.1.2.3/32', '2001:db8::/64'] });
      expect(rules.at(-1)).toEqual({
        to: [{ ipBlock: { cidr: '10.1.2.3/32' } }, { ipBlock: { cidr: '2001:db8::/64' } }],
      });
    });
  });

  it("refuses less than the template's minimums, also for sessions written with kubectl", () => {
    const t = sampleTemplate('roomy', {
      resources: { ...sampleTemplate().spec.resources, minCPU: '1', minMemory: '3Gi' },
    });
    const plan = inputs({ encoder: 'h264enc', device: 'nvenc', gpuProducts: ['NVIDIA-L4-SHARED'] });
    const small = (resources: object) => sampleSession('s', { resources: { gpu: 1, ...resources } });
    expect(() => renderSession(small({ cpu: '500m' }), t, sampleOptions(), plan)).toThrow(
      /500m is less than the template needs \(1\)/,
    );
    expect(() => renderSession(small({ memory: '2Gi' }), t, sampleOptions(), plan)).toThrow(
      /2Gi is less than the template needs \(3Gi\)/,
    );
    expect(
      renderSession(small({ cpu: '1', memory: '3Gi' }), t, sampleOptions(), plan).effective,
    ).toMatchObject({
      cpu: '1',
      memory: '3Gi',
    });
  });

  it('refuses a GPU session on a template that allows none', () => {
    const t = sampleTemplate('cpu', { resources: { defaultGPU: 0, maxGPU: 0 } as never });
    expect(() =>
      renderSession(sampleSession(), t, sampleOptions(), inputs({ encoder: 'h264enc', device: 'cpu' })),
    ).toThrow(SessionSpecError);
  });

  it('refuses a session that was not read from the API server (no uid)', () => {
    const s = sampleSession();
    delete s.metadata.uid;
    expect(() =>
      renderSession(s, sampleTemplate(), sampleOptions(), inputs({ encoder: 'h264enc', device: 'cpu' })),
    ).toThrow(/uid/);
  });

  it('names every invalid platform option', () => {
    expect(() =>
      renderSession(
        sampleSession(),
        sampleTemplate(),
        sampleOptions({ baseDomain: 'Not A Domain', forwardAuthUrl: 'nope', entryPoints: [] }),
        inputs({ encoder: 'h264enc', device: 'cpu' }),
      ),
    ).toThrow(/baseDomain .*forwardAuthUrl .*entryPoints/);
  });
});
