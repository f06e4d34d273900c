/**
 * The cached copies of many objects must share V8's hidden classes: a copy made with its own
 * hidden class costs ~240 bytes more (the class and its descriptors), for every cached object.
 * That happened with conditional spreads (`...(x ? { x } : {})`) once the spread had seen a few
 * shapes: a heap snapshot of the operator at 2000 sessions held 10000 child copies with 10000
 * hidden classes. V8's own check (%HaveSameMap) answers whether two objects share one.
 */
import v8 from 'node:v8';
import type * as k8s from '@kubernetes/client-node';
import { childMetadata, slimNode, slimPod, withoutManagedFields } from './slim.js';

v8.setFlagsFromString('--allow-natives-syntax');
const haveSameMap = new Function('a', 'b', 'return %HaveSameMap(a, b)') as (a: object, b: object) => boolean;
v8.setFlagsFromString('--no-allow-natives-syntax');

/** Object `i` of a varied population, as JSON.parse hands it over (optional fields come and go). */
function object(i: number): k8s.V1Pod {
  const text = JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `s-${i}`,
      namespace: 'ns',
      uid: `u-${i}`,
      resourceVersion: String(1000 + i),
      ...(i % 3 ? { deletionTimestamp: '2026-12-06T00:00:00Z' } : {}),
      labels: { 'vdi.kasm.io/session': `s-${i}`, other: 'x' },
      annotations: {
        'vdi.kasm.io/applied': `h${i}`,
        ...(i % 2 ? { 'kubectl.kubernetes.io/last-applied-configuration': '{}' } : {}),
      },
      ...(i % 7
        ? {
            ownerReferences: [
              { apiVersion: 'vdi.kasm.io/v1alpha1', kind: 'VDISession', name: `s-${i}`, uid: `o-${i}` },
            ],
          }
        : {}),
      managedFields: [{ manager: 'vdi-operator', operation: 'Apply' }],
    },
    spec: {
      containers: [
        { name: 'desktop', image: 'img', resources: { limits: { 'nvidia.com/gpu': '1' } }, env: [] },
      ],
      nodeName: `n-${i % 5}`,
      ...(i % 4 ? { priority: 1 } : {}),
      volumes: [
        { name: 'home', persistentVolumeClaim: { claimName: `h-${i}` } },
        { name: 'tmp', emptyDir: {} },
      ],
      taints: i % 6 ? [] : undefined,
    },
    status: {
      phase: 'Running',
      ...(i % 5 ? { podIP: '10.0.0.1', startTime: '2026-12-06T00:00:00Z' } : {}),
      allocatable: { 'nvidia.com/gpu': '8' },
      conditions: [{ type: 'Ready', status: 'True', lastProbeTime: null, lastTransitionTime: 't' }],
      containerStatuses: [
        { name: 'desktop', image: 'img', imageID: 'id', ready: true, restartCount: 0, state: {} },
      ],
    },
  });
  return JSON.parse(text) as k8s.V1Pod;
}

/** How many of the objects do not share the hidden class of the first object with their keys. */
function unshared(objects: readonly (object | undefined)[]): number {
  const first = new Map<string, object>();
  let n = 0;
  for (const o of objects) {
    if (!o) continue;
    const keys = Object.keys(o).join(',');
    const f = first.get(keys);
    if (!f) first.set(keys, o);
    else if (!haveSameMap(f, o)) n++;
  }
  return n;
}

const transforms: [string, (o: k8s.V1Pod) => k8s.KubernetesObject][] = [
  ['withoutManagedFields', (o) => withoutManagedFields(o)],
  ['slimPod', (o) => slimPod(o)],
  ['slimNode', (o) => slimNode(o as unknown as k8s.V1Node)],
  [
    'childMetadata',
    (o) => childMetadata(o, { labels: ['vdi.kasm.io/session'], annotations: ['vdi.kasm.io/applied'] }),
  ],
];

describe.each(transforms)('%s', (_name, transform) => {
  it('gives copies with the same fields one hidden class, at every level', () => {
    // Enough objects for every code path to see every shape (V8's inline caches go megamorphic).
    const copies = Array.from({ length: 400 }, (_, i) => transform(object(i))) as Record<string, unknown>[];
    expect(copies.length).toBe(400);
    for (const level of [undefined, 'metadata', 'spec', 'status'] as const) {
      const objects = copies.map((c) => (level ? (c[level] as object | undefined) : c));
      expect({ level: level ?? 'top', unshared: unshared(objects) }).toEqual({
        level: level ?? 'top',
        unshared: 0,
      });
    }
  });
});
