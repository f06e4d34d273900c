/**
 * Image pre-pull, with the operator as its own process against the real control plane: a
 * template gets a puller DaemonSet in the operator's namespace whose pods land where its desktops
 * can; the DaemonSet controller runs them on simulated (kwok) GPU nodes, which kwok reports
 * Running with the pull container completed, and the template's `status.prepull` counts them. The
 * test's nodes are its own (a label and taint no other test uses), so the counts are exact.
 */
import type { V1DaemonSet } from '@kubernetes/client-node';
import { API_VERSION, type VDITemplate } from '@vdi/crd-types';
import { templatePlacement } from '@vdi/session-spec';
import {
  createIsolatedGpuNode,
  createTestNamespace,
  installCrds,
  testKubeConfig,
  waitFor,
  type IsolatedNode,
  type TestNamespace,
} from '@vdi/testing';
import { Fixture, startOperator, type OperatorProcess } from './harness.js';

const IMAGE = 'vdi.local/prepull-test:1';

describe('image pre-pull', () => {
  let ns: TestNamespace;
  let f: Fixture;
  let op: OperatorProcess | undefined;
  const nodes: IsolatedNode[] = [];
  let name = '';
  let eligibleLabel: Record<string, string>;

  const read = (n = name) =>
    f.client.get<VDITemplate>({ apiVersion: API_VERSION, kind: 'VDITemplate', metadata: { name: n } });
  const puller = (n = `prepull-${name}`) =>
    f.client.get<V1DaemonSet>({
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: n, namespace: ns.name },
    });
  const operator = (env: Record<string, string> = {}) =>
    startOperator(ns.name, {
      VDI_LEADER_ELECTION: 'false',
      // This test's templates only: other tests' operators leave them alone, and this one theirs.
      VDI_TEMPLATE_STATUS: `vdi.kasm.io/test-run=${ns.name}`,
      ...env,
    });
  /** A simulated GPU node of this test, labelled as one the template's desktops may use. */
  const eligibleNode = async () => {
    const node = await createIsolatedGpuNode();
    nodes.push(node);
    await f.client.mergePatch(
      { apiVersion: 'v1', kind: 'Node', metadata: { name: node.name } },
      { metadata: { labels: eligibleLabel } },
    );
    return node.name;
  };
  /** Waits until status.prepull says `ready`/`desired` on exactly `onNodes`. */
  const waitCounts = async (desired: number, onNodes: string[], timeoutMs = 60_000) => {
    let last: unknown;
    try {
      return await waitFor(
        `status.prepull ${onNodes.length}/${desired}`,
        async () => {
          const t = await read();
          last = t?.status?.prepull;
          const p = t?.status?.prepull;
          return (
            p?.desired === desired &&
            p.ready === onNodes.length &&
            JSON.stringify(p.nodes) === JSON.stringify([...onNodes].sort()) &&
            t
          );
        },
        timeoutMs,
      );
    } catch (err) {
      throw new Error(`${(err as Error).message}; last: ${JSON.stringify(last)}; ${logTail()}`);
    }
  };
  const waitPullerGone = (timeoutMs = 30_000) =>
    waitFor('the puller removed', async () => (await puller()) === undefined, timeoutMs);
  const setRetired = (retired: boolean) =>
    f.client.mergePatch(
      { apiVersion: API_VERSION, kind: 'VDITemplate', metadata: { name } },
      { spec: { retired } },
    );
  const logTail = () => (op ? `operator log: ${op.logs.slice(-5).join('\n')}` : '');

  beforeAll(async () => {
    const kc = testKubeConfig();
    await installCrds(kc);
    ns = await createTestNamespace('prepull');
    f = new Fixture(kc, ns.name);
    await f.turnSecret();
    eligibleLabel = { 'vdi.kasm.io/prepull-test': ns.name };
  });

  afterAll(async () => {
    if (process.env.VDI_DEBUG_OPERATOR && op) process.stderr.write(`${op.logs.join('\n')}\n`);
    await op?.stop('SIGKILL');
    if (name) await f?.deleteTemplate(name).catch(() => undefined);
    for (const n of nodes) await n.remove().catch(() => undefined);
    await ns?.cleanup();
  });

  it('keeps a puller per template where its desktops land, counts the nodes that have the image, and follows retire, restore, image, new nodes, VDI_PREPULL and deletion', async () => {
    const first = await eligibleNode();
    const second = await eligibleNode();
    name = f.templateName('prepull');
    await f.client.apply(
      {
        apiVersion: API_VERSION,
        kind: 'VDITemplate',
        metadata: { name, labels: { 'vdi.kasm.io/test-run': ns.name } },
        spec: {
          image: IMAGE,
          displayName: 'Pre-pull test',
          persistence: 'none',
          resources: { defaultGPU: 1, defaultMemory: '4Gi' },
          nodeSelector: eligibleLabel,
          // Every test node's own taint: the selector above picks this test's nodes among them.
          tolerations: [{ key: 'vdi.kasm.io/test-node', operator: 'Exists', effect: 'NoSchedule' }],
        },
      },
      'vdi-tests',
    );
    op = await operator();

    // The DaemonSet: in the operator's namespace, the template's image pulled by /bin/true, the
    // desktop pod's placement, restricted.
    const ds = await waitFor('the puller DaemonSet', () => puller());
    const template = (await read())!;
    const pod = ds.spec!.template.spec!;
    expect(ds.metadata!.ownerReferences).toEqual([
      expect.objectContaining({ kind: 'VDITemplate', name, uid: template.metadata.uid, controller: true }),
    ]);
    expect(pod.initContainers).toEqual([
      expect.objectContaining({ name: 'image', image: IMAGE, command: ['/bin/true'] }),
    ]);
    expect(pod.containers.map((c) => [c.name, c.image])).toEqual([['pause', 'localhost/vdi/pause:1']]);
    const placement = templatePlacement(template)!;
    expect({ nodeSelector: pod.nodeSelector, affinity: pod.affinity }).toEqual({
      nodeSelector: placement.nodeSelector,
      affinity: placement.affinity,
    });
    // The DaemonSet controller adds its own tolerations (not-ready, unreachable…) to the pods, not here.
    expect(pod.tolerations).toEqual(placement.tolerations);
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 1000,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    for (const c of [...pod.initContainers!, ...pod.containers]) {
      expect(c.securityContext).toMatchObject({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'] },
      });
      expect(Object.keys(c.resources?.limits ?? {})).not.toContain('nvidia.com/gpu');
    }

    // Both eligible nodes have the image; the printer column's summary says so.
    const counted = await waitCounts(2, [first, second]);
    expect(counted.status?.prepull).toMatchObject({ image: IMAGE, summary: '2/2' });
    expect(counted.status?.ready).toBe(true);

    // A node that joins gets a puller pod from the DaemonSet controller, and is counted.
    const third = await eligibleNode();
    await waitCounts(3, [first, second, third]);

    // Retired: no puller, no counts. Restored: both back.
    await setRetired(true);
    await waitPullerGone();
    await waitFor('status.prepull removed', async () => (await read())?.status?.prepull === undefined);
    await setRetired(false);
    await waitFor('the puller back', () => puller());
    await waitCounts(3, [first, second, third]);

    // A new image: the puller follows, and the counts are of the new image.
    await f.client.mergePatch(
      { apiVersion: API_VERSION, kind: 'VDITemplate', metadata: { name } },
      { spec: { image: `${IMAGE}-2` } },
    );
    await waitFor(
      'the puller on the new image',
      async () => (await puller())?.spec?.template.spec?.initContainers?.[0]?.image === `${IMAGE}-2`,
    );
    const moved = await waitFor(
      'counts of the new image',
      async () => {
        const t = await read();
        return t?.status?.prepull?.image === `${IMAGE}-2` && t.status.prepull.ready === 3 && t;
      },
      60_000,
    );
    expect(moved.status?.prepull?.desired).toBe(3);

    // VDI_PREPULL=false: the pullers go, and so do the counts.
    await op.stop();
    op = await operator({ VDI_PREPULL: 'false' });
    await waitPullerGone();
    await waitFor('status.prepull removed', async () => (await read())?.status?.prepull === undefined);
    await op.stop();
    op = await operator();
    await waitFor('the puller back', () => puller());
    await waitCounts(3, [first, second, third]);

    // Deleting the template removes its puller.
    await f.deleteTemplate(name);
    await waitPullerGone();
  }, 240_000);
});
