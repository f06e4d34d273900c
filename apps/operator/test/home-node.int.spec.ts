/**
 * Homes and nodes, against the real control plane (scheduler, PV controller, the local-path
 * provisioner): a per-user home on node-local storage pins its owner's desktops to one node, and
 * a desktop waiting for that node says so (WaitingForHomeNode, naming the node) instead of
 * waiting for "a GPU" while another node has a free slice; it starts there by itself when the
 * node has room. Also the phase timings of a queued start.
 */
import * as k8s from '@kubernetes/client-node';
import {
  createIsolatedGpuNode,
  createTestNamespace,
  installCrds,
  testKubeConfig,
  waitFor,
  type IsolatedNode,
  type TestNamespace,
} from '@vdi/testing';
import { randomBytes } from 'node:crypto';
import { Fixture, startOperator, type OperatorProcess } from './harness.js';

describe('a home on node-local storage', () => {
  let ns: TestNamespace;
  let f: Fixture;
  let op: OperatorProcess;
  const nodes: IsolatedNode[] = [];
  let template: string;
  const group = randomBytes(3).toString('hex');

  beforeAll(async () => {
    const kc = testKubeConfig();
    await installCrds(kc);
    ns = await createTestNamespace('homenode');
    f = new Fixture(kc, ns.name);
    await f.turnSecret();
    // Two GPU nodes of one time-slice each, both (and only they) open to this test's template.
    for (let i = 0; i < 2; i++) nodes.push(await createIsolatedGpuNode({ gpus: 1, replicas: 1 }));
    for (const n of nodes)
      await f.core.patchNode(
        { name: n.name, body: { metadata: { labels: { 'vdi.kasm.io/home-test': group } } } },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
      );
    template = await f.template('homes', {
      nodeSelector: { 'vdi.kasm.io/home-test': group },
      tolerations: nodes.flatMap((n) => n.tolerations) as never,
      resources: { defaultGPU: 1, defaultMemory: '4Gi', maxMemory: '16Gi' } as never,
      persistence: 'user',
    });
    op = await startOperator(ns.name, { VDI_START_DEADLINE_SECONDS: '120', VDI_STORAGE_CLASS: 'local-path' });
  });

  afterAll(async () => {
    if (process.env.VDI_DEBUG_OPERATOR) process.stderr.write(op.logs.join('\n') + '\n');
    await f?.deleteAllSessions();
    await op?.stop();
    await f?.deleteTemplate(template);
    await ns?.cleanup();
    for (const n of nodes) await n.remove();
  });

  /**
   * A pod holding the one time-slice of `node` (placed there directly, as any other tenant's),
   * once it runs there.
   */
  const holdSlice = async (node: IsolatedNode) => {
    const name = `slice-holder-${node.name}`;
    await f.core.createNamespacedPod({
      namespace: ns.name,
      body: {
        metadata: { name },
        spec: {
          nodeName: node.name,
          tolerations: node.tolerations as k8s.V1Toleration[],
          containers: [{ name: 'hold', image: 'busybox', resources: { limits: { 'nvidia.com/gpu': '1' } } }],
        },
      },
    });
    await waitFor(`${name} running`, async () => {
      const p = await f.core.readNamespacedPod({ name, namespace: ns.name });
      return p.status?.phase === 'Running';
    });
  };

  it('waits for its home node with its own reason while another node has a free slice, then starts there by itself', async () => {
    await f.session('dave-1', template);
    const first = await f.waitPhase('dave-1', 'Running');
    const homeNode = first.status!.nodeName!;
    // The home was made on that node: its volume carries the node's affinity.
    const claim = await f.core.readNamespacedPersistentVolumeClaim({
      name: first.status!.homeClaim!,
      namespace: ns.name,
    });
    const pv = await f.core.readPersistentVolume({ name: claim.spec!.volumeName! });
    expect(JSON.stringify(pv.spec?.nodeAffinity)).toContain(homeNode);

    // Stop it; another tenant takes the home node's only slice; the other node stays free.
    await f.client.mergePatch(f.sessionRef('dave-1'), { spec: { state: 'Stopped' } });
    await f.waitPhase('dave-1', 'Stopped');
    await waitFor('the desktop pod gone', async () => {
      const pods = await f.core.listNamespacedPod({
        namespace: ns.name,
        labelSelector: 'vdi.kasm.io/session=dave-1',
      });
      return pods.items.length === 0;
    });
    await holdSlice(nodes.find((n) => n.name === homeNode)!);

    await f.client.mergePatch(f.sessionRef('dave-1'), { spec: { state: 'Running' } });
    let last: unknown;
    const waiting = await waitFor(
      'WaitingForHomeNode',
      async () => {
        const s = await f.get('dave-1');
        last = s?.status;
        return s?.status?.reason === 'WaitingForHomeNode' ? s : undefined;
      },
      30_000,
    ).catch(async (err: Error) => {
      const pod = await f.core.readNamespacedPod({ name: 'dave-1', namespace: ns.name });
      throw new Error(
        `${err.message}; last status: ${JSON.stringify(last)}; pod conditions: ${JSON.stringify(pod.status?.conditions)}`,
      );
    });
    expect(waiting.status!.phase).toBe('Scheduling');
    expect(waiting.status!.message).toContain(`waiting for node ${homeNode}`);
    expect(waiting.status!.message).toMatch(/shared storage/);
    expect(waiting.status!.queuedAt).toBeDefined();
    expect(waiting.status!.scheduledAt).toBeUndefined();
    // Not placed on the free node: the home cannot go there.
    const pending = await f.core.readNamespacedPod({ name: 'dave-1', namespace: ns.name });
    expect(pending.spec?.nodeName).toBeUndefined();

    // The tenant leaves: the desktop starts on its home node by itself.
    await f.core.deleteNamespacedPod({
      name: `slice-holder-${homeNode}`,
      namespace: ns.name,
      gracePeriodSeconds: 0,
    });
    const running = await f.waitPhase('dave-1', 'Running', 60_000);
    expect(running.status!.nodeName).toBe(homeNode);
    const st = running.status!;
    // The phase timings of the queued start: in order, kept from the wait.
    expect(st.queuedAt).toBe(waiting.status!.queuedAt);
    const t = (x: string | undefined) => new Date(x!).getTime();
    expect(t(st.resumedAt)).toBeLessThanOrEqual(t(st.queuedAt));
    expect(t(st.queuedAt)).toBeLessThanOrEqual(t(st.scheduledAt));
    expect(t(st.scheduledAt)).toBeLessThanOrEqual(t(st.startedAt));
    expect(t(st.startedAt)).toBeLessThanOrEqual(t(st.readyAt));
    expect(st.imageReadyAt).toBeDefined();
  }, 180_000);
});
