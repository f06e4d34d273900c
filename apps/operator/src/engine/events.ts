/**
 * Kubernetes Events on a session (`kubectl describe vdisession` shows them): one for each step a
 * user would want to see. Recording never fails a reconcile; a failed write is logged.
 */
import { randomBytes } from 'node:crypto';
import { API_VERSION, KIND_SESSION, type VDISession } from '@vdi/crd-types';
import type { KubeJsonClient } from '@vdi/kube-client';
import type { Logger } from 'pino';

export interface EventRecorder {
  record(session: VDISession, type: 'Normal' | 'Warning', reason: string, message: string): void;
}

export class KubeEventRecorder implements EventRecorder {
  constructor(
    private readonly client: KubeJsonClient,
    private readonly log: Logger,
    private readonly component = 'vdi-operator',
    private readonly host = process.env.VDI_POD_NAME ?? 'local',
  ) {}

  record(session: VDISession, type: 'Normal' | 'Warning', reason: string, message: string): void {
    const now = new Date().toISOString();
    const name = `${session.metadata.name}.${Date.now().toString(16)}${randomBytes(2).toString('hex')}`;
    const event = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace: session.metadata.namespace },
      involvedObject: {
        apiVersion: API_VERSION,
        kind: KIND_SESSION,
        name: session.metadata.name,
        namespace: session.metadata.namespace,
        uid: session.metadata.uid,
        resourceVersion: session.metadata.resourceVersion,
      },
      type,
      reason,
      message: message.slice(0, 1024),
      source: { component: this.component, host: this.host },
      reportingComponent: this.component,
      reportingInstance: this.host,
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    };
    void this.client
      .call('POST', `/api/v1/namespaces/${session.metadata.namespace}/events`, event)
      .catch((err: unknown) => {
        this.log.warn(
          { key: `${session.metadata.namespace}/${session.metadata.name}`, reason, err: String(err) },
          'could not record an event',
        );
      });
  }
}
