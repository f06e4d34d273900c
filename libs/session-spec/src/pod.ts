/**
 * The desktop pod: one Selkies-GStreamer container (nginx on 8080 in front of Selkies), under
 * Pod Security `restricted`: non-root, no privilege escalation, no capabilities, RuntimeDefault
 * seccomp, read-only root filesystem with writable mounts where the image writes, and no
 * service-account token. The TURN shared secret never appears here: the pod gets time-limited
 * credentials in a Secret volume.
 */
import type {
  V1Container,
  V1EnvVar,
  V1NodeAffinity,
  V1Pod,
  V1Toleration,
  V1Volume,
  V1VolumeMount,
} from '@kubernetes/client-node';
import type { VDISession } from '@vdi/crd-types';
import type { EncoderPlan } from './encoder.js';
import { childMeta } from './labels.js';
import { childNames, homePvcName } from './names.js';
import { DESKTOP_PORT, type PlatformOptions } from './options.js';
import { cpuMillis } from './quantity.js';
import type { EffectiveSession } from './resolve.js';

/** Where the TURN Secret is mounted (a directory, not subPath, so rotated credentials reach the pod). */
export const TURN_MOUNT_DIR = '/etc/vdi/turn';
export const RTC_CONFIG_FILE = `${TURN_MOUNT_DIR}/rtc.json`;
/** The uid/gid of the `ubuntu` user of the Selkies desktop images. */
export const DESKTOP_UID = 1000;

/** Writable folders the Selkies desktop image needs on a read-only root filesystem (CONTRACTS.md). */
const SCRATCH_DIRS: { name: string; path: string }[] = [
  { name: 'tmp', path: '/tmp' },
  { name: 'run', path: '/run' },
  { name: 'cache', path: '/cache' },
  { name: 'var-log', path: '/var/log' },
  { name: 'nginx-lib', path: '/var/lib/nginx' },
  { name: 'nginx-sites', path: '/etc/nginx/sites-available' },
];

function env(name: string, value: string): V1EnvVar {
  return { name, value };
}

function secretEnv(name: string, secret: string, key: string): V1EnvVar {
  return { name, valueFrom: { secretKeyRef: { name: secret, key } } };
}

function desktopEnv(
  session: VDISession,
  eff: EffectiveSession,
  plan: EncoderPlan,
  o: PlatformOptions,
): V1EnvVar[] {
  const names = childNames(session.metadata.name!);
  const basic = o.accessMode === 'basicAuth';
  const out: V1EnvVar[] = [
    env('TZ', o.timeZone),
    env('DISPLAY_SIZEW', String(eff.display.width)),
    env('DISPLAY_SIZEH', String(eff.display.height)),
    env('DISPLAY_REFRESH', String(eff.display.framerate)),
    env('DISPLAY_DPI', String(eff.display.dpi)),
    env('SELKIES_ENCODER', plan.encoder),
    env('SELKIES_FRAMERATE', String(eff.display.framerate)),
    env('SELKIES_VIDEO_BITRATE', String(eff.display.bitrateKbps)),
    env('SELKIES_ENABLE_RESIZE', 'false'),
    // Selkies defaults to basic auth with a well-known password: always decide explicitly.
    env('SELKIES_ENABLE_BASIC_AUTH', basic ? 'true' : 'false'),
    ...(basic ? [secretEnv('SELKIES_BASIC_AUTH_PASSWORD', names.authSecret, 'password')] : []),
    // The desktop user's own password (sudo, lock screen): random per session, never the image default.
    secretEnv('PASSWD', names.authSecret, 'password'),
    // Without TURN settings the image starts its own TURN and looks up a public IP; the defaults
    // point at public servers. The RTC config file wins over the variables below.
    env('SELKIES_RTC_CONFIG_JSON', RTC_CONFIG_FILE),
    env('SELKIES_TURN_HOST', o.turn.host),
    env('SELKIES_TURN_PORT', String(o.turn.port)),
    env('SELKIES_TURN_PROTOCOL', o.turn.protocol),
    env('SELKIES_STUN_HOST', o.turn.stunHost ?? o.turn.host),
    env('SELKIES_STUN_PORT', String(o.turn.stunPort ?? o.turn.port)),
  ];
  if (eff.gpu === 1) out.push(env('NVIDIA_DRIVER_CAPABILITIES', 'all'));
  for (const e of eff.env) out.push(env(e.name, e.value));
  return out;
}

function gpuAffinity(plan: EncoderPlan): V1NodeAffinity {
  const expressions = [{ key: 'nvidia.com/gpu.sharing-strategy', operator: 'In', values: ['time-slicing'] }];
  if (plan.gpuProducts)
    expressions.push({ key: 'nvidia.com/gpu.product', operator: 'In', values: [...plan.gpuProducts] });
  return {
    requiredDuringSchedulingIgnoredDuringExecution: {
      nodeSelectorTerms: [{ matchExpressions: expressions }],
    },
  };
}

/** The pod's CPU request: the session's, plus headroom when the desktop encodes on the CPU. */
export function cpuRequestMillis(eff: EffectiveSession, plan: EncoderPlan, o: PlatformOptions): number {
  const base = cpuMillis(eff.cpu);
  return plan.encoder === 'nvh264enc' ? base : base + cpuMillis(o.cpuEncoderExtraCPU);
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
            claimName: eff.persistence === 'user' ? homePvcName(session.spec.user) : names.sessionHome,
          },
        };
  const volumes: V1Volume[] = [
    homeVolume,
    // Shared memory for the X server and GStreamer; memory-backed, so bounded.
    { name: 'dshm', emptyDir: { medium: 'Memory', sizeLimit: eff.shmSize } },
    { name: 'turn', secret: { secretName: names.turnSecret, defaultMode: 0o440 } },
    ...SCRATCH_DIRS.map((d) => ({ name: d.name, emptyDir: {} })),
  ];
  const mounts: V1VolumeMount[] = [
    { name: 'home', mountPath: eff.homeMountPath },
    { name: 'dshm', mountPath: '/dev/shm' },
    { name: 'turn', mountPath: TURN_MOUNT_DIR, readOnly: true },
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
      httpGet: { path: '/health', port: 'http' },
      initialDelaySeconds: 2,
      periodSeconds: 5,
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

  const tolerations: V1Toleration[] = [
    ...(eff.gpu === 1 ? [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }] : []),
    ...eff.tolerations.map((t) => ({ ...t })),
  ];

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
      ...(Object.keys(eff.nodeSelector).length > 0 ? { nodeSelector: { ...eff.nodeSelector } } : {}),
      ...(eff.gpu === 1 ? { affinity: { nodeAffinity: gpuAffinity(plan) } } : {}),
      ...(tolerations.length > 0 ? { tolerations } : {}),
      containers: [container],
      volumes,
    },
  };
}
