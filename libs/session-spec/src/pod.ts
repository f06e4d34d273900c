/**
 * The desktop pod: one Selkies 2.x container (page, API and stream on one port), under
 * Pod Security `restricted`: non-root, no privilege escalation, no capabilities, RuntimeDefault
 * seccomp, read-only root filesystem with writable mounts where the image writes, and no
 * service-account token. Nothing in it opens another desktop: its password is its own, and the
 * TURN shared secret never appears here.
 */
import type {
  V1Container,
  V1EnvVar,
  V1NodeAffinity,
  V1Pod,
  V1PodSpec,
  V1Toleration,
  V1Volume,
  V1VolumeMount,
} from '@kubernetes/client-node';
import type { Toleration, VDISession } from '@vdi/crd-types';
import type { EncoderPlan } from './encoder.js';
import { childMeta } from './labels.js';
import { childNames } from './names.js';
import { DESKTOP_PORT, type PlatformOptions } from './options.js';
import { DESKTOP_BASIC_AUTH_USER, TURN_REST_KEY } from './secrets.js';
import { SELKIES_VIEWONLY_PASSWORD_ENV, VIEWONLY_PASSWORD_KEY } from './share.js';
import { turnRestUri } from './turn-rest.js';
import { cpuMillis } from './quantity.js';
import type { EffectiveSession } from './resolve.js';

/** The uid/gid of the desktop user of the platform's image (images/desktop). */
export const DESKTOP_UID = 1000;
/** Selkies' runtime folder (sockets, the sound server): memory-backed, private to the pod. */
export const DESKTOP_RUNTIME_DIR = `/run/user/${DESKTOP_UID}`;

/**
 * Writable folders Selkies 2.x writes besides the home on a read-only root filesystem (CONTRACTS.md):
 * /tmp (X11 sockets, the dbus socket; Selkies' stock image also copies its ~11 MB web client under
 * TMPDIR at every start, which the platform's image avoids with SELKIES_WEB_ROOT) and
 * XDG_RUNTIME_DIR. /dev/shm is separate (its size follows the template).
 */
const SCRATCH_DIRS: { name: string; path: string; emptyDir: V1Volume['emptyDir'] }[] = [
  { name: 'tmp', path: '/tmp', emptyDir: { sizeLimit: '1Gi' } },
  { name: 'runtime', path: DESKTOP_RUNTIME_DIR, emptyDir: { medium: 'Memory', sizeLimit: '64Mi' } },
];

function env(name: string, value: string): V1EnvVar {
  return { name, value };
}

function secretEnv(name: string, secret: string, key: string): V1EnvVar {
  return { name, valueFrom: { secretKeyRef: { name: secret, key } } };
}

/** Selkies 2.x settings of a desktop (every one decided explicitly: its defaults suit a laptop). */
function desktopEnv(
  session: VDISession,
  eff: EffectiveSession,
  plan: EncoderPlan,
  o: PlatformOptions,
): V1EnvVar[] {
  const names = childNames(session.metadata.name!);
  const out: V1EnvVar[] = [
    env('TZ', o.timeZone),
    env('HOME', eff.homeMountPath),
    env('XDG_RUNTIME_DIR', DESKTOP_RUNTIME_DIR),
    // Listen on the pod's address (the default is localhost), one port for page, API and websockets.
    env('SELKIES_PUBLIC', 'true'),
    env('SELKIES_PORT', String(DESKTOP_PORT)),
    // The template's mode; the page may not switch to the other by itself.
    env('SELKIES_MODE', eff.streamMode),
    env('SELKIES_ENABLE_DUAL_MODE', 'false'),
    env('SELKIES_ENCODER', plan.encoder),
    env('SELKIES_USE_CPU', plan.device === 'cpu' ? 'true' : 'false'),
    env('SELKIES_FRAMERATE', String(eff.display.framerate)),
    env('SELKIES_VIDEO_BITRATE', String(eff.display.bitrateKbps)),
    env('SELKIES_MANUAL_WIDTH', String(eff.display.width)),
    env('SELKIES_MANUAL_HEIGHT', String(eff.display.height)),
    env('SELKIES_SCALING_DPI', String(eff.display.dpi)),
    env('SELKIES_ENABLE_RESIZE', 'false'),
    // Sharing links and extra viewers would bypass the platform's access control.
    env('SELKIES_ENABLE_SHARING', 'false'),
    // The second lock: forward-auth admits a request and hands Traefik this session's password
    // (Authorization), so reaching the pod's port directly is not enough to get in.
    env('SELKIES_ENABLE_BASIC_AUTH', 'true'),
    env('SELKIES_BASIC_AUTH_USER', DESKTOP_BASIC_AUTH_USER),
    secretEnv('SELKIES_BASIC_AUTH_PASSWORD', names.authSecret, 'password'),
    // A `view` grantee's password (VDIShare): Selkies caps its connections at the viewer role on
    // the server. Optional: a Secret written before shares has no such key.
    {
      name: SELKIES_VIEWONLY_PASSWORD_ENV,
      valueFrom: { secretKeyRef: { name: names.authSecret, key: VIEWONLY_PASSWORD_KEY, optional: true } },
    },
  ];
  if (eff.streamMode === 'webrtc') out.push(...webrtcEnv(session, o));
  if (eff.gpu === 1) out.push(env('NVIDIA_DRIVER_CAPABILITIES', 'all'));
  for (const e of eff.env) out.push(env(e.name, e.value));
  return out;
}

