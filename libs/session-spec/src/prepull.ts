/**
 * Image pre-pull: a template's image put on every node its desktops can land on before anyone
 * asks, so a desktop's start is not a multi-gigabyte pull. As JupyterHub's puller does, one
 * DaemonSet per template (in the operator's namespace): its pod runs the template's image as an
 * init container that exits at once (`/bin/true`, so the kubelet pulls the image and nothing of the
 * desktop runs), then a pause container that holds the pod (and so the node's count) at no cost.
 * The DaemonSet controller gives a node that joins its puller pod; its status says how many
 * eligible nodes there are.
 *
 * Pure: the template, the platform's choices and the observed pods come in; the clock too.
 */
import type { V1Container, V1DaemonSet, V1Pod, V1SecurityContext } from '@kubernetes/client-node';
import {
  API_VERSION,
  KIND_TEMPLATE,
  PREPULL_NODES_MAX,
  isRetired,
  withTemplateDefaults,
  type PrepullStatus,
  type VDITemplate,
} from '@vdi/crd-types';
import { FIELD_MANAGER, PART_OF } from './labels.js';
import { DNS1123_LABEL_MAX, identityHash, slugify } from './names.js';
import { DESKTOP_UID, desktopPlacement } from './pod.js';
import { resolveSession } from './resolve.js';

/** The pause image of the local cluster's node (tools/node PAUSE_IMAGE): VDI_PREPULL_PAUSE_IMAGE's default. */
export const DEFAULT_PREPULL_PAUSE_IMAGE = 'localhost/vdi/pause:1';

/** What every puller DaemonSet and pod carries (`app.kubernetes.io/component`). */
export const PREPULL_COMPONENT = 'image-puller';
/** The puller's own label (its DaemonSet's name): the DaemonSet's pod selector. */
export const LABEL_PREPULL = 'vdi.kasm.io/prepull';
/** The template a puller is for (an annotation: template names may be longer than a label value). */
export const ANNOTATION_PREPULL_TEMPLATE = 'vdi.kasm.io/template';
/** The selector of the operator's watches of its pullers and their pods. */
export const PREPULL_SELECTOR = `app.kubernetes.io/component=${PREPULL_COMPONENT},app.kubernetes.io/managed-by=${FIELD_MANAGER}`;
/** The init container that pulls the template's image. */
export const PREPULL_IMAGE_CONTAINER = 'image';

/**
 * A DaemonSet's pods are named `<daemonset>-<5 characters>`; keeping the DaemonSet's name to 57
 * keeps its pods' names within a DNS label (their hostnames).
 */
const PULLER_NAME_MAX = DNS1123_LABEL_MAX - 6;

/**
 * The puller DaemonSet of a template: `prepull-<template>`, stable and DNS-safe. A template name
 * that is not already a short DNS label (dots, too long) gets a slug and a hash of the exact
 * name, so two templates never share a puller.
 */
export function pullerName(template: string): string {
  const plain = `prepull-${template}`;
  if (/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(template) && plain.length <= PULLER_NAME_MAX) return plain;
  const hash = identityHash(template);
  const room = PULLER_NAME_MAX - 'prepull-'.length - hash.length - 1;
  const slug = slugify(template).slice(0, room).replace(/-+$/g, '');
  return slug ? `prepull-${slug}-${hash}` : `prepull-${hash}`;
}

/** What of the platform a puller needs besides the template. */
export interface PrepullOptions {
  /** The operator's namespace (its Lease's): where the pullers run. */
  namespace: string;
  /** The image of the holding container (VDI_PREPULL_PAUSE_IMAGE). */
  pauseImage: string;
}

/**
 * The template's default desktop placement (a session that asks for nothing of its own): the
 * same desktopPlacement the desktop pod is rendered with. An NVENC plan's narrowing to some GPU
 * products is left out: it is decided per session from free slices, and a desktop falls back to
 * CPU encoding on any time-sliced GPU, so every such node is eligible. Undefined when no session
 * can be resolved from the template (it cannot become a desktop: nothing to pull for).
 */
export function templatePlacement(template: VDITemplate): ReturnType<typeof desktopPlacement> | undefined {
  try {
    const eff = resolveSession(
      { user: 'prepull', template: template.metadata.name ?? 'template' },
      withTemplateDefaults(structuredClone(template.spec)),
    );
    return desktopPlacement(eff);
  } catch {
    return undefined;
  }
}

/** True when the template should have a puller: it exists, is not retired and can become a desktop. */
export function wantsPuller(template: VDITemplate | undefined): template is VDITemplate {
  return (
    !!template &&
    !template.metadata.deletionTimestamp &&
    !isRetired(template) &&
    templatePlacement(template) !== undefined
  );
}

/** Restricted Pod Security for a container that needs nothing: non-root, no capabilities, read-only. */
const restricted = (): V1SecurityContext => ({
  allowPrivilegeEscalation: false,
  privileged: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  capabilities: { drop: ['ALL'] },
});

/** Enough for `/bin/true` and the pause program; the scheduler sees the puller as next to free. */
const TINY = { requests: { cpu: '1m', memory: '8Mi' }, limits: { cpu: '50m', memory: '32Mi' } };

