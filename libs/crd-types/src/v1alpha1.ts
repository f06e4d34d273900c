/**
 * `vdi.kasm.io/v1alpha1`: the VDITemplate and VDISession resources — their TypeScript types,
 * their OpenAPI v3 schemas (with CEL rules) and the condition types and reasons that the
 * operator writes and the API and portal read. The types are derived from the schemas
 * (`Static<typeof …>`), so there is one definition of each shape.
 */
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { V1ObjectMeta } from '@kubernetes/client-node';
import {
  DNS1123_SUBDOMAIN,
  Duration,
  Quantity,
  StringEnum,
  StringMap,
  schemaErrors,
  type K8sSchemaOptions,
} from './schema.js';

/** API group of every platform resource. */
export const GROUP = 'vdi.kasm.io';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}` as const;

export const KIND_SESSION = 'VDISession';
export const KIND_TEMPLATE = 'VDITemplate';
export const PLURAL_SESSION = 'vdisessions';
export const PLURAL_TEMPLATE = 'vditemplates';
/**
 * The operator's finalizer on every session: its deletion waits until the desktop's children
 * are gone. The API writes it with the session (one write fewer for the operator per start);
 * the operator adds it to a session made without it (kubectl).
 */
export const SESSION_FINALIZER = `${GROUP}/session-cleanup`;
/** `kubectl get vdi` lists both kinds. */
export const CATEGORY = 'vdi';

/** The namespace sessions live in unless configured otherwise. */
export const DEFAULT_SESSIONS_NAMESPACE = 'vdi-sessions';

/** Lifecycle phases of a session, in the order a healthy session passes them. */
export const SESSION_PHASES = [
  'Pending',
  'Scheduling',
  'Starting',
  'Running',
  'Stopped',
  'Failed',
  'Terminating',
] as const;
export type SessionPhase = (typeof SESSION_PHASES)[number];

/**
 * What the owner wants of a session (`spec.state`): `Running` (the default) keeps a desktop
 * started; `Stopped` deletes its pod and frees its GPU time-slice but keeps the session — its
 * name, URL, home volume and lifetime — until it is set back to `Running`.
 */
export const SESSION_STATES = ['Running', 'Stopped'] as const;
/** What idle culling does to a session nobody watches (a template's lifetime.idle.action). */
export const IDLE_ACTIONS = ['Stop', 'Delete'] as const;
export type IdleAction = (typeof IDLE_ACTIONS)[number];
export type SessionState = (typeof SESSION_STATES)[number];

/** True when the owner wants the session stopped (spec.state: Stopped). */
export function isStopped(session: { spec: { state?: SessionState } }): boolean {
  return session.spec.state === 'Stopped';
}

/** True for phases a session does not leave by itself. */
export function isTerminalPhase(phase: SessionPhase): boolean {
  return phase === 'Failed' || phase === 'Terminating';
}

/**
 * Selkies 2.x encoders (`SELKIES_ENCODER`) a template may ask for; `auto` lets the platform pick
 * (H.264, on NVENC when the desktop's GPU has it). `h264enc` itself uses NVENC when present.
 */
export const SELKIES_ENCODERS = [
  'h264enc',
  'h265enc',
  'vp8enc',
  'vp9enc',
  'av1enc',
  'h264enc-striped',
  'jpeg',
] as const;
export type SelkiesEncoder = (typeof SELKIES_ENCODERS)[number];
export const ENCODERS = ['auto', ...SELKIES_ENCODERS] as const;
export type Encoder = (typeof ENCODERS)[number];
/** Where a desktop encodes: on the GPU's NVENC, or on the CPU (which needs a larger CPU request). */
export const ENCODER_DEVICES = ['nvenc', 'cpu'] as const;
export type EncoderDevice = (typeof ENCODER_DEVICES)[number];

export const PERSISTENCE_MODES = ['user', 'session', 'none'] as const;
/** How a desktop streams: Selkies' websockets mode (through the ingress) or WebRTC (through TURN). */
export const STREAM_MODES = ['websockets', 'webrtc'] as const;
export type StreamMode = (typeof STREAM_MODES)[number];
export type Persistence = (typeof PERSISTENCE_MODES)[number];

/**
 * Environment variables the platform owns: a template may not set them, because they carry
 * credentials, TURN settings or GPU visibility (NVIDIA_VISIBLE_DEVICES would expose every GPU
 * of the node).
 */
export const RESERVED_ENV_PREFIXES = [
  'SELKIES_TURN_',
  'SELKIES_STUN_',
  'SELKIES_BASIC_AUTH',
  'NVIDIA_VISIBLE_DEVICES',
] as const;
export const RESERVED_ENV_NAMES = [
  'PASSWD',
  'SELKIES_ENABLE_BASIC_AUTH',
  'SELKIES_RTC_CONFIG_JSON',
  'SELKIES_ENCODER',
] as const;

// ---------------------------------------------------------------------------------------------
// Conditions

/** Condition types on a VDISession. `Ready` is the summary a client should look at. */
export const SessionConditionType = {
  TemplateResolved: 'TemplateResolved',
  ResourcesApplied: 'ResourcesApplied',
  Scheduled: 'Scheduled',
  Ready: 'Ready',
  /** True while the session is within a warning lead time of its end (its lifetime). */
  ExpiringSoon: 'ExpiringSoon',
} as const;
export type SessionConditionType = (typeof SessionConditionType)[keyof typeof SessionConditionType];

/** CamelCase reasons the operator puts on conditions (and that the portal explains in words). */
export const SessionReason = {
  TemplateFound: 'TemplateFound',
  TemplateNotFound: 'TemplateNotFound',
  TemplateInvalid: 'TemplateInvalid',
  ResourcesOutOfBounds: 'ResourcesOutOfBounds',
  /** The session's spec cannot be rendered (a field the schema could not check). */
  InvalidSpec: 'InvalidSpec',
  /** The operator's own configuration is wrong (an admin must fix its environment). */
  InvalidPlatformOptions: 'InvalidPlatformOptions',
  Applied: 'Applied',
  ApplyFailed: 'ApplyFailed',
  PodScheduled: 'PodScheduled',
  WaitingForScheduler: 'WaitingForScheduler',
  WaitingForGPU: 'WaitingForGPU',
  Unschedulable: 'Unschedulable',
  ContainersStarting: 'ContainersStarting',
  DesktopReady: 'DesktopReady',
  ImagePullFailed: 'ImagePullFailed',
  CrashLooping: 'CrashLooping',
  PodFailed: 'PodFailed',
  StartDeadlineExceeded: 'StartDeadlineExceeded',
  LifetimeEnding: 'LifetimeEnding',
  /** The owner stopped the session (spec.state: Stopped): no desktop, no time-slice, home kept. */
  Stopped: 'Stopped',
  /** The per-user home volume the session would mount is annotated for another owner. */
  HomeNotOwned: 'HomeNotOwned',
  /** The session's home is on node-local storage of a node that cannot take the desktop now. */
  WaitingForHomeNode: 'WaitingForHomeNode',
  Deleting: 'Deleting',
} as const;
export type SessionReason = (typeof SessionReason)[keyof typeof SessionReason];

export const TemplateConditionType = { Ready: 'Ready' } as const;
export const TemplateReason = { Valid: 'Valid', Invalid: 'Invalid' } as const;

export const ConditionSchema = Type.Object({
  type: Type.String({
    maxLength: 316,
    pattern:
      '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$',
  }),
  status: StringEnum(['True', 'False', 'Unknown'] as const),
  reason: Type.String({ minLength: 1, maxLength: 1024, pattern: '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$' }),
  message: Type.String({ maxLength: 32768 }),
  lastTransitionTime: Type.String({ format: 'date-time' }),
  observedGeneration: Type.Optional(Type.Integer({ minimum: 0, format: 'int64' })),
});
/** `metav1.Condition`. */
export type Condition = Static<typeof ConditionSchema>;

const conditionList = () =>
  Type.Array(ConditionSchema, {
    maxItems: 16,
    'x-kubernetes-list-type': 'map',
    'x-kubernetes-list-map-keys': ['type'],
  } as K8sSchemaOptions);

// ---------------------------------------------------------------------------------------------
// VDITemplate

const TolerationSchema = Type.Object({
  key: Type.Optional(Type.String({ maxLength: 316 })),
  operator: Type.Optional(StringEnum(['Exists', 'Equal'] as const)),
  value: Type.Optional(Type.String({ maxLength: 63 })),
  effect: Type.Optional(StringEnum(['NoSchedule', 'PreferNoSchedule', 'NoExecute'] as const)),
  tolerationSeconds: Type.Optional(Type.Integer({ format: 'int64' })),
});
export type Toleration = Static<typeof TolerationSchema>;

const positiveQuantity = (what: string) => ({
  rule: "quantity(self).isGreaterThan(quantity('0'))",
  message: `${what} must be greater than zero`,
});

/** Kubernetes rounds CPU to millicores: below 1m a request is 0, i.e. none at all. */
const cpuFloor = (what: string) => ({
  rule: "quantity(self).compareTo(quantity('1m')) >= 0",
  message: `${what} must be at least 1m (one thousandth of a CPU)`,
});

const EnvVarSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z_][A-Za-z0-9_]*$' }),
    value: Type.String({ maxLength: 4096 }),
  },
  {
    'x-kubernetes-validations': [
      {
        rule: `!(${RESERVED_ENV_PREFIXES.map((p) => `self.name.startsWith('${p}')`).join(' || ')}) && !(self.name in [${RESERVED_ENV_NAMES.map((n) => `'${n}'`).join(', ')}])`,
        messageExpression:
          "'environment variable ' + self.name + ' is set by the platform and cannot be set in a template'",
        reason: 'FieldValueForbidden',
      },
    ],
  } as K8sSchemaOptions,
);
export type EnvVar = Static<typeof EnvVarSchema>;

const TemplateResourcesSchema = Type.Object(
  {
    defaultGPU: Type.Integer({
      minimum: 0,
      maximum: 1,
      default: 0,
      description: 'GPU time-slices a session gets unless it asks: 0 or 1',
    }),
    defaultMemory: Quantity({ default: '4Gi', description: 'memory limit of a session unless it asks' }, [
      positiveQuantity('defaultMemory'),
    ]),
    defaultCPU: Quantity({ default: '2', description: 'CPU request of a session unless it asks' }, [
      cpuFloor('defaultCPU'),
    ]),
    minMemory: Type.Optional(
      Quantity({ description: 'least memory a session may ask for (what the desktop needs to run)' }, [
        positiveQuantity('minMemory'),
      ]),
    ),
    minCPU: Type.Optional(
      Quantity({ description: 'least CPU a session may ask for (what the desktop needs to run)' }, [
        cpuFloor('minCPU'),
      ]),
    ),
    maxGPU: Type.Integer({
      minimum: 0,
      maximum: 1,
      default: 1,
      description: 'most GPU time-slices a session may ask for',
    }),
    maxMemory: Type.Optional(
      Quantity({ description: 'most memory a session may ask for' }, [positiveQuantity('maxMemory')]),
    ),
    maxCPU: Type.Optional(Quantity({ description: 'most CPU a session may ask for' }, [cpuFloor('maxCPU')])),
  },
  {
    default: {},
    'x-kubernetes-validations': [
      {
        // has() guards: the API server checks the `{}` default itself before nested defaults apply.
        rule: '!has(self.defaultGPU) || !has(self.maxGPU) || self.defaultGPU <= self.maxGPU',
        message: 'defaultGPU must not exceed maxGPU',
        fieldPath: '.defaultGPU',
      },
      {
        rule: '!has(self.maxMemory) || !has(self.defaultMemory) || quantity(self.defaultMemory).compareTo(quantity(self.maxMemory)) <= 0',
        message: 'defaultMemory must not exceed maxMemory',
        fieldPath: '.defaultMemory',
      },
      {
        rule: '!has(self.maxCPU) || !has(self.defaultCPU) || quantity(self.defaultCPU).compareTo(quantity(self.maxCPU)) <= 0',
        message: 'defaultCPU must not exceed maxCPU',
        fieldPath: '.defaultCPU',
      },
      {
        rule: '!has(self.minMemory) || !has(self.defaultMemory) || quantity(self.minMemory).compareTo(quantity(self.defaultMemory)) <= 0',
        message: 'minMemory must not exceed defaultMemory',
        fieldPath: '.minMemory',
      },
      {
        rule: '!has(self.minCPU) || !has(self.defaultCPU) || quantity(self.minCPU).compareTo(quantity(self.defaultCPU)) <= 0',
        message: 'minCPU must not exceed defaultCPU',
        fieldPath: '.minCPU',
      },
    ],
  } as K8sSchemaOptions,
);

const displayFields = (withDefaults: boolean) => {
  const d = <T>(v: T) => (withDefaults ? { default: v } : {});
  return {
    width: Type.Integer({ minimum: 640, maximum: 7680, ...d(1920) }),
    height: Type.Integer({ minimum: 480, maximum: 4320, ...d(1080) }),
    framerate: Type.Integer({ minimum: 1, maximum: 120, ...d(60) }),
  };
};

const TemplateDisplaySchema = Type.Object(
  {
    ...displayFields(true),
    dpi: Type.Integer({ minimum: 72, maximum: 480, default: 96 }),
    bitrateKbps: Type.Integer({
      minimum: 500,
      maximum: 100000,
      default: 8000,
      description: 'video bitrate (SELKIES_VIDEO_BITRATE)',
    }),
  },
  { default: {} },
);

export const VDITemplateSpecSchema = Type.Object({
  displayName: Type.String({ minLength: 1, maxLength: 128 }),
  description: Type.Optional(Type.String({ maxLength: 1024 })),
  icon: Type.Optional(
    Type.String({
      maxLength: 2048,
      pattern: '^(https?://|data:image/)',
      description: 'URL of an icon for the gallery',
    }),
  ),
  image: Type.String({
    minLength: 1,
    maxLength: 512,
    pattern: '^[^\\s]+$',
    description: 'the Selkies desktop image, e.g. ghcr.io/selkies-project/nvidia-egl-desktop:24.04',
  }),
  imagePullPolicy: Type.Optional(StringEnum(['Always', 'IfNotPresent', 'Never'] as const)),
  resources: TemplateResourcesSchema,
  encoder: StringEnum(ENCODERS, { default: 'auto' }),
  display: TemplateDisplaySchema,
  lifetime: Type.Optional(
    Type.Object(
      {
        default: Type.Optional(
          Duration({ description: 'how long a session lives when it does not say (its maxLifetime)' }),
        ),
        max: Type.Optional(
          Duration({
            description:
              'the longest maxLifetime a session may ask for; also the default when no default is set',
          }),
        ),
        warnBefore: Type.Optional(
          Type.Array(Duration(), {
            maxItems: 4,
            description:
              'lead times before the end at which the owner is warned (condition ExpiringSoon, an Event each); default 15m and 2m',
          }),
        ),
        idle: Type.Optional(
          Type.Object(
            {
              default: Type.Optional(
                Duration({
                  description:
                    'how long a desktop may have no viewer before it is culled, when the session does not say (its idleTimeout)',
                }),
              ),
              max: Type.Optional(
                Duration({
                  description:
                    'the longest idleTimeout a session may ask for; also the default when no default is set',
                }),
              ),
              action: StringEnum(IDLE_ACTIONS, {
                default: 'Stop',
                description:
                  'what happens to an idle session: Stop (its desktop ends, the session and its home stay; resume it) or Delete',
              }),
            },
            {
              description:
                'idle culling: a desktop with no viewer connected (no page streaming it, as Selkies reports) for the idle timeout is stopped or deleted',
              'x-kubernetes-validations': [
                {
                  rule: '!has(self.default) || !has(self.max) || duration(self.default) <= duration(self.max)',
                  message: 'default must not be longer than max',
                },
              ],
            } as K8sSchemaOptions,
          ),
        ),
      },
      {
        description:
          'how long sessions of this template may live; the operator deletes a session when its lifetime is over',
        'x-kubernetes-validations': [
          {
            rule: '!has(self.default) || !has(self.max) || duration(self.default) <= duration(self.max)',
            message: 'default must not be longer than max',
          },
        ],
      } as K8sSchemaOptions,
    ),
  ),
  streaming: Type.Optional(
    Type.Object(
      {
        mode: StringEnum(STREAM_MODES, {
          default: 'websockets',
          description:
            'websockets: the stream rides the page’s own HTTPS connection through the ingress (no STUN/TURN); webrtc: media over WebRTC, relayed by the platform’s TURN server where no direct path exists (lower latency on lossy links; needs UDP to the relay or TURN over TLS)',
        }),
      },
      { default: {}, description: 'how the desktop streams to the browser' },
    ),
  ),
  env: Type.Optional(
    Type.Array(EnvVarSchema, {
      maxItems: 64,
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['name'],
    } as K8sSchemaOptions),
  ),
  nodeSelector: Type.Optional(StringMap({ maxProperties: 32 })),
  tolerations: Type.Optional(Type.Array(TolerationSchema, { maxItems: 16 })),
  egress: Type.Optional(
    Type.Object(
      {
        internet: Type.Boolean({
          default: false,
          description:
            "the public internet; the cluster's own, private, link-local (cloud metadata) and loopback ranges stay closed",
        }),
        cidrs: Type.Optional(
          Type.Array(
            Type.String({
              maxLength: 64,
              description: 'a destination the desktop may reach, e.g. an internal proxy (10.1.2.3/32)',
              'x-kubernetes-validations': [
                { rule: 'isCIDR(self)', message: 'must be a CIDR such as 10.1.2.3/32 or 2001:db8::/64' },
              ],
            } as K8sSchemaOptions),
            { maxItems: 32 },
          ),
        ),
      },
      {
        description:
          'where desktops of this template may connect besides DNS and the TURN relay (default: nowhere else)',
      },
    ),
  ),
  homeMountPath: Type.String({ default: '/home/ubuntu', maxLength: 256, pattern: '^(/[A-Za-z0-9._-]+)+$' }),
  homeSize: Quantity({ default: '10Gi', description: 'size of the per-user home volume' }, [
    positiveQuantity('homeSize'),
  ]),
  shmSize: Quantity(
    { default: '1Gi', description: 'size limit of /dev/shm (counts against the memory limit)' },
    [positiveQuantity('shmSize')],
  ),
  persistence: StringEnum(PERSISTENCE_MODES, {
    default: 'user',
    description:
      'user: home kept per user across sessions; session: home lives and dies with the session; none: no home volume',
  }),
  // Optional in the TypeScript type (specs built in code need not say it); the API server fills
  // in false, so a stored template always has it.
  retired: Type.Optional(
    Type.Boolean({
      default: false,
      description:
        'a retired template takes no new sessions (the API refuses them and the portal does not offer it); its existing sessions keep running and it stays readable; set back to false to restore it',
    }),
  ),
});
export type VDITemplateSpec = Static<typeof VDITemplateSpecSchema>;

/** Most node names `status.prepull.nodes` lists (the counts are always whole). */
export const PREPULL_NODES_MAX = 64;

/**
 * Where the template's image is already on the nodes its desktops can land on: the operator's
 * image puller (a DaemonSet per template) reports it. Absent while pre-pull is off for the template.
 */
export const PrepullStatusSchema = Type.Object({
  image: Type.String({ maxLength: 1024, description: 'the image these counts are for' }),
  ready: Type.Integer({ minimum: 0, description: 'eligible nodes that have the image' }),
  desired: Type.Integer({ minimum: 0, description: 'nodes the desktops of the template can land on' }),
  summary: Type.String({ maxLength: 32, description: 'ready/desired, for kubectl get' }),
  nodes: Type.Array(Type.String({ maxLength: 253 }), {
    maxItems: PREPULL_NODES_MAX,
    description: `nodes that have the image, by name (the first ${PREPULL_NODES_MAX})`,
  }),
  observedTime: Type.String({ format: 'date-time', description: 'when these counts last changed' }),
});
export type PrepullStatus = Static<typeof PrepullStatusSchema>;

export const VDITemplateStatusSchema = Type.Object({
  observedGeneration: Type.Optional(Type.Integer({ format: 'int64' })),
  ready: Type.Optional(Type.Boolean()),
  message: Type.Optional(Type.String({ maxLength: 4096 })),
  sessions: Type.Optional(Type.Integer({ minimum: 0, description: 'sessions that use this template' })),
  conditions: Type.Optional(conditionList()),
  prepull: Type.Optional(PrepullStatusSchema),
});
export type VDITemplateStatus = Static<typeof VDITemplateStatusSchema>;

export interface VDITemplate {
  apiVersion: typeof API_VERSION;
  kind: typeof KIND_TEMPLATE;
  metadata: V1ObjectMeta;
  spec: VDITemplateSpec;
  status?: VDITemplateStatus;
}

// ---------------------------------------------------------------------------------------------
// VDISession

const immutable = (what: string) => ({
  rule: 'self == oldSelf',
  message: `${what} cannot change after the session is created`,
});

/**
 * Who a session belongs to: the OIDC issuer and subject of the token that created it. A subject
 * is never reassigned by its issuer (OIDC Core §2), unlike an e-mail address, which an identity
 * provider may give to another person, or a second provider may vouch for too.
 */
export const SessionOwnerSchema = Type.Object({
  issuer: Type.String({
    minLength: 1,
    maxLength: 1024,
    pattern: '^[^\\s]+$',
    description: "the token's iss claim, e.g. https://keycloak.example.com/realms/vdi",
  }),
  subject: Type.String({
    minLength: 1,
    maxLength: 255,
    description: "the token's sub claim: the identity provider's never-reassigned id of the user",
  }),
});
export type SessionOwner = Static<typeof SessionOwnerSchema>;

export const VDISessionSpecSchema = Type.Object(
  {
    user: Type.String({
      minLength: 1,
      maxLength: 256,
      pattern: '^[^\\s]+$',
      description:
        'who the session is for, as people read it: the verified e-mail of the owner when the session was created, else the subject. Shown only: spec.owner decides who may use the session (a session without it, made before it existed, belongs to no user until an admin migrates it)',
      'x-kubernetes-validations': [immutable('user')],
    } as K8sSchemaOptions),
    owner: Type.Optional(
      Type.Object(SessionOwnerSchema.properties, {
        description:
          'the identity that owns the session, its home volume and its quota: issuer + subject. Set at creation by the API; set once later only by the admin migration of a session made before owners existed',
      }),
    ),
    template: Type.String({
      minLength: 1,
      maxLength: 253,
      pattern: DNS1123_SUBDOMAIN,
      description: 'name of the VDITemplate',
      'x-kubernetes-validations': [immutable('template')],
    } as K8sSchemaOptions),
    resources: Type.Optional(
      Type.Object({
        gpu: Type.Optional(Type.Integer({ minimum: 0, maximum: 1, description: 'GPU time-slices: 0 or 1' })),
        memory: Type.Optional(Quantity({}, [positiveQuantity('memory')])),
        cpu: Type.Optional(Quantity({}, [cpuFloor('cpu')])),
      }),
    ),
    // Any subset: what the session leaves out comes from the template.
    display: Type.Optional(Type.Partial(Type.Object(displayFields(false)))),
    maxLifetime: Type.Optional(
      Duration({
        description:
          "the session is deleted this long after creation (at most the template's lifetime.max; default: its lifetime.default)",
      }),
    ),
    idleTimeout: Type.Optional(
      Duration({
        description:
          "the session is stopped (or deleted: its template's lifetime.idle.action) after its desktop has had no viewer connected for this long (at most the template's lifetime.idle.max; default: its lifetime.idle.default)",
      }),
    ),
    state: Type.Optional(
      StringEnum(SESSION_STATES, {
        description:
          'Running (the default): the operator keeps a desktop started. Stopped: its desktop pod is deleted and its GPU time-slice freed; the session keeps its name, URL, home volume and end (expiresAt) until it is set back to Running, which starts a new desktop (through the queue when no time-slice is free; its start deadline counts from when it gets one)',
      }),
    ),
  },
  {
    'x-kubernetes-validations': [
      {
        rule: 'has(self.resources) == has(oldSelf.resources) && (!has(self.resources) || self.resources == oldSelf.resources)',
        message: 'resources cannot change after the session is created; delete it and create a new one',
        fieldPath: '.resources',
      },
      {
        // Absent → set is allowed once (the migration of a session made before owners existed).
        rule: '!has(oldSelf.owner) || (has(self.owner) && self.owner == oldSelf.owner)',
        message: 'owner cannot change or be removed once set; create a new session for another owner',
        fieldPath: '.owner',
      },
    ],
  } as K8sSchemaOptions,
);
export type VDISessionSpec = Static<typeof VDISessionSpecSchema>;

/** How a session's desktop was started (status.startPath): claimed from a warm pool, or made for it. */
export const START_PATHS = ['Pool', 'Cold'] as const;
export type StartPath = (typeof START_PATHS)[number];

export const VDISessionStatusSchema = Type.Object({
  phase: Type.Optional(StringEnum(SESSION_PHASES)),
  url: Type.Optional(Type.String({ maxLength: 2048 })),
  reason: Type.Optional(Type.String({ maxLength: 1024 })),
  message: Type.Optional(Type.String({ maxLength: 32768 })),
  observedGeneration: Type.Optional(Type.Integer({ format: 'int64' })),
  nodeName: Type.Optional(Type.String({ maxLength: 253 })),
  encoder: Type.Optional(StringEnum(SELKIES_ENCODERS)),
  encoderDevice: Type.Optional(StringEnum(ENCODER_DEVICES)),
  gpu: Type.Optional(Type.Integer({ minimum: 0, maximum: 1 })),
  homeClaim: Type.Optional(Type.String({ maxLength: 253 })),
  createdAt: Type.Optional(Type.String({ format: 'date-time' })),
  /** When the current start began waiting for a GPU time-slice (unset when it never waited). */
  queuedAt: Type.Optional(Type.String({ format: 'date-time' })),
  scheduledAt: Type.Optional(Type.String({ format: 'date-time' })),
  /** When the desktop's image was on its node (its container was created). */
  imageReadyAt: Type.Optional(Type.String({ format: 'date-time' })),
  /** When the desktop's container started. */
  startedAt: Type.Optional(Type.String({ format: 'date-time' })),
  readyAt: Type.Optional(Type.String({ format: 'date-time' })),
  /** When the session was last stopped (set while it is Stopped). */
  stoppedAt: Type.Optional(Type.String({ format: 'date-time' })),
  /** When the session last left Stopped: a new start begins here. */
  resumedAt: Type.Optional(Type.String({ format: 'date-time' })),
  /**
   * When a desktop still starting fails (StartDeadlineExceeded) unless it becomes ready. Counted
   * from when the platform could start it — its pod made and placed on a node with a free
   * time-slice — not from creation: unset while it waits in the queue for a GPU (time there never
   * counts) and once it is ready.
   */
  startDeadlineAt: Type.Optional(Type.String({ format: 'date-time' })),
  /** Pages streaming the desktop at the operator's last look (Selkies' /api/sessions). */
  viewers: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000 })),
  /** Since when the running desktop has had no viewer (unset while someone watches it). */
  idleSince: Type.Optional(Type.String({ format: 'date-time' })),
  /** When idle culling stops or deletes the session if nobody connects: idleSince + its idleTimeout. */
  idleUntil: Type.Optional(Type.String({ format: 'date-time' })),
  /** When the operator deletes the session: creation + its maxLifetime (from the session or its template). */
  expiresAt: Type.Optional(Type.String({ format: 'date-time' })),
  /** The warning lead time (lifetime.warnBefore) the owner was last warned at, e.g. 15m. */
  warnedBefore: Type.Optional(Type.String({ maxLength: 32 })),
  /** How the current desktop was started: claimed from a warm VDIPool, or made for the session. */
  startPath: Type.Optional(StringEnum(START_PATHS)),
  /**
   * The desktop pod when it is not named after the session (one claimed from a pool): its
   * password derives from this name (libs/session-spec pool.ts), so forward-auth opens it.
   */
  desktopPod: Type.Optional(Type.String({ maxLength: 253 })),
  conditions: Type.Optional(conditionList()),
});
export type VDISessionStatus = Static<typeof VDISessionStatusSchema>;

export interface VDISession {
  apiVersion: typeof API_VERSION;
  kind: typeof KIND_SESSION;
  metadata: V1ObjectMeta;
  spec: VDISessionSpec;
  status?: VDISessionStatus;
}

/** Session names become host names (`<session>.<baseDomain>`) and Service names. */
export const SESSION_NAME_MAX = 50;
export const SESSION_NAME_RULE = {
  rule: `self.metadata.name.size() <= ${SESSION_NAME_MAX} && self.metadata.name.matches('^[a-z]([-a-z0-9]*[a-z0-9])?$')`,
  message: `metadata.name: a session name must be a DNS-1035 label of at most ${SESSION_NAME_MAX} characters (a-z, 0-9 and '-', starting with a letter), because it becomes a host name`,
};

/**
 * A template spec with the schema's defaults filled in, exactly as the API server would
 * (for specs built in code, e.g. tests and the API's validation before a write).
 */
export function withTemplateDefaults(
  spec: Partial<VDITemplateSpec> & Pick<VDITemplateSpec, 'image' | 'displayName'>,
): VDITemplateSpec {
  return Value.Default(VDITemplateSpecSchema, Value.Clone(spec)) as VDITemplateSpec;
}

/** Schema errors of a template spec (after defaults), as `path: message` lines; empty when valid. */
export const templateSpecErrors: (spec: unknown) => string[] = schemaErrors(VDITemplateSpecSchema);

/** True for a template an admin retired: it takes no new sessions (its existing ones keep running). */
export function isRetired(template: { spec: { retired?: boolean } }): boolean {
  return template.spec.retired === true;
}

/** Schema errors of a session spec, as `path: message` lines; empty when valid. */
export const sessionSpecErrors: (spec: unknown) => string[] = schemaErrors(VDISessionSpecSchema);

// ---------------------------------------------------------------------------------------------
// VDIUsage: the GPU-hour ledger of one owner

export const KIND_USAGE = 'VDIUsage';
export const PLURAL_USAGE = 'vdiusages';

/** How often a GPU-hour budget renews: UTC calendar days, ISO weeks (Monday) or months. */
export const BUDGET_PERIODS = ['Day', 'Week', 'Month'] as const;
export type BudgetPeriod = (typeof BUDGET_PERIODS)[number];

/** Days a ledger keeps (a little over a year: any period's total can be summed from them). */
export const USAGE_DAYS_KEPT = 400;

export const VDIUsageSpecSchema = Type.Object({
  owner: Type.Object(SessionOwnerSchema.properties, {
    description:
      'the identity whose GPU time this ledger counts: issuer + subject (as VDISession.spec.owner)',
    'x-kubernetes-validations': [
      { rule: 'self == oldSelf', message: 'owner cannot change; a ledger belongs to one identity' },
    ],
  } as K8sSchemaOptions),
  user: Type.String({
    minLength: 1,
    maxLength: 256,
    description: 'who the owner is, as people read it (the e-mail of their latest session); shown only',
  }),
  budget: Type.Optional(
    Type.Object(
      {
        gpuHours: Type.Number({
          minimum: 0,
          maximum: 1_000_000,
          description: 'GPU time-slice hours the owner may use per period',
        }),
        period: StringEnum(BUDGET_PERIODS, { description: 'when the budget renews (UTC)' }),
        rule: Type.String({
          minLength: 1,
          maxLength: 512,
          description:
            "the API's budget rule that applied, e.g. default, role:vdi-admin, user:alice@example.com",
        }),
      },
      {
        description:
          "the budget that applied at the owner's last create or resume (written by the API from its VDI_GPU_BUDGETS rules); absent: no budget",
      },
    ),
  ),
});
export type VDIUsageSpec = Static<typeof VDIUsageSpecSchema>;

export const UsageDaySchema = Type.Object({
  day: Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'a UTC day, YYYY-MM-DD' }),
  gpuSeconds: Type.Number({ minimum: 0, description: 'time-slice seconds used that day' }),
});
export type UsageDay = Static<typeof UsageDaySchema>;

/** A desktop pod holding a GPU time-slice, and how far its time has been counted. */
export const UsageHoldingSchema = Type.Object({
  pod: Type.String({ minLength: 1, maxLength: 64, description: "the desktop pod's uid" }),
  session: Type.String({ minLength: 1, maxLength: 253 }),
  slices: Type.Integer({ minimum: 1, maximum: 8 }),
  since: Type.String({ format: 'date-time', description: 'when the pod got its time-slice (scheduled)' }),
  countedUntil: Type.String({ format: 'date-time', description: 'its time is in the ledger up to here' }),
});
export type UsageHolding = Static<typeof UsageHoldingSchema>;

export const VDIUsageStatusSchema = Type.Object({
  /** Time-slice seconds per UTC day, oldest first, the last USAGE_DAYS_KEPT days. */
  days: Type.Optional(
    Type.Array(UsageDaySchema, {
      maxItems: USAGE_DAYS_KEPT,
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['day'],
    } as K8sSchemaOptions),
  ),
  /** Every time-slice second counted since the ledger was made. */
  totalGpuSeconds: Type.Optional(Type.Number({ minimum: 0 })),
  /** Desktops holding a time-slice at the last count: the checkpoint the next count goes on from. */
  holding: Type.Optional(
    Type.Array(UsageHoldingSchema, {
      maxItems: 1000,
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['pod'],
    } as K8sSchemaOptions),
  ),
  /** When the operator last counted. */
  countedAt: Type.Optional(Type.String({ format: 'date-time' })),
  /** Start of the budget period the owner was warned in (running low), so it is said once. */
  warnedFor: Type.Optional(Type.String({ format: 'date-time' })),
});
export type VDIUsageStatus = Static<typeof VDIUsageStatusSchema>;

export interface VDIUsage {
  apiVersion: typeof API_VERSION;
  kind: typeof KIND_USAGE;
  metadata: V1ObjectMeta;
  spec: VDIUsageSpec;
  status?: VDIUsageStatus;
}
