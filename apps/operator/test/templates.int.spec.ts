/**
 * Template status, with the operator as its own process against the real control plane: the
 * operator says whether a template is usable and how many sessions use it (what `kubectl get
 * vditemplates` and the API read), for the templates its VDI_TEMPLATE_STATUS selector names only.
 */
import { API_VERSION, type VDITemplate } from '@vdi/crd-types';
import { createTestNamespace, installCrds, testKubeConfig, waitFor, type TestNamespace } from '@vdi/testing';
import { Fixture, startOperator, type OperatorProcess } from './harness.js';

describe('template status', () => {
  let ns: TestNamespace;
  let f: Fixture;
  let op: OperatorProcess | undefined;
  const names: string[] = [];

  const template = async (short: string, labels: Record<string, string>, defaultMemory = '4Gi') => {
    const name = f.templateName(short);
    names.push(name);
    await f.client.apply(
      {
        apiVersion: API_VERSION,
        kind: 'VDITemplate',
        metadata: { name, labels },
        spec: {
          image: 'ghcr.io/example/desktop:1',
          displayName: `Test ${short}`,
          persistence: 'none',
          resources: { defaultGPU: 0, maxGPU: 0, defaultMemory },
        },
      },
      'vdi-tests',
    );
    return name;
  };
  const read = (name: string) =>
    f.client.get<VDITemplate>({ apiVersion: API_VERSION, kind: 'VDITemplate', metadata: { name } });

  beforeAll(async () => {
    const kc = testKubeConfig();
    await installCrds(kc);
    ns = await createTestNamespace('tpl');
    f = new Fixture(kc, ns.name);
    await f.turnSecret();
  });

  afterAll(async () => {
    if (process.env.VDI_DEBUG_OPERATOR && op) process.stderr.write(`${op.logs.join('\n')}\n`);
    await f?.releaseSessions();
    await op?.stop('SIGKILL');
    for (const n of names) await f?.deleteTemplate(n).catch(() => undefined);
    await ns?.cleanup();
  });

  it('reports Ready and the number of sessions of the templates it is told to, and leaves others alone', async () => {
    const selected = { 'vdi.kasm.io/test-run': ns.name };
    const mine = await template('tpl-mine', selected);
    // Admitted by the schema, but no desktop fits: /dev/shm (1Gi) takes the whole memory limit.
    const broken = await template('tpl-broken', selected, '1Gi');
    const other = await template('tpl-other', {});
    op = await startOperator(ns.name, {
      VDI_LEADER_ELECTION: 'false',
      VDI_TEMPLATE_STATUS: `vdi.kasm.io/test-run=${ns.name}`,
    });

    const ready = await waitFor('the status of the selected template', async () => {
      const t = await read(mine);
      return t?.status?.ready === true && t;
    });
    expect(ready.status).toMatchObject({
      ready: true,
      sessions: 0,
      observedGeneration: ready.metadata.generation,
      conditions: [{ type: 'Ready', status: 'True', reason: 'Valid' }],
    });

    const invalid = await waitFor('the broken template found invalid', async () => {
      const t = await read(broken);
      return t?.status?.ready === false && t;
    });
    expect(invalid.status?.message).toMatch(
      /^the template cannot become a desktop: .*\/dev\/shm.*; fix its spec \(kubectl edit vditemplate tpl-broken-/,
    );
    expect(invalid.status?.conditions?.[0]).toMatchObject({ status: 'False', reason: 'Invalid' });
    // Written under the operator's own field manager.
    expect(
      invalid.metadata.managedFields?.filter((m) => m.subresource === 'status').map((m) => m.manager),
    ).toEqual(['vdi-operator']);

    await f.session('tpl-a', mine);
    await f.session('tpl-b', mine);
    await waitFor('sessions: 2', async () => (await read(mine))?.status?.sessions === 2);
    await f.delete('tpl-a');
    await f.waitGone('tpl-a');
    await waitFor('sessions: 1', async () => (await read(mine))?.status?.sessions === 1);

    // A template outside the selector (another installation's) is never written.
    expect((await read(other))?.status).toBeUndefined();
    await f.deleteAllSessions();
  }, 90_000);
});
