import type { V1DaemonSet, V1Pod } from '@kubernetes/client-node';
import type { PrepullStatus, VDITemplate } from '@vdi/crd-types';
import type { KubeJsonClient, KubeObject } from '@vdi/kube-client';
import { pullerDaemonSet, pullerHasImage } from '@vdi/session-spec';
import { sampleTemplate } from '@vdi/session-spec/testing';
import { pino } from 'pino';
import type { Caches } from './caches.js';
import { ANNOTATION_APPLIED } from './children.js';
import {
  PrepullController,
  appliedHash,
  slimPullerPod,
  templateSelected,
  type Lookup,
  type PrepullDeps,
} from './prepull.js';
import { loadOperatorConfig } from '../config.js';
import { TemplateStatusWriter } from './templates.js';

const NS = 'vdi-system';
const PAUSE = 'registry.k8s.io/pause:3.10';

class MapLookup<T extends { metadata?: { name?: string } }> implements Lookup<T> {
  readonly items = new Map<string, T>();
  get(name: string): T | undefined {
    return this.items.get(name);
  }
  list(): T[] {
    return [...this.items.values()];
  }
  put(o: T): void {
    this.items.set(o.metadata!.name!, o);
  }
}

/** A recording client: applies land in the DaemonSet lookup, as the watch would deliver them. */
function setup(over: Partial<PrepullDeps> = {}) {
  const templates = new MapLookup<VDITemplate>();
  const daemonSets = new MapLookup<V1DaemonSet>();
  const pods = new MapLookup<V1Pod>();
  const calls: { verb: string; name: string; uid?: string }[] = [];
  const changed: string[] = [];
  const client = {
    async apply<T extends KubeObject>(obj: T) {
      calls.push({ verb: 'apply', name: obj.metadata!.name! });
      daemonSets.put({
        ...(obj as unknown as V1DaemonSet),
        metadata: { ...obj.metadata, uid: `uid-${obj.metadata!.name}` },
      });
      return obj as never;
    },
    async delete(obj: KubeObject, opts: { uid?: string } = {}) {
      calls.push({ verb: 'delete', name: obj.metadata!.name!, ...(opts.uid ? { uid: opts.uid } : {}) });
      return daemonSets.items.delete(obj.metadata!.name!);
    },
  };
  const controller = new PrepullController({
    client,
    templates,
    daemonSets,
    pods,
    namespace: NS,
    enabled: true,
    pauseImage: PAUSE,
    selected: () => true,
    statusChanged: (t) => changed.push(t),
    log: pino({ level: 'silent' }),
    now: () => new Date('2026-12-05T10:00:00Z'),
    ...over,
  });
  return { controller, templates, daemonSets, pods, calls, changed };
}

/** A puller as an older operator (or an earlier spec) left it. */
function existing(template: VDITemplate, spec: Partial<VDITemplate['spec']> = {}): V1DaemonSet {
  const ds = pullerDaemonSet(
    { ...template, spec: { ...template.spec, ...spec } },
    { namespace: NS, pauseImage: PAUSE },
  );
  ds.metadata!.uid = `uid-${ds.metadata!.name}`;
  return ds;
}

describe('PrepullController.sync', () => {
  it('creates the puller of a template, once: an unchanged template sends nothing', async () => {
    const s = setup();
    s.templates.put(sampleTemplate('ubuntu-desktop'));
    await s.controller.sync('ubuntu-desktop');
    expect(s.calls).toEqual([{ verb: 'apply', name: 'prepull-ubuntu-desktop' }]);
    const ds = s.daemonSets.get('prepull-ubuntu-desktop')!;
    expect(ds.metadata!.namespace).toBe(NS);
    expect(ds.metadata!.annotations![ANNOTATION_APPLIED]).toMatch(/^[0-9a-f]{16}$/);
    expect(s.changed).toEqual(['ubuntu-desktop']);

    await s.controller.sync('ubuntu-desktop');
    expect(s.calls).toHaveLength(1);
  });

  it('updates the puller when the image or the placement changes', async () => {
    const s = setup();
    s.templates.put(sampleTemplate('t'));
    await s.controller.sync('t');
    s.templates.put(sampleTemplate('t', { image: 'desktop:2' }));
    await s.controller.sync('t');
    s.templates.put(sampleTemplate('t', { image: 'desktop:2', nodeSelector: { pool: 'b' } }));
    await s.controller.sync('t');
    expect(s.calls.map((c) => c.verb)).toEqual(['apply', 'apply', 'apply']);
    const pod = s.daemonSets.get('prepull-t')!.spec!.template.spec!;
    expect(pod.initContainers![0]!.image).toBe('desktop:2');
    expect(pod.nodeSelector).toEqual({ pool: 'b' });
  });

  type Case = [string, (s: ReturnType<typeof setup>) => void, Partial<PrepullDeps>?];
  it.each<Case>([
    ['retired', (s) => s.templates.put(sampleTemplate('t', { retired: true }))],
    ['deleted', () => undefined],
    [
      'one another installation answers for',
      (s: ReturnType<typeof setup>) => s.templates.put(sampleTemplate('t', {})),
      { selected: () => false },
    ],
    [
      'pre-pull is off',
      (s: ReturnType<typeof setup>) => s.templates.put(sampleTemplate('t')),
      { enabled: false },
    ],
  ])(
    'removes the puller of a template that is %s (by its uid), and makes none',
    async (_what, arrange, over = {}) => {
      const s = setup(over);
      s.daemonSets.put(existing(sampleTemplate('t')));
      arrange(s);
      await s.controller.sync('t');
      expect(s.calls).toEqual([{ verb: 'delete', name: 'prepull-t', uid: 'uid-prepull-t' }]);
      await s.controller.sync('t');
      expect(s.calls).toHaveLength(1);
    },
  );

  it('brings the puller back when a retired template is restored', async () => {
    const s = setup();
    s.templates.put(sampleTemplate('t', { retired: true }));
    await s.controller.sync('t');
    expect(s.calls).toEqual([]);
    s.templates.put(sampleTemplate('t', { retired: false }));
    await s.controller.sync('t');
    expect(s.calls).toEqual([{ verb: 'apply', name: 'prepull-t' }]);
  });

  it('leaves pullers of other templates alone', async () => {
    const s = setup();
    s.daemonSets.put(existing(sampleTemplate('other')));
    s.templates.put(sampleTemplate('t', { retired: true }));
    await s.controller.sync('t');
    expect(s.calls).toEqual([]);
  });

  it('re-applies a puller someone edited (its recorded hash no longer matches)', async () => {
    const s = setup();
    const t = sampleTemplate('t');
    s.templates.put(t);
    const ds = existing(t);
    ds.metadata!.annotations![ANNOTATION_APPLIED] = 'edited-by-hand';
    s.daemonSets.put(ds);
    await s.controller.sync('t');
    expect(s.calls).toEqual([{ verb: 'apply', name: 'prepull-t' }]);
  });
});

