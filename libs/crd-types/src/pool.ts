/**
 * `VDIPool` (`vdi.kasm.io/v1alpha1`, namespaced in the sessions' namespace): warm desktops of one
 * template, started and Ready before anyone asks, with no user identity. A new session of the
 * template claims one (the operator patches the pod once, conditional on its version) and is
 * Running as soon as its route exists; the pool refills. Only templates whose desktops need
 * nothing per user at start can be pooled (see POOL_UNPOOLABLE): a started pod cannot gain a
 * volume, and TURN credentials are per session.
 */
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { V1ObjectMeta } from '@kubernetes/client-node';
import { DNS1123_SUBDOMAIN, StringMap, type K8sSchemaOptions } from './schema.js';
import { API_VERSION, ConditionSchema } from './v1alpha1.js';

export const KIND_POOL = 'VDIPool';
export const PLURAL_POOL = 'vdipools';

/**
 * The most warm desktops one pool may keep. Each is a running desktop holding its memory, CPU and
 * (for GPU templates) a time-slice: a bound that keeps a typo from asking for thousands of them.
 * The API also refuses a size beyond the cluster's free capacity.
 */
export const POOL_SIZE_MAX = 500;

/** Condition types on a VDIPool. */
export const PoolConditionType = {
  /** True when the pool's template can be pooled; False with a reason saying why not and what to do. */
  Poolable: 'Poolable',
} as const;

/** Reasons of the Poolable condition. */
export const PoolReason = {
  Poolable: 'Poolable',
  TemplateNotFound: 'TemplateNotFound',
  /** persistence user/session: a started pod cannot gain a volume. */
  PersistentHome: 'PersistentHome',
  /** streaming.mode webrtc: TURN credentials are per session, minted for its name. */
  WebRTC: 'WebRTC',
  TemplateRetired: 'TemplateRetired',
  TemplateInvalid: 'TemplateInvalid',
} as const;
export type PoolReason = (typeof PoolReason)[keyof typeof PoolReason];

export const VDIPoolSpecSchema = Type.Object({
  template: Type.String({
    minLength: 1,
    maxLength: 253,
    pattern: DNS1123_SUBDOMAIN,
    description:
      'name of the VDITemplate whose desktops the pool keeps warm; it must have persistence none and streaming.mode websockets',
  }),
  size: Type.Integer({
    minimum: 0,
    maximum: POOL_SIZE_MAX,
    description: `warm desktops to keep started and Ready, unclaimed (0 to ${POOL_SIZE_MAX}); 0 keeps the pool and starts none`,
  }),
  placement: Type.Optional(
    Type.Object(
      {
        nodeSelector: Type.Optional(
          StringMap({
            maxProperties: 32,
            description: "labels the warm desktops' nodes must have, added to the template's nodeSelector",
          }),
        ),
        gpuProduct: Type.Optional(
          Type.String({
            minLength: 1,
            maxLength: 128,
            pattern: '^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$',
            description:
              'GPU product (nvidia.com/gpu.product, e.g. NVIDIA-L4-SHARED) the warm desktops of a GPU template run on',
          }),
        ),
      },
      { description: "where the warm desktops run: narrows the template's placement, never widens it" },
    ),
  ),
});
export type VDIPoolSpec = Static<typeof VDIPoolSpecSchema>;

export const VDIPoolStatusSchema = Type.Object({
  observedGeneration: Type.Optional(Type.Integer({ format: 'int64' })),
  warm: Type.Optional(
    Type.Integer({ minimum: 0, description: 'warm desktops started and Ready, not claimed' }),
  ),
  starting: Type.Optional(Type.Integer({ minimum: 0, description: 'warm desktops not Ready yet' })),
  claimed: Type.Optional(
    Type.Integer({
      minimum: 0,
      description: 'desktops of this pool claimed by a session (they belong to it now)',
    }),
  ),
  conditions: Type.Optional(
    Type.Array(ConditionSchema, {
      maxItems: 8,
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['type'],
    } as K8sSchemaOptions),
  ),
});
export type VDIPoolStatus = Static<typeof VDIPoolStatusSchema>;

export interface VDIPool {
  apiVersion: typeof API_VERSION;
  kind: typeof KIND_POOL;
  metadata: V1ObjectMeta;
  spec: VDIPoolSpec;
  status?: VDIPoolStatus;
}

/** Schema errors of a pool spec, as `path: message` lines; empty when valid. */
export function poolSpecErrors(spec: unknown): string[] {
  return [...Value.Errors(VDIPoolSpecSchema, spec)].map((e) => `${e.path || '/'}: ${e.message}`);
}
