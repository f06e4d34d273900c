/**
 * Image pre-pull (the leader only): one puller DaemonSet per template, in the operator's own
 * namespace, so a template's image is on every node its desktops can land on before a session
 * asks (libs/session-spec prepull.ts renders it). A template is queued by name when it, its
 * puller or a puller's pod changes; a sync creates or updates the puller when the template wants
 * one (it exists, is not retired, can become a desktop, is one this operator answers for and
 * pre-pull is on), and deletes it otherwise — so retiring, deleting or VDI_PREPULL=false removes
 * it, restoring brings it back, and a puller whose template is gone is removed at start-up (every
 * cached puller queues its template). New nodes get their pod from the DaemonSet controller.
 *
 * The counts in `status.prepull` are written by the template status writer (templates.ts), which
 * asks `status()` here: one writer of the template's status.
 */
import { createHash } from 'node:crypto';
import type * as k8s from '@kubernetes/client-node';
import type { PrepullStatus, VDITemplate } from '@vdi/crd-types';
import {
  InformerSet,
  KubeApiError,
  makeTransformingInformer,
  withoutManagedFields,
  type Cache,
  type KubeJsonClient,
  type KubeObject,
} from '@vdi/kube-client';
import {
  ANNOTATION_PREPULL_TEMPLATE,
  FIELD_MANAGER,
  LABEL_PREPULL,
  PREPULL_IMAGE_CONTAINER,
  PREPULL_SELECTOR,
  prepullStatus,
  pullerDaemonSet,
  pullerName,
  wantsPuller,
} from '@vdi/session-spec';
import type { Logger } from 'pino';
import { ANNOTATION_APPLIED } from './children.js';
import { WorkQueue } from './work-queue.js';

/** What the controller reads of a cache (a client-node ObjectCache, or a map in tests). */
export interface Lookup<T> {
  get(name: string, namespace?: string): T | undefined;
  list(namespace?: string): readonly T[];
}

export interface PrepullDeps {
  client: Pick<KubeJsonClient, 'apply' | 'delete'>;
  templates: Lookup<VDITemplate>;
  daemonSets: Lookup<k8s.V1DaemonSet>;
  pods: Lookup<k8s.V1Pod>;
  /** The operator's namespace (its Lease's): where pullers run. */
  namespace: string;
  /** VDI_PREPULL (and template status not off): false removes every puller of the namespace. */
  enabled: boolean;
  pauseImage: string;
  /** Whether this operator answers for the template (VDI_TEMPLATE_STATUS's selector). */
  selected: (template: VDITemplate) => boolean;
  /** The template's `status.prepull` may have changed: queue its status write. */
  statusChanged: (template: string) => void;
  log: Logger;
  now?: () => Date;
}

/** The template a puller DaemonSet or pod is for. */
export function pullerTemplate(obj: k8s.KubernetesObject): string | undefined {
  return obj.metadata?.annotations?.[ANNOTATION_PREPULL_TEMPLATE];
}

/** The hash of the desired puller recorded on it: an unchanged template costs no request. */
export function appliedHash(ds: k8s.V1DaemonSet): string {
  return createHash('sha256').update(JSON.stringify(ds)).digest('hex').slice(0, 16);
}

export class PrepullController {
  private readonly queue: WorkQueue;
  private leading = false;

  constructor(private readonly d: PrepullDeps) {
    this.queue = new WorkQueue({
      workers: 1,
      handler: (name) => this.sync(name),
      onResult: (name, outcome, _ms, err) => {
        if (outcome !== 'retry' && outcome !== 'terminal') return;
        const conflict = err instanceof KubeApiError && err.conflict;
        d.log[conflict ? 'debug' : 'warn'](
          { template: name, daemonSet: pullerName(name), namespace: d.namespace, err: String(err) },
          'syncing the image puller failed',
        );
      },
    });
  }

  /** As leader: every template, and the template of every puller (a puller whose template is gone is removed). */
  lead(): void {
    this.leading = true;
    const names = new Set(this.d.templates.list().map((t) => t.metadata.name!));
    for (const ds of this.d.daemonSets.list(this.d.namespace)) {
      const t = pullerTemplate(ds);
      if (t) names.add(t);
    }
    for (const name of names) this.queue.add(name);
  }

  /** A template changed, came or went. */
  template(name: string): void {
    if (this.leading) this.queue.add(name);
  }

  /** A puller DaemonSet changed (its desired count, an edit, a deletion by someone else). */
  daemonSet(ds: k8s.V1DaemonSet): void {
    const t = pullerTemplate(ds);
    if (!t || !this.leading) return;
    this.queue.add(t);
    this.d.statusChanged(t);
  }

  /** A puller pod changed: a node may have the image now. */
  pod(pod: k8s.V1Pod): void {
    const t = pullerTemplate(pod);
    if (t && this.leading) this.d.statusChanged(t);
  }

  private wanted(template: VDITemplate | undefined): template is VDITemplate {
    return this.d.enabled && wantsPuller(template) && this.d.selected(template);
  }

  /** The template's `status.prepull`; undefined when it has no puller (the field is then removed). */
  status(template: VDITemplate): PrepullStatus | undefined {
    if (!this.wanted(template)) return undefined;
    const name = pullerName(template.metadata.name!);
    const pods = this.d.pods
      .list(this.d.namespace)
      .filter((p) => p.metadata?.labels?.[LABEL_PREPULL] === name);
    return prepullStatus(
      template,
      this.d.daemonSets.get(name, this.d.namespace),
      pods,
      (this.d.now ?? (() => new Date()))(),
    );
  }