describe('PrepullController.lead and events', () => {
  const flush = () => new Promise((r) => setTimeout(r, 50));

  it('at start queues every template and every puller, removing one whose template is gone', async () => {
    const s = setup();
    s.templates.put(sampleTemplate('kept'));
    s.daemonSets.put(existing(sampleTemplate('gone')));
    s.controller.lead();
    await flush();
    await s.controller.shutdown();
    expect(s.calls.sort((a, b) => a.name.localeCompare(b.name))).toEqual([
      { verb: 'delete', name: 'prepull-gone', uid: 'uid-prepull-gone' },
      { verb: 'apply', name: 'prepull-kept' },
    ]);
  });

  it('does nothing before it leads, and maps puller and pod events to their template', async () => {
    const s = setup();
    const ds = existing(sampleTemplate('t'));
    const pod = { metadata: { name: 'p', annotations: { 'vdi.kasm.io/template': 't' } } } as V1Pod;
    s.controller.daemonSet(ds);
    s.controller.pod(pod);
    expect(s.changed).toEqual([]);
    s.controller.lead();
    s.controller.pod(pod);
    s.controller.daemonSet(ds);
    expect(s.changed).toEqual(['t', 't']);
    await s.controller.shutdown();
  });
});

describe('PrepullController.status', () => {
  const t = sampleTemplate('t');
  const running = (node: string, image = t.spec.image): V1Pod => ({
    metadata: { name: `prepull-t-${node}`, labels: { 'vdi.kasm.io/prepull': 'prepull-t' } },
    spec: { nodeName: node, containers: [], initContainers: [{ name: 'image', image }] },
    status: { phase: 'Running' },
  });

  it("counts this puller's pods on nodes against its desired number", () => {
    const s = setup();
    const ds = existing(t);
    ds.status = {
      desiredNumberScheduled: 3,
      currentNumberScheduled: 3,
      numberMisscheduled: 0,
      numberReady: 2,
    };
    s.daemonSets.put(ds);
    s.pods.put(running('n1'));
    s.pods.put(running('n2'));
    s.pods.put(running('n3', 'old:1'));
    s.pods.put({
      ...running('n4'),
      metadata: { name: 'x', labels: { 'vdi.kasm.io/prepull': 'prepull-other' } },
    });
    expect(s.controller.status(t)).toEqual({
      image: t.spec.image,
      ready: 2,
      desired: 3,
      summary: '2/3',
      nodes: ['n1', 'n2'],
      observedTime: '2026-12-05T10:00:00Z',
    });
  });

  it('is undefined for a template without a puller (retired, not selected, pre-pull off)', () => {
    expect(setup().controller.status(sampleTemplate('t', { retired: true }))).toBeUndefined();
    expect(setup({ selected: () => false }).controller.status(t)).toBeUndefined();
    expect(setup({ enabled: false }).controller.status(t)).toBeUndefined();
  });
});

