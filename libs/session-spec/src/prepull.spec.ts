import type { V1Pod } from '@kubernetes/client-node';
import { PREPULL_NODES_MAX, type VDITemplate } from '@vdi/crd-types';
import { chooseEncoder } from './encoder.js';
import {
  ANNOTATION_PREPULL_TEMPLATE,
  LABEL_PREPULL,
  PREPULL_SELECTOR,
  prepullStatus,
  pullerDaemonSet,
  pullerHasImage,
  pullerName,
  wantsPuller,
} from './prepull.js';
import { renderSession } from './render.js';
import {
  sampleOptions,
  samplePassword,
  sampleSession,
  sampleTemplate,
  sampleTurnRestKey,
} from './testing.js';

const opts = { namespace: 'vdi-system', pauseImage: 'registry.k8s.io/pause:3.10' };
const NOW = new Date('2026-12-05T10:00:00.000Z');

/** The desktop pod of a session that asks for nothing of its own (the template's defaults). */
function defaultDesktopPod(template: VDITemplate) {
  const session = sampleSession('alice-1', { template: template.metadata.name!, resources: undefined });
  delete (session.spec as { resources?: unknown }).resources;
  const gpu = template.spec.resources.defaultGPU;
  return renderSession(session, template, sampleOptions(), {
    // A CPU-encoding plan: an NVENC plan narrows a desktop to some products per session.
    encoderPlan: chooseEncoder('x264enc' as never, gpu, { products: [] }),
    sessionPassword: samplePassword,
    turnRestKey: sampleTurnRestKey,
  }).pod;
}

function pod(
  node: string,
  image: string,
  state: Partial<V1Pod['status']> = {},
  extra: Partial<V1Pod> = {},
): V1Pod {
  return {
    metadata: { name: `prepull-x-${node}`, ...extra.metadata },
    spec: { nodeName: node, initContainers: [{ name: 'image', image }], containers: [] },
    status: { phase: 'Pending', ...state },
  };
}
const pulled = (node: string, image: string) =>
  pod(node, image, {
    initContainerStatuses: [
      {
        name: 'image',
        image,
        imageID: '',
        ready: true,
        restartCount: 0,
        state: { terminated: { exitCode: 0 } },
      },
    ],
  });

describe('pullerName', () => {
  it.each([
    ['ubuntu-desktop', 'prepull-ubuntu-desktop'],
    ['xfce', 'prepull-xfce'],
  ])('is prepull-<template> for a short DNS label (%s)', (template, name) => {
    expect(pullerName(template)).toBe(name);
  });

  it.each([
    ['a.dotted.template'],
    ['a-very-long-template-name-that-goes-on-and-on-and-on-beyond-the-label'],
    ['UPPER'],
  ])('slugs and hashes any other name (%s) into a DNS label a pod name fits after', (template) => {
    const name = pullerName(template);
    expect(name).toMatch(/^prepull-[a-z0-9-]*[a-f0-9]{10}$/);
    expect(name.length).toBeLessThanOrEqual(57);
    expect(pullerName(template)).toBe(name);
  });

  it('never gives two templates the same puller', () => {
    expect(pullerName('a.b')).not.toBe(pullerName('a-b'));
  });
});

describe('pullerDaemonSet', () => {
  const template = sampleTemplate('ubuntu-desktop', {
    nodeSelector: { pool: 'desktops' },
    tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'vdi', effect: 'NoSchedule' }],
  });
  const ds = pullerDaemonSet(template, opts);
  const spec = ds.spec!.template.spec!;

  it('is named from the template, in the operator namespace, owned by the template', () => {
    expect(ds.metadata).toMatchObject({
      name: 'prepull-ubuntu-desktop',
      namespace: 'vdi-system',
      annotations: { [ANNOTATION_PREPULL_TEMPLATE]: 'ubuntu-desktop' },
      ownerReferences: [
        {
          kind: 'VDITemplate',
          name: 'ubuntu-desktop',
          uid: template.metadata.uid,
          controller: true,
        },
      ],
    });
    expect(ds.spec!.selector.matchLabels).toEqual({ [LABEL_PREPULL]: 'prepull-ubuntu-desktop' });
    expect(ds.spec!.template.metadata!.labels).toMatchObject(ds.spec!.selector.matchLabels!);
  });

  it('carries what the operator watches it by, and keeps its pods out of the platform pod watches', () => {
    const selector = Object.fromEntries(PREPULL_SELECTOR.split(',').map((kv) => kv.split('=')));
    expect(ds.metadata!.labels).toMatchObject(selector);
    expect(ds.spec!.template.metadata!.labels).toMatchObject(selector);
    expect(ds.spec!.template.metadata!.labels).not.toHaveProperty(['app.kubernetes.io/part-of']);
  });

  it('pulls the template image in an init container that exits at once, then holds with pause', () => {
    expect(spec.initContainers).toEqual([
      expect.objectContaining({
        name: 'image',
        image: template.spec.image,
        imagePullPolicy: 'IfNotPresent',
        command: ['/bin/true'],
      }),
    ]);
    expect(spec.containers).toEqual([
      expect.objectContaining({ name: 'pause', image: opts.pauseImage, imagePullPolicy: 'IfNotPresent' }),
    ]);
  });

  it('keeps an imagePullPolicy of Never (images imported on each node)', () => {
    const never = pullerDaemonSet(sampleTemplate('t', { imagePullPolicy: 'Never' }), opts);
    expect(never.spec!.template.spec!.initContainers![0]!.imagePullPolicy).toBe('Never');
  });

  it('is Pod Security restricted, asks for no GPU and tiny resources, and has no token', () => {
    expect(spec.automountServiceAccountToken).toBe(false);
    expect(spec.securityContext).toEqual({
      runAsNonRoot: true,
      runAsUser: 1000,
      runAsGroup: 1000,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    for (const c of [...spec.initContainers!, ...spec.containers]) {
      expect(c.securityContext).toEqual({
        allowPrivilegeEscalation: false,
        privileged: false,
        readOnlyRootFilesystem: true,
        runAsNonRoot: true,
        capabilities: { drop: ['ALL'] },
      });
      expect(c.resources).toEqual({
        requests: { cpu: '1m', memory: '8Mi' },
        limits: { cpu: '50m', memory: '32Mi' },
      });
      expect(JSON.stringify(c.resources)).not.toContain('nvidia');
    }
    expect(spec.runtimeClassName).toBeUndefined();
    expect(spec.volumes).toBeUndefined();
  });

  it.each([
    ['a GPU template with selector and tolerations', template],
    ['a GPU template without', sampleTemplate('gpu-plain')],
    [
      'a CPU template',
      sampleTemplate('cpu', {
        nodeSelector: { 'kubernetes.io/hostname': 'vdi-worker-1' },
        resources: { defaultGPU: 0, maxGPU: 0, defaultMemory: '2Gi', defaultCPU: '1' } as never,
      }),
    ],
  ])('lands where the desktop pod of %s lands (same placement function)', (_what, t) => {
    const desktop = defaultDesktopPod(t).spec!;
    const puller = pullerDaemonSet(t, opts).spec!.template.spec!;
    const placement = (s: typeof desktop) => ({
      nodeSelector: s.nodeSelector,
      affinity: s.affinity,
      tolerations: s.tolerations,
    });
    expect(placement(puller)).toEqual(placement(desktop));
  });

  it('is the same object for the same template (no time or randomness in it)', () => {
    expect(pullerDaemonSet(template, opts)).toEqual(ds);
  });
});