  /** Makes the cluster hold exactly the puller the template wants (or none). */
  async sync(name: string): Promise<void> {
    const { client, namespace, log } = this.d;
    const template = this.d.templates.get(name);
    const want = this.wanted(template);
    const target = pullerName(name);
    // Pullers of this template under another name (none normally) and, when none is wanted, its own.
    for (const ds of this.d.daemonSets.list(namespace)) {
      if (pullerTemplate(ds) !== name || (want && ds.metadata!.name === target)) continue;
      if (ds.metadata!.deletionTimestamp) continue;
      const deleted = await client.delete(
        { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: ds.metadata!.name!, namespace } },
        { uid: ds.metadata!.uid! },
      );
      if (deleted) {
        log.info(
          { template: name, daemonSet: ds.metadata!.name, reason: this.whyNot(template) },
          'image puller removed',
        );
      }
    }
    if (!want) return;
    const desired = pullerDaemonSet(template, { namespace, pauseImage: this.d.pauseImage });
    const hash = appliedHash(desired);
    desired.metadata!.annotations = { ...desired.metadata!.annotations, [ANNOTATION_APPLIED]: hash };
    const current = this.d.daemonSets.get(target, namespace);
    if (current?.metadata?.annotations?.[ANNOTATION_APPLIED] === hash && !current.metadata.deletionTimestamp)
      return;
    await client.apply(desired as unknown as KubeObject, FIELD_MANAGER);
    log.info(
      { template: name, daemonSet: target, namespace, image: template.spec.image },
      current ? 'image puller updated' : 'image puller created',
    );
    this.d.statusChanged(name);
  }

  private whyNot(template: VDITemplate | undefined): string {
    if (!this.d.enabled) return 'pre-pull is off (VDI_PREPULL=false)';
    if (!template || template.metadata.deletionTimestamp) return 'the template is gone';
    if (template.spec.retired) return 'the template is retired';
    if (!this.d.selected(template)) return 'another installation answers for the template';
    return 'the template cannot become a desktop';
  }

  shutdown(): Promise<void> {
    this.leading = false;
    return this.queue.shutdown();
  }
}

/** A puller pod as the status reads it: where it runs, what it pulls, whether that finished. */
export function slimPullerPod(p: k8s.V1Pod): k8s.V1Pod {
  const m = p.metadata ?? {};
  const pull = p.spec?.initContainers?.find((c) => c.name === PREPULL_IMAGE_CONTAINER);
  const pulled = p.status?.initContainerStatuses?.find((c) => c.name === PREPULL_IMAGE_CONTAINER);
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: m.name,
      namespace: m.namespace,
      uid: m.uid,
      resourceVersion: m.resourceVersion,
      labels: m.labels,
      annotations: m.annotations?.[ANNOTATION_PREPULL_TEMPLATE]
        ? { [ANNOTATION_PREPULL_TEMPLATE]: m.annotations[ANNOTATION_PREPULL_TEMPLATE] }
        : undefined,
      deletionTimestamp: m.deletionTimestamp,
    },
    spec: {
      nodeName: p.spec?.nodeName,
      containers: [],
      initContainers: pull ? [{ name: pull.name, image: pull.image }] : [],
    },
    status: {
      phase: p.status?.phase,
      ...(pulled
        ? {
            initContainerStatuses: [
              {
                name: pulled.name,
                image: pulled.image,
                imageID: '',
                ready: pulled.ready,
                restartCount: pulled.restartCount,
                state: pulled.state?.terminated
                  ? { terminated: { exitCode: pulled.state.terminated.exitCode } }
                  : {},
              },
            ],
          }
        : {}),
    },
  };
}

/** The watches of the pullers and their pods in the operator's namespace (they need only a Role there). */
export class PrepullCaches {
  readonly daemonSets: Cache<k8s.V1DaemonSet>;
  readonly pods: Cache<k8s.V1Pod>;
  private readonly set: InformerSet;

  constructor(
    kc: k8s.KubeConfig,
    lister: KubeJsonClient,
    namespace: string,
    log: Logger,
    events: { daemonSet(ds: k8s.V1DaemonSet): void; pod(p: k8s.V1Pod): void },
  ) {
    this.set = new InformerSet((msg, fields) => log.warn(fields, msg));
    this.daemonSets = this.set.add(
      'prepull-daemonsets',
      makeTransformingInformer<k8s.V1DaemonSet>(
        kc,
        lister,
        `/apis/apps/v1/namespaces/${namespace}/daemonsets`,
        withoutManagedFields,
        PREPULL_SELECTOR,
      ),
    );
    this.pods = this.set.add(
      'prepull-pods',
      makeTransformingInformer<k8s.V1Pod>(
        kc,
        lister,
        `/api/v1/namespaces/${namespace}/pods`,
        slimPullerPod,
        PREPULL_SELECTOR,
      ),
    );
    for (const event of ['add', 'update', 'delete'] as const) {
      this.daemonSets.on(event, (ds) => events.daemonSet(ds));
      this.pods.on(event, (p) => events.pod(p));
    }
  }

  start(): Promise<void> {
    return this.set.start();
  }

  stop(): Promise<void> {
    return this.set.stop();
  }
}

/** Whether VDI_TEMPLATE_STATUS's selector names the template (the templates this operator answers for). */
export function templateSelected(
  selector: 'all' | 'off' | Record<string, string>,
  template: VDITemplate,
): boolean {
  if (selector === 'all') return true;
  if (selector === 'off') return false;
  const labels = template.metadata.labels ?? {};
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}
