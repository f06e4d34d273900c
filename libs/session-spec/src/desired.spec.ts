import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { gpuNode } from '@vdi/sim-nodes';
import {
  ANNOTATION_ENCODER_PLAN,
  CHILD_KINDS,
  childListPath,
  childRefs,
  desiredSession,
  encoderPlanOf,
  planSession,
  renderPlanned,
  sessionKeys,
  sessionPlacement,
} from './desired.js';
import { SessionSpecError } from './errors.js';
import { gpuCapacity } from './gpu-capacity.js';
import { renderSession, renderedObjects } from './render.js';
import { sessionPassword, turnRestKey } from './secrets.js';
import { sampleOptions, sampleSession, sampleTemplate } from './testing.js';

const KEY = 'a-platform-session-key-for-tests-0123456789abcdef';
const RUN = { key: 'vdi.kasm.io/bench-run', operator: 'Equal', value: 'r1', effect: 'NoSchedule' } as const;
// kwok would report them Ready; only Ready nodes offer free slices.
const ready = (n: V1Node): V1Node => ({
  ...n,
  status: { ...n.status, conditions: [{ type: 'Ready', status: 'True' }] },
});
const gpu = (name: string, product: string, pool: string) =>
  ready(gpuNode({ name, product, gpus: 1, replicas: 8, podCIDR: '10.244.0.0/24', labels: { pool } }));
// An NVENC node of the template's pool, one H100 (no NVENC) of it, and an L4 outside it.
const l4 = gpu('l4-a', 'NVIDIA-L4', 'a');
const h100 = gpu('h100-a', 'NVIDIA-H100-80GB-HBM3', 'a');
const outside = gpu('l4-b', 'NVIDIA-L4', 'b');
const template = sampleTemplate('ubuntu-desktop', { nodeSelector: { pool: 'a' } });
const session = sampleSession();
const options = sampleOptions();
const desktopPod = (node: string, annotations: Record<string, string> = {}): V1Pod => ({
  metadata: { name: `p-${node}`, annotations },
  spec: { nodeName: node, containers: [{ name: 'c', resources: { limits: { 'nvidia.com/gpu': '1' } } }] },
  status: { phase: 'Running' },
});

describe('sessionPlacement', () => {
  it("is the template's node selector and tolerations plus the GPU taint's toleration, first", () => {
    const t = sampleTemplate('t', { nodeSelector: { pool: 'a' }, tolerations: [RUN] });
    expect(sessionPlacement(t)).toEqual({
      nodeSelector: { pool: 'a' },
      tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists' }, RUN],
    });
    expect(sessionPlacement(sampleTemplate())).toEqual({
      nodeSelector: {},
      tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists' }],
    });
  });
});

describe('planSession', () => {
  it('counts the slices of the nodes the template allows only, and picks NVENC while one is free', () => {
    const p = planSession(session, template, options, { nodes: [l4, h100, outside], pods: [] });
    expect(p.encoderPlan).toEqual({ encoder: 'h264enc', device: 'nvenc', gpuProducts: ['NVIDIA-L4-SHARED'] });
    // Narrowed to the plan's products: the H100 and the node outside the pool do not count.
    expect(p.facts).toMatchObject({ total: 8, free: 8 });
    expect(p.effective.gpu).toBe(1);
  });

  it('falls back to the CPU encoder when the NVENC slices are taken, counting all allowed nodes', () => {
    const busy = Array.from({ length: 8 }, () => desktopPod('l4-a'));
    const p = planSession(session, template, options, { nodes: [l4, h100, outside], pods: busy });
    expect(p.encoderPlan).toEqual({ encoder: 'h264enc', device: 'cpu' });
    expect(p.facts).toMatchObject({ total: 16, free: 8 });
  });

  it('counts from a ledger of held slices as from the pods themselves', () => {
    const busy = Array.from({ length: 8 }, () => desktopPod('l4-a'));
    const fromPods = planSession(session, template, options, { nodes: [l4, h100, outside], pods: busy });
    const seen: string[][] = [];
    const ledger = {
      capacity: (nodes: readonly V1Node[]) => {
        seen.push(nodes.map((n) => n.metadata!.name!));
        return gpuCapacity(nodes, busy, 'nvidia.com/gpu');
      },
    };
    const fromLedger = planSession(session, template, options, {
      nodes: [l4, h100, outside],
      slices: ledger,
    });
    expect(fromLedger).toEqual(fromPods);
    // Asked about the nodes the template allows only.
    expect(seen).toEqual([['l4-a', 'h100-a']]);
  });

  it('keeps the plan recorded on the existing desktop pod, whatever is free now', () => {
    const recorded = { encoder: 'h264enc', device: 'cpu' } as const;
    const pod = desktopPod('h100-a', { [ANNOTATION_ENCODER_PLAN]: JSON.stringify(recorded) });
    const p = planSession(session, template, options, { nodes: [l4, h100], pods: [pod], desktopPod: pod });
    expect(p.encoderPlan).toEqual(recorded);
    expect(encoderPlanOf(pod)).toEqual(recorded);
    expect(encoderPlanOf(desktopPod('x', { [ANNOTATION_ENCODER_PLAN]: 'garbage' }))).toBeUndefined();
  });

  it('throws SessionSpecError for a spec the template refuses', () => {
    const greedy = sampleSession('greedy', { resources: { gpu: 1, memory: '64Gi' } });
    expect(() => planSession(greedy, template, options, { nodes: [], pods: [] })).toThrow(SessionSpecError);
  });

  it('never modifies the (shared, cached) template', () => {
    const frozen = structuredClone(template);
    desiredSession(session, template, options, { nodes: [l4], pods: [], sessionKey: KEY });
    expect(template).toEqual(frozen);
  });
});

