/**
 * `VDIPool` (`vdi.kasm.io/v1alpha1`, namespaced in the sessions' namespace): warm desktops of one
 * template, started and Ready before anyone asks, with no user identity. A new session of the
 * template claims one (the operator patches the pod once, conditional on its version) and is
 * Running as soon as its route exists; the pool refills. Only templates whose desktops need
 * nothing per user at start can be pooled (see POOL_UNPOOLABLE): a started pod cannot gain a
 * volume, and TURN credentials are per session.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { V1ObjectMeta } from '@kubernetes/client-node';
import { DNS1123_SUBDOMAIN, StringEnum, StringMap, schemaErrors, type K8sSchemaOptions } from './schema.js';
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
  /** Present when spec.schedule is set: True when it can be followed, False (reason, fix) when not. */
  ScheduleValid: 'ScheduleValid',
} as const;

/** Reasons of the ScheduleValid condition. */
export const PoolScheduleReason = {
  ScheduleValid: 'ScheduleValid',
  /** spec.schedule.timeZone is not an IANA time zone this operator knows: the pool keeps spec.size. */
  InvalidTimeZone: 'InvalidTimeZone',
  /** A window the schema cannot reject (e.g. start equal to end): the pool keeps spec.size. */
  InvalidWindow: 'InvalidWindow',
} as const;

/** Days of a schedule window, in the order of the week (Monday first). */
export const POOL_DAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'] as const;
export type PoolDay = (typeof POOL_DAYS)[number];
/** Windows one schedule may have. */
export const POOL_WINDOWS_MAX = 32;
/** HH:MM, 00:00 to 23:59. */
export const POOL_TIME_PATTERN = '^([01][0-9]|2[0-3]):[0-5][0-9]$';
/** HH:MM, 00:01 to 24:00 (24:00 is the end of the day). */
export const POOL_END_PATTERN = '^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$';

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

export const PoolWindowSchema = Type.Object(
  {
    days: Type.Array(StringEnum(POOL_DAYS), {
      minItems: 1,
      maxItems: 7,
      // A set: each day once (the API server refuses uniqueItems).
      'x-kubernetes-list-type': 'set',
      description: 'days (in the schedule time zone) the window starts on: Mon Tue Wed Thu Fri Sat Sun',
    } as K8sSchemaOptions),
    start: Type.String({
      pattern: POOL_TIME_PATTERN,
      description: 'local start time HH:MM (inclusive)',
    }),
    end: Type.String({
      pattern: POOL_END_PATTERN,
      description:
        'local end time HH:MM (exclusive; 24:00 is midnight at the end of the day). An end before the start is an overnight window: it ends on the next day',
    }),
    size: Type.Integer({
      minimum: 0,
      maximum: POOL_SIZE_MAX,
      description: 'warm desktops to keep while the window is open',
    }),
  },
  { description: 'a weekly window during which the pool keeps `size` warm desktops' },
);
export type PoolWindow = Static<typeof PoolWindowSchema>;

export const PoolScheduleSchema = Type.Object(
  {
    timeZone: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 64,
        pattern: '^[A-Za-z][A-Za-z0-9_+\\-]*(/[A-Za-z0-9_+\\-]+)*$',
        description: 'IANA time zone the windows are in (e.g. Europe/Berlin); UTC when unset',
      }),
    ),
    windows: Type.Array(PoolWindowSchema, {
      maxItems: POOL_WINDOWS_MAX,
      description:
        'weekly windows; inside one the pool keeps its size (the largest of overlapping windows), outside every window spec.size',
    }),
  },
  { description: 'warm desktops by time of week (e.g. working hours)' },
);
export type PoolSchedule = Static<typeof PoolScheduleSchema>;

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
    description: `warm desktops to keep started and Ready, unclaimed (0 to ${POOL_SIZE_MAX}); 0 keeps the pool and starts none. With a schedule: the size outside every window`,
  }),
  schedule: Type.Optional(PoolScheduleSchema),
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
  targetSize: Type.Optional(
    Type.Integer({
      minimum: 0,
      description: 'warm desktops the pool keeps now: spec.size, or the size of the open schedule window',
    }),
  ),
  nextChange: Type.Optional(
    Type.String({
      format: 'date-time',
      description: 'when the schedule next changes targetSize (absent without a schedule or change)',
    }),
  ),
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
export const poolSpecErrors: (spec: unknown) => string[] = schemaErrors(VDIPoolSpecSchema);
