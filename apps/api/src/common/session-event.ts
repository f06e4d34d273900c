/**
 * The core/v1 Events the API records about a session (`kubectl describe vdisession` shows them):
 * one shape for every writer, from the caller's name (a deterministic name lets replicas that
 * record the same fact collide on it instead of doubling it).
 */
import { API_VERSION, KIND_SESSION } from '@vdi/crd-types';

export interface SessionEventInput {
  namespace: string;
  /** The Event's own name. */
  name: string;
  session: string;
  sessionUid?: string | undefined;
  reason: string;
  message: string;
  /** A second object the Event is about (e.g. the share that was used). */
  related?: { kind: string; name: string };
  now?: Date;
}

export function sessionEvent(e: SessionEventInput) {
  const at = (e.now ?? new Date()).toISOString();
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: e.name, namespace: e.namespace },
    involvedObject: {
      apiVersion: API_VERSION,
      kind: KIND_SESSION,
      name: e.session,
      namespace: e.namespace,
      ...(e.sessionUid ? { uid: e.sessionUid } : {}),
    },
    ...(e.related
      ? {
          related: {
            apiVersion: API_VERSION,
            kind: e.related.kind,
            name: e.related.name,
            namespace: e.namespace,
          },
        }
      : {}),
    reason: e.reason,
    message: e.message,
    type: 'Normal',
    source: { component: 'vdi-api' },
    firstTimestamp: at,
    lastTimestamp: at,
    count: 1,
  };
}
