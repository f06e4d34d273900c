/**
 * Runs the operator as its own process against the test cluster, the way it runs in a cluster
 * (the bundle its image runs, tools/bundle), with a namespace of its own for sessions and its
 * Lease, and helpers to watch sessions.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import * as k8s from '@kubernetes/client-node';
import { bundleNodeService, operatorBundleOptions } from '@vdi/bundle';
import { API_VERSION, type VDISession, type VDITemplateSpec } from '@vdi/crd-types';
import { KubeJsonClient } from '@vdi/kube-client';
import { localOperatorEnv } from '@vdi/session-spec/testing';
import { ensureCluster, freePort, SESSION_CHILD_KINDS, TEST_SESSION_KEY, waitFor } from '@vdi/testing';

export { freePort };

const repoRoot = path.resolve(import.meta.dirname, '../../..');

let bundled: Promise<string> | undefined;
/**
 * The operator's bundle, as its image runs it, built from the sources once per test file (a few
 * seconds): the tests exercise what ships, and each operator starts without a TypeScript loader.
 */
export const operatorBundle = (): Promise<string> =>
  (bundled ??= bundleNodeService(
    operatorBundleOptions(
      repoRoot,
      path.join(repoRoot, 'node_modules/.cache/vdi-operator-test', `operator-${process.pid}.mjs`),
    ),
  ).then((r) => r.outfile));

export interface OperatorProcess {
  proc: ChildProcess;
  port: number;
  identity: string;
  /** Its TURN REST endpoint (what WebRTC desktops fetch TURN credentials from). */
  turnRestUrl: string;
  logs: string[];
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  metrics(): Promise<string>;
  /** The `vdi_operator_leader` gauge: 1 while this replica holds the Lease, 0 as a standby. */
  leader(): Promise<number>;
}