/**
 * WebRTC: TURN credentials come from the platform's TURN REST endpoint, fetched with this
 * session's key (its own only). Should that fail, Selkies falls back to HMAC credentials from its
 * built-in public secret for its TURN host, and to its STUN host, whose defaults are a public relay
 * and Google's STUN server: both hosts are pointed at the platform's relay, which refuses such
 * credentials, so a fallback leaks nothing and relays nothing. The image's entrypoint waits for the
 * endpoint to answer before Selkies starts (images/desktop/entrypoint.sh).
 */
function webrtcEnv(session: VDISession, o: PlatformOptions): V1EnvVar[] {
  const names = childNames(session.metadata.name!);
  return [
    env('SELKIES_TURN_REST_URI', turnRestUri(session, o)),
    secretEnv('SELKIES_TURN_REST_API_KEY', names.authSecret, TURN_REST_KEY),
    env('SELKIES_TURN_REST_USERNAME', session.metadata.name!),
    env('SELKIES_TURN_PROTOCOL', o.turn.protocol),
    env('SELKIES_TURN_TLS', o.turn.tls ? 'true' : 'false'),
    env('SELKIES_TURN_HOST', o.turn.host),
    env('SELKIES_TURN_PORT', String(o.turn.port)),
    env('SELKIES_STUN_HOST', o.turn.stunHost ?? o.turn.host),
    env('SELKIES_STUN_PORT', String(o.turn.stunPort ?? o.turn.port)),
  ];
}

function gpuAffinity(gpuProducts: readonly string[] | undefined): V1NodeAffinity {
  const expressions = [{ key: 'nvidia.com/gpu.sharing-strategy', operator: 'In', values: ['time-slicing'] }];
  if (gpuProducts)
    expressions.push({ key: 'nvidia.com/gpu.product', operator: 'In', values: [...gpuProducts] });
  return {
    requiredDuringSchedulingIgnoredDuringExecution: {
      nodeSelectorTerms: [{ matchExpressions: expressions }],
    },
  };
}

/** Where a desktop may run: what of a session decides it. */
export interface DesktopPlacementInput {
  gpu: 0 | 1;
  nodeSelector: Record<string, string>;
  tolerations: readonly Toleration[];
  /** The GPU products an NVENC plan narrows a GPU desktop to (EncoderPlan.gpuProducts). */
  gpuProducts?: readonly string[] | undefined;
}

/**
 * The scheduling fields of a desktop pod: the template's node selector and tolerations, and for a
 * GPU desktop the GPU taint's toleration and a node affinity to time-sliced GPUs (of the plan's
 * products, when it has them). The one definition of placement: the desktop pod and the template's
 * image puller (prepull.ts) both take it from here, so a puller lands exactly where desktops can.
 */
