/**
 * What the operator writes for one session, in one place: where its desktop may run (placement),
 * which encoder it uses (plan), its keys (desktop password, TURN REST key) and its objects in the
 * order they are applied. The operator, the benchmark's floor (which writes exactly what the
 * operator would, without the operator) and test helpers all call these, so none of them can
 * drift from the others.
 *
 * Two steps, because the operator looks up a per-user home claim between them (an API read, so
 * not here): planSession (placement, effective spec, encoder plan, GPU facts) and renderPlanned
 * (the objects). desiredSession runs both for callers with the claim at hand, or none.
 */
import type { KubernetesObject, V1Node, V1Pod } from '@kubernetes/client-node';
import type { VDISession, VDITemplate } from '@vdi/crd-types';
import { chooseEncoder, parseEncoderPlan, type EncoderPlan } from './encoder.js';
import { childNames } from './names.js';
import { eligible, gpuCapacity, type GpuCapacity, type Placement } from './gpu-capacity.js';
import type { PlatformOptions } from './options.js';
import { renderSession, renderedObjects, type RenderedSession } from './render.js';
import { resolveSession, type EffectiveSession } from './resolve.js';
import { sessionPassword, turnRestKey } from './secrets.js';

/**
 * The encoder decision, kept on the desktop pod: it must not change for the life of a pod (a
 * later reconcile with other free slices would otherwise render another plan for the same pod).
 */
export const ANNOTATION_ENCODER_PLAN = 'vdi.kasm.io/encoder-plan';

/** GPU nodes carry this taint (NVIDIA's device plugin convention); every desktop tolerates it. */
export const GPU_TOLERATION = { key: 'nvidia.com/gpu', operator: 'Exists' } as const;

/**
 * The GPU nodes a template's desktops may land on: its node selector and tolerations, plus the
 * GPU taint. What the free time-slices of a session are counted over.
 */
export function sessionPlacement(template: VDITemplate): Placement {
  return {
    nodeSelector: template.spec.nodeSelector ?? {},
    tolerations: [{ ...GPU_TOLERATION }, ...(template.spec.tolerations ?? [])],
  };
}

/**
 * What of the cluster a session's plan depends on (the operator reads them from its caches): the
 * nodes, and what their pods hold, either as the pods themselves or as a ledger kept from pod
 * events (SliceLedger: no walk over every pod per session).
 */
export type ClusterFacts =
  | {
      nodes: readonly V1Node[];
      /** Pods holding GPU time-slices (all of them; only those on eligible nodes count). */
      pods: readonly V1Pod[];
    }
  | {
      nodes: readonly V1Node[];
      slices: { capacity(nodes: readonly V1Node[]): GpuCapacity };
    };

/** GPU time-slices on the nodes `placement` allows. */
export function placementSlices(
  placement: Placement,
  cluster: ClusterFacts,
  options: PlatformOptions,
): GpuCapacity {
  const allowed = cluster.nodes.filter((n) => eligible(n, placement));
  return 'slices' in cluster
    ? cluster.slices.capacity(allowed)
    : gpuCapacity(allowed, cluster.pods, options.gpuResourceName);
}

/** The encoder plan recorded on an existing desktop pod, if it carries one this version reads. */
export function encoderPlanOf(pod: V1Pod | undefined): EncoderPlan | undefined {
  return parseEncoderPlan(pod?.metadata?.annotations?.[ANNOTATION_ENCODER_PLAN]);
}

/** The keys a session's objects carry, derived from the platform's session key and its uid. */
export interface SessionKeys {
  /** The desktop's password; the API derives the same one for forward-auth (secrets.ts). */
  sessionPassword: string;
  /** What a WebRTC desktop fetches its TURN credentials with from the TURN REST endpoint. */
  turnRestKey: string;
}

export function sessionKeys(sessionKey: string, session: VDISession): SessionKeys {
  return {
    sessionPassword: sessionPassword(sessionKey, session.metadata.uid!),
    turnRestKey: turnRestKey(sessionKey, session.metadata.uid!),
  };
}

export interface SessionPlan {
  placement: Placement;
  effective: EffectiveSession;
  encoderPlan: EncoderPlan;
  /** Free and total time-slices where the desktop may run (narrowed to the plan's GPU products). */
  facts: GpuCapacity;
}

/**
 * Placement, effective spec and encoder plan of a session. The plan recorded on its existing
 * desktop pod wins (a pod keeps its plan for life); otherwise it is chosen from the free slices
 * the placement allows. Throws SessionSpecError when the spec or template cannot become a desktop.
 */
export function planSession(
  session: VDISession,
  template: VDITemplate,
  options: PlatformOptions,
  cluster: ClusterFacts & { desktopPod?: V1Pod | undefined },
): SessionPlan {
  const placement = sessionPlacement(template);
  let facts = placementSlices(placement, cluster, options);
  // Copies: templates come from shared caches and must never be modified.
  const effective = resolveSession(session.spec, structuredClone(template.spec));
  const encoderPlan =
    encoderPlanOf(cluster.desktopPod) ?? chooseEncoder(template.spec.encoder, effective.gpu, facts);
  // An NVENC desktop can only use slices of its GPU products: count those.
  if (encoderPlan.gpuProducts) {
    facts = placementSlices({ ...placement, gpuProducts: encoderPlan.gpuProducts }, cluster, options);
  }
  return { placement, effective, encoderPlan, facts };
}