export async function startOperator(
  namespace: string,
  env: Record<string, string> = {},
  identity = `op-${Math.random().toString(16).slice(2, 8)}`,
): Promise<OperatorProcess> {
  const port = await freePort();
  const turnRestPort = await freePort();
  const bundle = await operatorBundle();
  const proc = spawn(process.execPath, [bundle], {
    cwd: repoRoot,
    env: {
      ...process.env,
      KUBECONFIG: ensureCluster(),
      // The local cluster's platform settings, as the benchmark and the other test helpers use them.
      ...localOperatorEnv(namespace, TEST_SESSION_KEY),
      VDI_METRICS_PORT: String(port),
      VDI_METRICS_HOST: '127.0.0.1',
      // Several operators run at once here: each its own TURN REST port, on loopback.
      VDI_TURN_REST_PORT: String(turnRestPort),
      VDI_TURN_REST_HOST: '127.0.0.1',
      VDI_TURN_REST_URL: `http://127.0.0.1:${turnRestPort}`,
      VDI_POD_NAME: identity,
      VDI_RESYNC_SECONDS: '60',
      // Templates are cluster-wide and other tests' operators run beside this one: a test
      // that checks template status names its templates by label.
      VDI_TEMPLATE_STATUS: 'off',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  // Whole lines only: a chunk may end in the middle of a JSON log line.
  for (const stream of [proc.stdout!, proc.stderr!]) {
    readline.createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => {
      if (line) logs.push(line);
    });
  }
  // 'close' comes after the last output line was read, 'exit' may come before it.
  const exited = new Promise<number | null>((resolve) => proc.on('close', (code) => resolve(code)));
  await waitFor(
    `operator ${identity} ready on :${port}`,
    async () => {
      if (proc.exitCode !== null)
        throw new Error(`operator exited (${proc.exitCode}): ${logs.slice(-5).join('\n')}`);
      const r = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined);
      return r?.status === 200;
    },
    60_000,
  );
  const op: OperatorProcess = {
    proc,
    port,
    turnRestUrl: `http://127.0.0.1:${turnRestPort}`,
    identity,
    logs,
    exited,
    async stop(signal = 'SIGTERM') {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited;
    },
    async metrics() {
      return (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    },
    async leader() {
      const m = /^vdi_operator_leader (\d+)$/m.exec(await op.metrics());
      if (!m) throw new Error(`operator ${identity}: no vdi_operator_leader in its metrics`);
      return Number(m[1]);
    },
  };
  return op;
}

/** Waits until `op` holds the Lease (its leader gauge is 1); returns when that was seen. */
export async function waitLeader(op: OperatorProcess, timeoutMs = 30_000): Promise<number> {
  await waitFor(
    `operator ${op.identity} to lead`,
    async () => {
      if (op.proc.exitCode !== null || op.proc.signalCode !== null)
        throw new Error(`operator ${op.identity} exited: ${op.logs.slice(-5).join('\n')}`);
      return (await op.leader()) === 1;
    },
    timeoutMs,
    50,
  );
  return Date.now();
}

/** Runs `fn` over `items` with at most `limit` calls in flight. */
export async function inBatches<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}

/** A Lease as the tests read it. */
export interface LeaseView {
  metadata: { name: string; resourceVersion: string; annotations?: Record<string, string> };
  spec: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

/** An Event as the operator records it on a session. */
export interface SessionEvent {
  reason: string;
  message: string;
  type: string;
  reportingInstance?: string;
  involvedObject: { kind: string; name: string; uid?: string };
}

/** An object with the session label, with what the leak and ownership checks need. */
export interface ChildObject {
  kind: string;
  name: string;
  session: string;
  uid: string;
  deletionTimestamp?: string;
  finalizers: string[];
  ownerReferences: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }[];
  managedFields: { manager: string; operation: string; subresource?: string }[];
}

/** Sessions and templates of one test: cluster-scoped templates get names unique to the test. */
export class Fixture {
  readonly client: KubeJsonClient;
  readonly core: k8s.CoreV1Api;

  constructor(
    readonly kc: k8s.KubeConfig,
    readonly namespace: string,
  ) {
    this.client = new KubeJsonClient(kc);
    this.core = kc.makeApiClient(k8s.CoreV1Api);
  }

  templateName(short: string): string {
    return `${short}-${this.namespace}`.slice(0, 63);
  }

  async turnSecret(): Promise<void> {
    await this.client.apply(
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'vdi-turn', namespace: this.namespace },
        stringData: { 'static-auth-secret': 'integration-turn-secret-7c1e4a9b2d5f8e3a6c0b9d1e' },
      },
      'vdi-tests',
    );
  }

  async template(
    short: string,
    spec: Partial<VDITemplateSpec> & Record<string, unknown> = {},
  ): Promise<string> {
    const name = this.templateName(short);
    await this.client.apply(
      {
        apiVersion: API_VERSION,
        kind: 'VDITemplate',
        metadata: { name },
        spec: {
          image: 'ghcr.io/selkies-project/nvidia-egl-desktop:latest',
          displayName: `Test ${short}`,
          resources: { defaultGPU: 1, defaultMemory: '4Gi' },
          ...spec,
        },
      },
      'vdi-tests',
    );
    return name;
  }

  async deleteTemplate(name: string): Promise<void> {
    await this.client.delete({ apiVersion: API_VERSION, kind: 'VDITemplate', metadata: { name } });
  }

  async session(name: string, template: string, spec: Record<string, unknown> = {}): Promise<VDISession> {
    return this.client.call<VDISession>(
      'POST',
      `/apis/${API_VERSION}/namespaces/${this.namespace}/vdisessions`,
      {
        apiVersion: API_VERSION,
        kind: 'VDISession',
        metadata: { name },
        spec: { user: `${name}@example.com`, template, ...spec },
      },
    );
  }

  sessionRef(name: string) {
    return { apiVersion: API_VERSION, kind: 'VDISession', metadata: { name, namespace: this.namespace } };
  }

  async get(name: string): Promise<VDISession | undefined> {
    return this.client.get<VDISession>(this.sessionRef(name));
  }

  async list(): Promise<VDISession[]> {
    return (
      await this.client.call<{ items: VDISession[] }>(
        'GET',
        `/apis/${API_VERSION}/namespaces/${this.namespace}/vdisessions`,
      )
    ).items;
  }

  async delete(name: string): Promise<void> {
    await this.client.delete(this.sessionRef(name));
  }

  async waitPhase(name: string, phase: string, timeoutMs = 30_000): Promise<VDISession> {
    let last: VDISession | undefined;
    try {
      return await waitFor(
        `session ${name} ${phase}`,
        async () => {
          last = await this.get(name);
          return last?.status?.phase === phase ? last : undefined;
        },
        timeoutMs,
      );
    } catch (err) {
      throw new Error(`${(err as Error).message}; last status: ${JSON.stringify(last?.status ?? null)}`);
    }
  }

  /** Deletes every session of the namespace and waits until the operator has let them go. */
  async deleteAllSessions(timeoutMs = 60_000): Promise<void> {
    const sessions = await this.list();
    await Promise.all(sessions.map((s) => this.delete(s.metadata.name!)));
    await waitFor('all sessions deleted', async () => (await this.list()).length === 0, timeoutMs);
  }

  async waitGone(name: string, timeoutMs = 30_000): Promise<void> {
    await waitFor(`session ${name} deleted`, async () => (await this.get(name)) === undefined, timeoutMs);
  }

  /** Kinds the operator creates for a session, as [API base, plural]. */
  static readonly childKinds = SESSION_CHILD_KINDS;
  /** Every object of the namespace with the session label, with owners, finalizers and field managers. */
  async childObjects(): Promise<ChildObject[]> {
    const lists = await Promise.all(
      Fixture.childKinds.map(async ([base, plural]) => {
        const r = await this.client.call<{
          items: {
            metadata: {
              name: string;
              uid: string;
              labels: Record<string, string>;
              deletionTimestamp?: string;
              finalizers?: string[];
              ownerReferences?: ChildObject['ownerReferences'];
              managedFields?: ChildObject['managedFields'];
            };
          }[];
        }>(
          'GET',
          `${base}/namespaces/${this.namespace}/${plural}?labelSelector=${encodeURIComponent('vdi.kasm.io/session')}`,
        );
        return r.items.map(({ metadata: m }): ChildObject => ({
          kind: plural,
          name: m.name,
          session: m.labels['vdi.kasm.io/session']!,
          uid: m.uid,
          ...(m.deletionTimestamp ? { deletionTimestamp: m.deletionTimestamp } : {}),
          finalizers: m.finalizers ?? [],
          ownerReferences: m.ownerReferences ?? [],
          managedFields: (m.managedFields ?? []).map((mf) => ({
            manager: mf.manager,
            operation: mf.operation,
            ...(mf.subresource ? { subresource: mf.subresource } : {}),
          })),
        }));
      }),
    );
    return lists.flat();
  }

  /** All objects of one plural in the namespace (any labels), e.g. 'pods' or 'persistentvolumeclaims'. */
  async listAll<T = { metadata: { name: string; deletionTimestamp?: string; finalizers?: string[] } }>(
    base: string,
    plural: string,
  ): Promise<T[]> {
    return (await this.client.call<{ items: T[] }>('GET', `${base}/namespaces/${this.namespace}/${plural}`))
      .items;
  }

  async lease(name: string): Promise<LeaseView | undefined> {
    return this.client.get<LeaseView>({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name, namespace: this.namespace },
    });
  }

  /**
   * Last resort for a failed test's leftovers: removes the finalizers of every session of the
   * namespace (no operator needed), so deleting the namespace is not blocked by them.
   */
  async releaseSessions(): Promise<void> {
    for (const s of await this.list()) {
      await this.client
        .mergePatch(this.sessionRef(s.metadata.name!), { metadata: { finalizers: null } })
        .catch(() => undefined);
    }
  }

  /**
   * Waits until no object carries the session's label. The operator deletes every child before it
   * lets a session go, but a deleted claim stays while its pod ends (pvc-protection), so "gone" is a
   * state to wait for, not a snapshot.
   */
  async waitNoChildren(session: string, timeoutMs = 30_000): Promise<void> {
    let left: { kind: string; name: string }[] = [];
    await waitFor(
      `children of ${session} gone`,
      async () => {
        left = await this.children(session);
        return left.length === 0;
      },
      timeoutMs,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; still there: ${left.map((c) => `${c.kind}/${c.name}`).join(', ')}`);
    });
  }

  /** Every object in the namespace that carries the session label, by kind. */
  async children(session?: string): Promise<{ kind: string; name: string; owners: string[] }[]> {
    const selector = session ? `vdi.kasm.io/session=${session}` : 'vdi.kasm.io/session';
    const out: { kind: string; name: string; owners: string[] }[] = [];
    for (const [base, plural] of Fixture.childKinds) {
      const r = await this.client.call<{
        items: { metadata: { name: string; ownerReferences?: { name: string }[] } }[];
      }>(
        'GET',
        `${base}/namespaces/${this.namespace}/${plural}?labelSelector=${encodeURIComponent(selector)}`,
      );
      for (const item of r.items)
        out.push({
          kind: plural,
          name: item.metadata.name,
          owners: (item.metadata.ownerReferences ?? []).map((o) => o.name),
        });
    }
    return out;
  }

  /**
   * Waits for an Event of `reason` about `name` and returns every such Event. The operator writes
   * Events asynchronously and holds them (at most 60 s) while sessions wait to start.
   */
  async waitEvent(name: string, reason: string, timeoutMs = 70_000): Promise<SessionEvent[]> {
    return waitFor(
      `a ${reason} Event for ${name}`,
      async () => {
        const got = (await this.events(name)).filter((e) => e.reason === reason);
        return got.length > 0 ? got : undefined;
      },
      timeoutMs,
    );
  }

  async events(name: string): Promise<SessionEvent[]> {
    const r = await this.client.call<{ items: SessionEvent[] }>(
      'GET',
      `/api/v1/namespaces/${this.namespace}/events?fieldSelector=${encodeURIComponent(`involvedObject.name=${name}`)}`,
    );
    return r.items;
  }

  /** Every Event of the namespace. */
  async allEvents(): Promise<SessionEvent[]> {
    return this.listAll<SessionEvent>('/api/v1', 'events');
  }
}