export function desktopPlacement(
  p: DesktopPlacementInput,
): Pick<V1PodSpec, 'nodeSelector' | 'affinity' | 'tolerations'> {
  const tolerations: V1Toleration[] = [
    ...(p.gpu === 1 ? [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }] : []),
    ...p.tolerations.map((t) => ({ ...t })),
  ];
  return {
    ...(Object.keys(p.nodeSelector).length > 0 ? { nodeSelector: { ...p.nodeSelector } } : {}),
    ...(p.gpu === 1 ? { affinity: { nodeAffinity: gpuAffinity(p.gpuProducts) } } : {}),
    ...(tolerations.length > 0 ? { tolerations } : {}),
  };
}

/** The pod's CPU request: the session's, plus headroom when the desktop encodes on the CPU. */
export function cpuRequestMillis(eff: EffectiveSession, plan: EncoderPlan, o: PlatformOptions): number {
  const base = cpuMillis(eff.cpu);
  return plan.device === 'nvenc' ? base : base + cpuMillis(o.cpuEncoderExtraCPU);
}

export function desktopPod(
  session: VDISession,
  eff: EffectiveSession,
  plan: EncoderPlan,
  o: PlatformOptions,
): V1Pod {
  const name = session.metadata.name!;
  const names = childNames(name);
  const cpu = cpuRequestMillis(eff, plan, o);
  const limits: Record<string, string> = { memory: eff.memory, cpu: `${cpu * 2}m` };
  if (eff.gpu === 1) limits[o.gpuResourceName] = '1';

  const homeVolume: V1Volume =
    eff.persistence === 'none'
      ? { name: 'home', emptyDir: { sizeLimit: eff.homeSize } }
      : {
          name: 'home',
          persistentVolumeClaim: {
            claimName: eff.persistence === 'user' ? eff.userHomeClaim : names.sessionHome,
          },
        };
  const volumes: V1Volume[] = [
    homeVolume,
    // Shared memory for the X server and the capture; memory-backed, so bounded.
    { name: 'dshm', emptyDir: { medium: 'Memory', sizeLimit: eff.shmSize } },
    ...SCRATCH_DIRS.map((d) => ({ name: d.name, emptyDir: { ...d.emptyDir } })),
  ];
  const mounts: V1VolumeMount[] = [
    { name: 'home', mountPath: eff.homeMountPath },
    { name: 'dshm', mountPath: '/dev/shm' },
    ...SCRATCH_DIRS.map((d) => ({ name: d.name, mountPath: d.path })),
  ];

  const container: V1Container = {
    name: 'desktop',
    image: eff.image,
    ...(eff.imagePullPolicy ? { imagePullPolicy: eff.imagePullPolicy } : {}),
    ports: [{ name: 'http', containerPort: DESKTOP_PORT, protocol: 'TCP' }],
    env: desktopEnv(session, eff, plan, o),
    resources: { requests: { memory: eff.memory, cpu: `${cpu}m` }, limits },
    volumeMounts: mounts,
    readinessProbe: {
      // Selkies' own health endpoint (no auth); probed every second so a desktop is Ready soon
      // after it can serve (it answers 1–2 s after start).
      httpGet: { path: '/api/health', port: 'http' },
      periodSeconds: 1,
      failureThreshold: 3,
    },
    livenessProbe: {
      tcpSocket: { port: 'http' },
      initialDelaySeconds: 30,
      periodSeconds: 20,
      failureThreshold: 6,
    },
    securityContext: {
      allowPrivilegeEscalation: false,
      privileged: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
    },
  };

  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: childMeta(session, names.pod, o.namespace, 'desktop'),
    spec: {
      ...(eff.gpu === 1 && o.runtimeClassName ? { runtimeClassName: o.runtimeClassName } : {}),
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 15,
      securityContext: {
        runAsNonRoot: true,
        runAsUser: DESKTOP_UID,
        runAsGroup: DESKTOP_UID,
        fsGroup: DESKTOP_UID,
        seccompProfile: { type: 'RuntimeDefault' },
      },
      ...desktopPlacement({ ...eff, gpuProducts: plan.gpuProducts }),
      containers: [container],
      volumes,
    },
  };
}