export interface DesiredSession extends SessionPlan {
  rendered: RenderedSession;
  /** The desktop pod, its encoder plan recorded on it (ANNOTATION_ENCODER_PLAN). */
  pod: V1Pod;
  /**
   * Every object in apply order (renderedObjects): what the pod mounts and the policy that
   * isolates it, then the pod (so a desktop never starts without its credentials or its policy,
   * and starts before the Service and routes it does not need to start), then the rest.
   */
  objects: KubernetesObject[];
}

export interface RenderKeys {
  /** The platform's session key (VDI_SESSION_KEY): the session's password and TURN REST key derive from it. */
  sessionKey: string;
  /** The per-user home claim to mount (persistence `user`), as userHomeClaimName picked it. */
  userHomeClaim?: string | undefined;
  /**
   * The desktop's password when it is not the session's own: a warm pod claimed from a pool keeps
   * the password it was started with (pool.ts poolPodPassword), so the session's Secret says that one.
   */
  desktopPassword?: string | undefined;
}

/** The objects of a planned session. Throws SessionSpecError as renderSession does. */
export function renderPlanned(
  session: VDISession,
  template: VDITemplate,
  options: PlatformOptions,
  planned: SessionPlan,
  keys: RenderKeys,
): DesiredSession {
  const rendered = renderSession(session, structuredClone(template), options, {
    encoderPlan: planned.encoderPlan,
    ...sessionKeys(keys.sessionKey, session),
    ...(keys.desktopPassword ? { sessionPassword: keys.desktopPassword } : {}),
    ...(keys.userHomeClaim ? { userHomeClaim: keys.userHomeClaim } : {}),
  });
  // The pod is rendered afresh for this call, so recording the plan on it touches nothing shared.
  const pod = rendered.pod;
  pod.metadata!.annotations = {
    ...pod.metadata!.annotations,
    [ANNOTATION_ENCODER_PLAN]: JSON.stringify(rendered.encoderPlan),
  };
  return { ...planned, rendered, pod, objects: renderedObjects(rendered) };
}

/** planSession then renderPlanned: everything the operator writes for `session`. */
export function desiredSession(
  session: VDISession,
  template: VDITemplate,
  options: PlatformOptions,
  inputs: ClusterFacts & RenderKeys & { desktopPod?: V1Pod | undefined },
): DesiredSession {
  return renderPlanned(session, template, options, planSession(session, template, options, inputs), inputs);
}

/** A kind of object the operator makes for sessions (each labelled with the session). */
export interface ChildKind {
  apiVersion: string;
  kind: string;
  /** The resource's plural, as in its API path. */
  plural: string;
}

/** Every kind of a session's children, for listing them by label (leak and ownership checks). */
export const CHILD_KINDS: readonly ChildKind[] = [
  { apiVersion: 'v1', kind: 'Pod', plural: 'pods' },
  { apiVersion: 'v1', kind: 'Service', plural: 'services' },
  { apiVersion: 'v1', kind: 'Secret', plural: 'secrets' },
  { apiVersion: 'v1', kind: 'PersistentVolumeClaim', plural: 'persistentvolumeclaims' },
  { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', plural: 'networkpolicies' },
  { apiVersion: 'traefik.io/v1alpha1', kind: 'IngressRoute', plural: 'ingressroutes' },
  { apiVersion: 'traefik.io/v1alpha1', kind: 'Middleware', plural: 'middlewares' },
];

/** `/api/v1` for the core group, `/apis/<group>/<version>` otherwise. */
export function apiBasePath(apiVersion: string): string {
  return apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
}

/** The path listing `kind` in `namespace`, optionally by label selector. */
export function childListPath(kind: ChildKind, namespace: string, labelSelector?: string): string {
  const path = `${apiBasePath(kind.apiVersion)}/namespaces/${namespace}/${kind.plural}`;
  return labelSelector ? `${path}?labelSelector=${encodeURIComponent(labelSelector)}` : path;
}

/** A child named in its namespace, as the client addresses it (a type, so it fits KubeObject). */
export type ChildRef = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string };
};

/**
 * Everything a session named `name` may own, in the order the operator deletes it: the desktop
 * pod first (so the desktop is gone before what it mounts), then the rest. Includes objects no
 * longer made (so sessions of older versions are cleaned up too); a per-user home is never listed
 * (it outlives every session of its owner).
 */
export function childRefs(name: string, namespace: string): ChildRef[] {
  const n = childNames(name);
  const ref = (apiVersion: string, kind: string, objName: string): ChildRef => ({
    apiVersion,
    kind,
    metadata: { name: objName, namespace },
  });
  return [
    ref('v1', 'Pod', n.pod),
    ref('v1', 'Service', n.service),
    // The RTC configuration Secret of sessions made before the TURN REST endpoint (0.1.x).
    ref('v1', 'Secret', `${name}-turn`),
    ref('v1', 'Secret', n.authSecret),
    ref('networking.k8s.io/v1', 'NetworkPolicy', n.networkPolicy),
    ref('traefik.io/v1alpha1', 'IngressRoute', n.ingressRoute),
    ref('traefik.io/v1alpha1', 'Middleware', n.forwardAuthMiddleware),
    // A session-owned home (persistence `session`).
    ref('v1', 'PersistentVolumeClaim', n.sessionHome),
  ];
}