describe('helpers', () => {
  it('templateSelected follows VDI_TEMPLATE_STATUS', () => {
    const labelled = sampleTemplate('t');
    labelled.metadata.labels = { site: 'a' };
    expect(templateSelected('all', labelled)).toBe(true);
    expect(templateSelected('off', labelled)).toBe(false);
    expect(templateSelected({ site: 'a' }, labelled)).toBe(true);
    expect(templateSelected({ site: 'b' }, labelled)).toBe(false);
  });

  it('slimPullerPod keeps what the status reads', () => {
    const full: V1Pod = {
      metadata: {
        name: 'p',
        namespace: NS,
        labels: { 'vdi.kasm.io/prepull': 'prepull-t' },
        annotations: { 'vdi.kasm.io/template': 't', other: 'x' },
        managedFields: [{ manager: 'kubelet' }],
      },
      spec: {
        nodeName: 'n1',
        initContainers: [{ name: 'image', image: 'desktop:1', command: ['/bin/true'] }],
        containers: [{ name: 'pause', image: PAUSE }],
      },
      status: {
        phase: 'Pending',
        initContainerStatuses: [
          {
            name: 'image',
            image: 'desktop:1',
            imageID: 'sha256:abc',
            ready: true,
            restartCount: 0,
            state: { terminated: { exitCode: 0, reason: 'Completed' } },
          },
        ],
      },
    };
    const slim = slimPullerPod(full);
    expect(pullerHasImage(slim, 'desktop:1')).toBe(true);
    expect(slim.metadata!.annotations).toEqual({ 'vdi.kasm.io/template': 't' });
    expect(slim.metadata!.managedFields).toBeUndefined();
    expect(slim.spec!.containers).toEqual([]);
  });

  it('appliedHash changes with the desired puller', () => {
    const a = pullerDaemonSet(sampleTemplate('t'), { namespace: NS, pauseImage: PAUSE });
    const b = pullerDaemonSet(sampleTemplate('t', { image: 'other:1' }), {
      namespace: NS,
      pauseImage: PAUSE,
    });
    expect(appliedHash(a)).toBe(
      appliedHash(pullerDaemonSet(sampleTemplate('t'), { namespace: NS, pauseImage: PAUSE })),
    );
    expect(appliedHash(a)).not.toBe(appliedHash(b));
  });
});

describe('TemplateStatusWriter with pre-pull counts', () => {
  const counts = {
    image: 'desktop:1',
    ready: 1,
    desired: 2,
    summary: '1/2',
    nodes: ['n1'],
    observedTime: '2026-12-05T10:00:00Z',
  };
  function writer(template: VDITemplate, prepull: PrepullStatus | undefined) {
    const bodies: { status: Record<string, unknown> }[] = [];
    const w = new TemplateStatusWriter({
      selector: 'all',
      caches: {
        templates: { get: () => template },
        sessions: { list: () => [] },
      } as unknown as Caches,
      client: {
        call: async (_m: string, _p: string, body: { status: Record<string, unknown> }) => {
          bodies.push(body);
          return {};
        },
      } as unknown as KubeJsonClient,
      namespace: 'vdi-sessions',
      log: pino({ level: 'silent' }),
      now: () => new Date('2026-12-05T10:00:00Z'),
      prepull: () => prepull,
    });
    return { w, bodies, write: () => (w as unknown as { write(n: string): Promise<void> }).write('t') };
  }

  it('writes status.prepull in the one status write, and nothing when nothing changed', async () => {
    const t = sampleTemplate('t');
    const a = writer(t, counts);
    await a.write();
    expect(a.bodies).toHaveLength(1);
    expect(a.bodies[0]!.status).toMatchObject({ ready: true, sessions: 0, prepull: counts });

    const written = { ...t, status: a.bodies[0]!.status as VDITemplate['status'] };
    const b = writer(written, counts);
    await b.write();
    expect(b.bodies).toEqual([]);
  });

  it('removes status.prepull (null in the merge patch) when the template has no puller any more', async () => {
    const t = sampleTemplate('t');
    const first = writer(t, counts);
    await first.write();
    const written = { ...t, status: first.bodies[0]!.status as VDITemplate['status'] };
    const gone = writer(written, undefined);
    await gone.write();
    expect(gone.bodies).toHaveLength(1);
    expect(gone.bodies[0]!.status.prepull).toBeNull();
  });
});

describe('configuration (VDI_PREPULL, VDI_PREPULL_PAUSE_IMAGE)', () => {
  const base = {
    VDI_TURN_HOST: 'turn.example.com',
    VDI_TURN_RELAY_CIDRS: '10.0.0.0/24',
    VDI_SESSION_KEY: '9c2e7a4f1b8d3e6a0c5f2b9e7d4a1c8f',
  };

  it("is on by default, with the local node's pause image", () => {
    expect(loadOperatorConfig(base).prepull).toEqual({ enabled: true, pauseImage: 'localhost/vdi/pause:1' });
  });

  it('can be turned off and given another pause image', () => {
    expect(
      loadOperatorConfig({
        ...base,
        VDI_PREPULL: 'false',
        VDI_PREPULL_PAUSE_IMAGE: 'rancher/mirrored-pause:3.6',
      }).prepull,
    ).toEqual({ enabled: false, pauseImage: 'rancher/mirrored-pause:3.6' });
  });

  it('refuses anything but true or false, naming the variable', () => {
    expect(() => loadOperatorConfig({ ...base, VDI_PREPULL: 'yes' })).toThrow(/VDI_PREPULL=yes/);
  });
});
