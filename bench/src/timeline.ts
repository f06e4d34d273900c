/**
 * When things happened to the sessions of one namespace, as a watcher in the benchmark's process
 * sees them: a session's desktop pod appearing, and the session becoming Running — the session's
 * status phase (operator runs) or its pod Running and Ready (floor runs, where no one writes
 * status), and the pod Running and Ready in both. Times are this process's clock (ms), the same clock the creations are stamped with.
 */
import * as k8s from '@kubernetes/client-node';
import type { VDISession } from '@vdi/crd-types';
import { InformerSet, sessionInformer } from '@vdi/kube-client';
import { LABEL_SESSION } from '@vdi/session-spec';

export type RunningSignal = 'session-status' | 'pod-ready';

export function podReady(pod: k8s.V1Pod): boolean {
  return (
    pod.status?.phase === 'Running' &&
    (pod.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True')
  );
}

export class FailedSessions extends Error {
  override name = 'FailedSessions';
}

export class Timeline {
  readonly created = new Map<string, number>();
  readonly podCreated = new Map<string, number>();
  /** When the session's desktop pod was first seen Running and Ready (both kinds of run). */
  readonly podReady = new Map<string, number>();
  readonly running = new Map<string, number>();
  /** Sessions whose status says Failed, with the reason (operator runs only). */
  readonly failed = new Map<string, string>();
  private readonly set: InformerSet;

  constructor(kc: k8s.KubeConfig, namespace: string, signal: RunningSignal) {
    const core = kc.makeApiClient(k8s.CoreV1Api);
    this.set = new InformerSet((msg, fields) =>
      process.stderr.write(`[timeline] ${msg} ${JSON.stringify(fields)}\n`),
    );
    const pods = k8s.makeInformer<k8s.V1Pod>(
      kc,
      `/api/v1/namespaces/${namespace}/pods`,
      () => core.listNamespacedPod({ namespace, labelSelector: LABEL_SESSION }),
      LABEL_SESSION,
    );
    const onPod = (pod: k8s.V1Pod) => {
      const now = Date.now();
      const session = pod.metadata?.labels?.[LABEL_SESSION];
      if (!session) return;
      if (!this.podCreated.has(session)) this.podCreated.set(session, now);
      if (!this.podReady.has(session) && podReady(pod)) {
        this.podReady.set(session, now);
        if (signal === 'pod-ready') this.running.set(session, now);
      }
    };
    pods.on('add', onPod);
    pods.on('update', onPod);
    this.set.add('pods', pods);
    if (signal === 'session-status') {
      const sessions = sessionInformer(kc, namespace);
      const onSession = (s: VDISession) => {
        const name = s.metadata.name!;
        if (s.status?.phase === 'Running' && !this.running.has(name)) this.running.set(name, Date.now());
        if (s.status?.phase === 'Failed')
          this.failed.set(name, `${s.status.reason ?? ''}: ${s.status.message ?? ''}`);
      };
      sessions.on('add', onSession);
      sessions.on('update', onSession);
      this.set.add('sessions', sessions);
    }
  }

  start(): Promise<void> {
    return this.set.start();
  }

  stop(): Promise<void> {
    return this.set.stop();
  }

  /** Waits until every session in `names` has been seen Running. */
  async waitAllRunning(
    names: readonly string[],
    timeoutMs: number,
    progress?: (n: number) => void,
  ): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const failed = names.filter((x) => this.failed.has(x) && !this.running.has(x));
      if (failed.length > 0)
        throw new FailedSessions(
          `${failed.length} sessions Failed, e.g. ${failed[0]}: ${this.failed.get(failed[0]!)}`,
        );
      const n = names.filter((x) => this.running.has(x)).length;
      progress?.(n);
      if (n === names.length) return;
      if (Date.now() > deadline)
        throw new Error(`timed out after ${timeoutMs} ms: ${n} of ${names.length} sessions Running`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