describe('wantsPuller', () => {
  it.each([
    ['a usable template', sampleTemplate(), true],
    ['a retired one', sampleTemplate('t', { retired: true }), false],
    [
      'one being deleted',
      { ...sampleTemplate(), metadata: { name: 't', deletionTimestamp: new Date() } },
      false,
    ],
    ['one that cannot become a desktop', sampleTemplate('t', { shmSize: '64Gi' }), false],
    ['none', undefined, false],
  ])('%s: %s', (_what, t, want) => {
    expect(wantsPuller(t as VDITemplate | undefined)).toBe(want);
  });
});

describe('pullerHasImage', () => {
  const image = 'desktop:2';
  it.each([
    ['the pull container completed', pulled('n1', image), true],
    ['the pod runs', pod('n1', image, { phase: 'Running' }), true],
    ['still pulling', pod('n1', image), false],
    ['a pod of the old image (rollout)', pulled('n1', 'desktop:1'), false],
    [
      'not on a node yet',
      { ...pulled('n1', image), spec: { ...pulled('n1', image).spec!, nodeName: undefined } },
      false,
    ],
    [
      'being deleted',
      pod('n1', image, { phase: 'Running' }, { metadata: { deletionTimestamp: new Date() } }),
      false,
    ],
    [
      'the pull failed',
      pod('n1', image, {
        initContainerStatuses: [
          {
            name: 'image',
            image,
            imageID: '',
            ready: false,
            restartCount: 1,
            state: { terminated: { exitCode: 127 } },
          },
        ],
      }),
      false,
    ],
  ])('%s: %s', (_what, p, has) => {
    expect(pullerHasImage(p, image)).toBe(has);
  });
});

describe('prepullStatus', () => {
  const template = sampleTemplate('ubuntu-desktop');
  const image = template.spec.image;
  const ds = (desired: number) => ({ status: { desiredNumberScheduled: desired } }) as never;

  it('counts the eligible nodes that have the image, sorted and once each', () => {
    const s = prepullStatus(
      template,
      ds(3),
      [pulled('n2', image), pod('n3', image), pulled('n1', image), pulled('n1', image)],
      NOW,
    );
    expect(s).toEqual({
      image,
      ready: 2,
      desired: 3,
      summary: '2/3',
      nodes: ['n1', 'n2'],
      observedTime: '2026-12-05T10:00:00Z',
    });
  });

  it('reports 0/0 before the DaemonSet is seen', () => {
    expect(prepullStatus(template, undefined, [], NOW)).toMatchObject({
      ready: 0,
      desired: 0,
      summary: '0/0',
    });
  });

  it('caps ready at desired while a node that left still has a pod', () => {
    const s = prepullStatus(template, ds(1), [pulled('n1', image), pulled('gone', image)], NOW);
    expect(s).toMatchObject({ ready: 1, desired: 1, summary: '1/1' });
  });

  it(`lists at most ${PREPULL_NODES_MAX} nodes, counting all`, () => {
    const pods = Array.from({ length: 70 }, (_, i) => pulled(`n${String(i).padStart(3, '0')}`, image));
    const s = prepullStatus(template, ds(70), pods, NOW);
    expect(s.ready).toBe(70);
    expect(s.nodes).toHaveLength(PREPULL_NODES_MAX);
    expect(s.nodes[0]).toBe('n000');
  });

  it('keeps observedTime while nothing changed, and moves it when something did', () => {
    const first = prepullStatus(template, ds(2), [pulled('n1', image)], NOW);
    const later = new Date('2026-12-05T11:00:00.000Z');
    const seen = { ...template, status: { prepull: first } };
    expect(prepullStatus(seen, ds(2), [pulled('n1', image)], later)).toEqual(first);
    expect(prepullStatus(seen, ds(2), [pulled('n1', image), pulled('n2', image)], later).observedTime).toBe(
      '2026-12-05T11:00:00Z',
    );
  });
});