/**
 * The puller DaemonSet of a template (whole, for server-side apply). Throws when the template
 * cannot become a desktop (check wantsPuller first).
 */
export function pullerDaemonSet(template: VDITemplate, o: PrepullOptions): V1DaemonSet {
  const templateName = template.metadata.name!;
  const name = pullerName(templateName);
  const placement = templatePlacement(template);
  if (!placement) throw new Error(`template ${templateName} cannot become a desktop: no puller for it`);
  const labels = {
    'app.kubernetes.io/name': 'vdi-image-puller',
    'app.kubernetes.io/component': PREPULL_COMPONENT,
    'app.kubernetes.io/managed-by': FIELD_MANAGER,
    [LABEL_PREPULL]: name,
  };
  const pull: V1Container = {
    name: PREPULL_IMAGE_CONTAINER,
    image: template.spec.image,
    // Never stays never (an image imported on each node); otherwise pull once and keep it.
    imagePullPolicy: template.spec.imagePullPolicy === 'Never' ? 'Never' : 'IfNotPresent',
    // The platform's desktop image has /bin/true: the container exits at once, the image stays.
    command: ['/bin/true'],
    resources: structuredClone(TINY),
    securityContext: restricted(),
  };
  const hold: V1Container = {
    name: 'pause',
    image: o.pauseImage,
    imagePullPolicy: 'IfNotPresent',
    resources: structuredClone(TINY),
    securityContext: restricted(),
  };
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: {
      name,
      namespace: o.namespace,
      // part-of goes on the DaemonSet only: the pods stay out of the platform's pod watches
      // (MANAGED_SELECTOR), which may share this namespace with desktops.
      labels: { ...labels, ...PART_OF },
      annotations: { [ANNOTATION_PREPULL_TEMPLATE]: templateName },
      ownerReferences: [
        {
          apiVersion: API_VERSION,
          kind: KIND_TEMPLATE,
          name: templateName,
          uid: template.metadata.uid!,
          controller: true,
          // Nothing needs to wait for a puller before its template goes (and blocking would ask
          // the operator for update rights on every template's finalizers).
          blockOwnerDeletion: false,
        },
      ],
    },
    spec: {
      selector: { matchLabels: { [LABEL_PREPULL]: name } },
      // A new image is wanted everywhere at once; a puller holds nothing that needs to stay up.
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '100%' } },
      template: {
        metadata: { labels, annotations: { [ANNOTATION_PREPULL_TEMPLATE]: templateName } },
        spec: {
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          terminationGracePeriodSeconds: 1,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: DESKTOP_UID,
            runAsGroup: DESKTOP_UID,
            seccompProfile: { type: 'RuntimeDefault' },
          },
          ...placement,
          initContainers: [pull],
          containers: [hold],
        },
      },
    },
  };
}

/** True when the puller pod has the image on its node: its pull container finished, or the pod runs. */
export function pullerHasImage(pod: V1Pod, image: string): boolean {
  if (pod.metadata?.deletionTimestamp || !pod.spec?.nodeName) return false;
  // A pod of an older image (a rollout in progress) says nothing about this one.
  const wanted = pod.spec.initContainers?.find((c) => c.name === PREPULL_IMAGE_CONTAINER);
  if (wanted?.image !== image) return false;
  if (pod.status?.phase === 'Running') return true;
  const s = pod.status?.initContainerStatuses?.find((c) => c.name === PREPULL_IMAGE_CONTAINER);
  return s?.state?.terminated?.exitCode === 0;
}

/** Seconds-precision RFC 3339, as Kubernetes writes times. */
const rfc3339 = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

/**
 * `status.prepull` of a template from its puller DaemonSet (undefined: not created yet) and that
 * DaemonSet's pods: how many of the eligible nodes (desiredNumberScheduled) have the image, and
 * which. A node that left can still have a pod for up to about a minute (pod garbage collection),
 * so `ready` is capped at `desired`. `observedTime` moves only when the counts or nodes change,
 * so an unchanged status is never rewritten.
 */
export function prepullStatus(
  template: VDITemplate,
  daemonSet: V1DaemonSet | undefined,
  pods: readonly V1Pod[],
  now: Date,
): PrepullStatus {
  const image = template.spec.image;
  const desired = daemonSet?.status?.desiredNumberScheduled ?? 0;
  const nodes = [
    ...new Set(pods.filter((p) => pullerHasImage(p, image)).map((p) => p.spec!.nodeName!)),
  ].sort();
  const ready = Math.min(nodes.length, desired);
  const before = template.status?.prepull;
  const listed = nodes.slice(0, PREPULL_NODES_MAX);
  const same =
    before &&
    before.image === image &&
    before.ready === ready &&
    before.desired === desired &&
    before.nodes.length === listed.length &&
    before.nodes.every((n, i) => n === listed[i]);
  return {
    image,
    ready,
    desired,
    summary: `${ready}/${desired}`,
    nodes: listed,
    observedTime: same ? before.observedTime : rfc3339(now),
  };
}
