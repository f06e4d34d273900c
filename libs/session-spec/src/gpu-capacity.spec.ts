import type { V1Node, V1Pod } from '@kubernetes/client-node';
import type { VDISession } from '@vdi/crd-types';
import { gpuNode } from '@vdi/sim-nodes';
import { eligible, gpuCapacity, SliceLedger, waitingSessions } from './gpu-capacity.js';

const R = 'nvidia.com/gpu';
const node = (
  name: string,
  product: string | undefined,
  slices: number,
  over: Partial<V1Node> = {},
): V1Node => ({
  metadata: { name, labels: product ? { 'nvidia.com/gpu.product': product } : {} },
  spec: {},
  status: {
    allocatable: { [R]: String(slices) },
    conditions: [{ type: 'Ready', status: 'True' }],
  },
  ...over,
});
const pod = (nodeName: string | undefined, gpus: number, phase = 'Running'): V1Pod => ({
  metadata: { name: 'p' },
  spec: {
    ...(nodeName ? { nodeName } : {}),
    containers: [{ name: 'c', resources: { limits: { [R]: String(gpus) } } }],
  },
  status: { phase },
});

describe('gpuCapacity', () => {
  it('counts total and free slices per node and product, NVENC separately', () => {
    const c = gpuCapacity(
      [
        node('l4-a', 'NVIDIA-L4-SHARED', 8),
        node('a100', 'NVIDIA-A100-SXM4-40GB', 8),
        node('cpu', undefined, 0),
      ],
      [pod('l4-a', 1), pod('l4-a', 1), pod('a100', 1), pod(undefined, 1), pod('l4-a', 1, 'Succeeded')],
      R,
    );
    expect(c).toMatchObject({ total: 16, free: 13, nvencFree: 6 });
    expect(c.products).toEqual([
      { product: 'NVIDIA-A100-SXM4-40GB', nvenc: false, total: 8, free: 7 },
      { product: 'NVIDIA-L4-SHARED', nvenc: true, total: 8, free: 6 },
    ]);
    expect(c.nodes.map((n) => [n.name, n.free])).toEqual([
      ['a100', 7],
      ['l4-a', 6],
    ]);
  });

  it('offers nothing free on nodes that are not Ready or cordoned, and never less than zero', () => {
    const notReady = node('n1', 'NVIDIA-L4-SHARED', 4, {
      status: { allocatable: { [R]: '4' }, conditions: [{ type: 'Ready', status: 'False' }] },
    });
    const cordoned = node('n2', 'NVIDIA-L4-SHARED', 4, { spec: { unschedulable: true } });
    const over = node('n3', 'NVIDIA-L4-SHARED', 1);
    const c = gpuCapacity([notReady, cordoned, over], [pod('n3', 1), pod('n3', 1)], R);
    expect(c).toMatchObject({ total: 9, free: 0, nvencFree: 0 });
    expect(c.nodes.find((n) => n.name === 'n2')).toMatchObject({ ready: true, schedulable: false, free: 0 });
    expect(c.nodes.find((n) => n.name === 'n1')).toMatchObject({ ready: false, free: 0 });
  });

  it('reads the configured resource only', () => {
    const shared = node('s', 'NVIDIA-L4', 0);
    shared.status!.allocatable = { 'nvidia.com/gpu.shared': '4' };
    expect(gpuCapacity([shared], [], R).total).toBe(0);
    expect(gpuCapacity([shared], [], 'nvidia.com/gpu.shared').total).toBe(4);
  });
});

describe('SliceLedger', () => {
  const named = (name: string, p: V1Pod): V1Pod => ({ ...p, metadata: { name, namespace: 'vdi' } });
  const nodes = [node('a', 'NVIDIA-L4-SHARED', 8), node('b', 'NVIDIA-L4-SHARED', 8)];

  it('follows pod events to the same capacity a full recount gives', () => {
    const ledger = new SliceLedger(R);
    const live = new Map<string, V1Pod>();
    const put = (p: V1Pod) => {
      live.set(p.metadata!.name!, p);
      ledger.pod(p);
    };
    const drop = (name: string) => {
      ledger.gone(live.get(name)!);
      live.delete(name);
    };
    const same = () => expect(ledger.capacity(nodes)).toEqual(gpuCapacity(nodes, [...live.values()], R));
    put(named('p1', pod(undefined, 1, 'Pending')));
    same();
    expect(ledger.usedOn('a')).toBe(0);
    // Placed: now it holds a slice.
    put(named('p1', pod('a', 1)));
    put(named('p2', pod('a', 2)));
    put(named('p3', pod('b', 1)));
    same();
    expect(ledger.usedOn('a')).toBe(3);
    // An update that changes nothing is not counted twice.
    put(named('p2', pod('a', 2)));
    same();
    expect(ledger.usedOn('a')).toBe(3);
    // Finished pods free their slices; deleted ones too.
    put(named('p2', pod('a', 2, 'Failed')));
    drop('p3');
    same();
    expect(ledger.usedOn('a')).toBe(1);
    expect(ledger.usedOn('b')).toBe(0);
    // A delete of a pod never counted (CPU desktop, or unplaced) changes nothing.
    ledger.gone(named('cpu', pod('b', 0)));
    same();
  });

  it('keeps pods of the same name in different namespaces apart', () => {
    const ledger = new SliceLedger(R);
    ledger.pod({ ...pod('a', 1), metadata: { name: 'p', namespace: 'x' } });
    ledger.pod({ ...pod('a', 1), metadata: { name: 'p', namespace: 'y' } });
    ledger.gone({ ...pod('a', 1), metadata: { name: 'p', namespace: 'x' } });
    expect(ledger.usedOn('a')).toBe(1);
  });
});

describe('waitingSessions', () => {
  const s = (phase?: string, deleting = false): VDISession =>
    ({
      apiVersion: 'vdi.kasm.io/v1alpha1',
      kind: 'VDISession',
      metadata: { name: 'x', ...(deleting ? { deletionTimestamp: new Date() } : {}) },
      spec: { user: 'u', template: 't' },
      ...(phase ? { status: { phase } } : {}),
    }) as VDISession;

  it('counts Pending (or no status yet) and Scheduling, not those being deleted', () => {
    expect(
      waitingSessions([
        s(),
        s('Pending'),
        s('Scheduling'),
        s('Starting'),
        s('Running'),
        s('Failed'),
        s('Pending', true),
      ]),
    ).toBe(3);
  });
});

describe('eligible', () => {
  const n = gpuNode({
    name: 'g',
    product: 'NVIDIA-L4',
    gpus: 1,
    replicas: 8,
    podCIDR: '198.18.1.0/24',
    labels: { pool: 'a' },
  });
  const gpuTol = { key: 'nvidia.com/gpu', operator: 'Exists' };
  it.each([
    [{ tolerations: [gpuTol] }, true],
    [{}, false],
    [{ tolerations: [gpuTol], nodeSelector: { pool: 'a' } }, true],
    [{ tolerations: [gpuTol], nodeSelector: { pool: 'b' } }, false],
    [{ tolerations: [gpuTol], gpuProducts: ['NVIDIA-L4-SHARED'] }, true],
    [{ tolerations: [gpuTol], gpuProducts: ['Tesla-T4-SHARED'] }, false],
    [{ tolerations: [{ operator: 'Exists' }] }, true],
    [
      { tolerations: [{ key: 'nvidia.com/gpu', operator: 'Equal', value: 'present', effect: 'NoSchedule' }] },
      true,
    ],
  ])('%j → %s', (placement, want) => {
    expect(eligible(n, placement)).toBe(want);
  });
});