describe('desiredSession', () => {
  const d = desiredSession(session, template, options, { nodes: [l4, h100], pods: [], sessionKey: KEY });

  it('is renderSession with the chosen plan and the keys derived from the session key and uid', () => {
    const uid = session.metadata.uid!;
    expect(sessionKeys(KEY, session)).toEqual({
      sessionPassword: sessionPassword(KEY, uid),
      turnRestKey: turnRestKey(KEY, uid),
    });
    const plain = renderSession(session, template, options, {
      encoderPlan: d.encoderPlan,
      ...sessionKeys(KEY, session),
    });
    const withoutPod = (objs: { kind?: string }[]) => objs.filter((o) => o.kind !== 'Pod');
    expect(withoutPod(d.objects)).toEqual(withoutPod(renderedObjects(plain)));
  });

  it('lists every object in apply order, the pod right after what it needs, with its encoder plan recorded', () => {
    expect(d.objects.map((o) => `${o.kind}/${o.metadata!.name}`)).toEqual([
      'Secret/alice-1-auth',
      'PersistentVolumeClaim/home-alice-example-com-ff8d9819fc',
      'NetworkPolicy/alice-1',
      'Pod/alice-1',
      'Service/alice-1',
      'Middleware/alice-1-forward-auth',
      'IngressRoute/alice-1',
    ]);
    expect(d.objects[3]).toBe(d.pod);
    expect(JSON.parse(d.pod.metadata!.annotations![ANNOTATION_ENCODER_PLAN]!)).toEqual(d.encoderPlan);
    expect(encoderPlanOf(d.pod)).toEqual(d.encoderPlan);
  });

  it('mounts the per-user home claim it is given', () => {
    const planned = planSession(session, template, options, { nodes: [], pods: [] });
    const r = renderPlanned(session, template, options, planned, {
      sessionKey: KEY,
      userHomeClaim: 'home-migrated',
    });
    expect(r.objects.map((o) => o.metadata!.name)).toContain('home-migrated');
    expect(r.pod.spec!.volumes!.find((v) => v.name === 'home')?.persistentVolumeClaim?.claimName).toBe(
      'home-migrated',
    );
  });
});

describe('children', () => {
  it('are deleted pod first, with the 0.1.x TURN secret and the session home, never a per-user home', () => {
    expect(childRefs('s1', 'ns').map((r) => `${r.kind}/${r.metadata.name}@${r.metadata.namespace}`)).toEqual([
      'Pod/s1@ns',
      'Service/s1@ns',
      'Secret/s1-turn@ns',
      'Secret/s1-auth@ns',
      'NetworkPolicy/s1@ns',
      'IngressRoute/s1@ns',
      'Middleware/s1-forward-auth@ns',
      'PersistentVolumeClaim/s1-home@ns',
    ]);
  });

  it('come in kinds that cover every object a session renders to', () => {
    const kinds = new Set(CHILD_KINDS.map((k) => `${k.apiVersion}/${k.kind}`));
    for (const o of d().objects) expect(kinds).toContain(`${o.apiVersion}/${o.kind}`);
    for (const r of childRefs('s1', 'ns')) expect(kinds).toContain(`${r.apiVersion}/${r.kind}`);
    function d() {
      return desiredSession(session, template, options, { nodes: [], pods: [], sessionKey: KEY });
    }
  });

  it('are listed at their API paths', () => {
    const pods = CHILD_KINDS.find((k) => k.kind === 'Pod')!;
    const routes = CHILD_KINDS.find((k) => k.kind === 'IngressRoute')!;
    expect(childListPath(pods, 'ns')).toBe('/api/v1/namespaces/ns/pods');
    expect(childListPath(routes, 'ns', 'a=b')).toBe(
      '/apis/traefik.io/v1alpha1/namespaces/ns/ingressroutes?labelSelector=a%3Db',
    );
  });
});
