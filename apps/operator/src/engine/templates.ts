/**
 * VDITemplate status (the leader only): whether sessions can be created from a template and how
 * many use it — what `kubectl get vditemplates` (Ready, Sessions), the API (`Template.usable`)
 * and the portal read. A template is queued by name when it changes and when a session of it
 * comes or goes; the status is written only when it differs from what the template has.
 */
import {
  API_VERSION,
  PLURAL_TEMPLATE,
  type PrepullStatus,
  type VDITemplate,
  type VDITemplateStatus,
} from '@vdi/crd-types';
import { KubeApiError, type KubeJsonClient } from '@vdi/kube-client';
import { FIELD_MANAGER, templateStatus } from '@vdi/session-spec';
import { isDeepStrictEqual } from 'node:util';
import type { Logger } from 'pino';
import type { Caches } from './caches.js';
import { WorkQueue } from './work-queue.js';

export interface TemplateStatusDeps {
  /** Which templates this operator answers for (VDI_TEMPLATE_STATUS): all, or a label selector. */
  selector: 'all' | Record<string, string>;
  caches: Caches;
  client: KubeJsonClient;
  namespace: string;
  log: Logger;
  now?: () => Date;
  /** The template's image pre-pull counts (prepull.ts); undefined: it has no puller (the field goes). */
  prepull?: (template: VDITemplate) => PrepullStatus | undefined;
}

/** How long a session's change may wait before its template's session count is checked (addCount). */
const COUNT_DELAY_MS = 1_000;

/** The status without its transition times, for "did anything change". */
const comparable = (s: VDITemplateStatus | undefined) =>
  s && { ...s, conditions: s.conditions?.map(({ lastTransitionTime: _t, ...c }) => c) };

export class TemplateStatusWriter {
  private readonly queue: WorkQueue;

  constructor(private readonly d: TemplateStatusDeps) {
    this.queue = new WorkQueue({
      workers: 1,
      handler: (name) => this.write(name),
      onResult: (name, outcome, _ms, err) => {
        if (outcome !== 'retry' && outcome !== 'terminal') return;
        // A conflict: the template changed since the cache showed it; the retry reads it again.
        const conflict = err instanceof KubeApiError && err.conflict;
        d.log[conflict ? 'debug' : 'warn'](
          { template: name, err: String(err) },
          'writing the template status failed',
        );
      },
    });
  }

  /** Queues a template (by name) for a status check. */
  add(name: string): void {
    this.queue.add(name);
  }

  /**
   * Queues a template whose session count may have changed (a session of it came, changed or
   * went), checked at most once per COUNT_DELAY_MS: in a burst every session event used to start
   * a check (the session list counted, the template resolved again) and a write of the count,
   * back to back; the count is informational, a second late is fine.
   */
  addCount(name: string): void {
    this.queue.addAfter(name, COUNT_DELAY_MS);
  }

  shutdown(): Promise<void> {
    return this.queue.shutdown();
  }

  private async write(name: string): Promise<void> {
    const { caches, client, namespace } = this.d;
    const template = caches.templates.get(name);
    if (!template || template.metadata.deletionTimestamp) return;
    const labels = template.metadata.labels ?? {};
    const { selector } = this.d;
    if (selector !== 'all' && Object.entries(selector).some(([k, v]) => labels[k] !== v)) return;
    const sessions = caches.sessions
      .list(namespace)
      .filter((s) => s.spec.template === name && !s.metadata.deletionTimestamp).length;
    const prepull = this.d.prepull?.(template);
    const status: VDITemplateStatus = {
      ...templateStatus(template, sessions, (this.d.now ?? (() => new Date()))()),
      ...(prepull ? { prepull } : {}),
    };
    if (isDeepStrictEqual(comparable(status), comparable(template.status))) return;
    await client.call(
      'PATCH',
      `/apis/${API_VERSION}/${PLURAL_TEMPLATE}/${name}/status?fieldManager=${FIELD_MANAGER}`,
      {
        metadata: { resourceVersion: template.metadata.resourceVersion },
        // A merge patch keeps what it does not name: a puller that went takes its counts along.
        status: !prepull && template.status?.prepull ? { ...status, prepull: null } : status,
      },
      'application/merge-patch+json',
    );
  }
}
