/**
 * The effective values of a session: its template's defaults, the session's own requests, and
 * the template's bounds. Invalid combinations become a SessionSpecError naming the field.
 */
import type {
  EnvVar,
  IdleAction,
  Persistence,
  StreamMode,
  Toleration,
  VDISessionSpec,
  VDITemplateSpec,
} from '@vdi/crd-types';
import { SessionSpecError } from './errors.js';
import { defaultUserHomeClaim } from './owner.js';
import { durationSeconds } from './duration.js';
import { parseQuantity } from './quantity.js';

export interface EffectiveSession {
  image: string;
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  gpu: 0 | 1;
  memory: string;
  cpu: string;
  display: { width: number; height: number; framerate: number; dpi: number; bitrateKbps: number };
  persistence: Persistence;
  homeMountPath: string;
  homeSize: string;
  shmSize: string;
  env: EnvVar[];
  nodeSelector: Record<string, string>;
  tolerations: Toleration[];
  /** Where the desktop may connect besides DNS (and, for WebRTC, TURN): the template's `egress`. */
  egress: { internet: boolean; cidrs: string[] };
  /** websockets (through the ingress only) or webrtc (media through the TURN relay). */
  streamMode: StreamMode;
  /** Seconds after creation the session is deleted; undefined: it lives until deleted. */
  maxLifetimeSeconds?: number;
  /** Seconds a running desktop may have no viewer before idleAction; undefined: never culled. */
  idleTimeoutSeconds?: number;
  /** What idle culling does: stop the session (the default) or delete it. */
  idleAction: IdleAction;
  /**
   * The claim of the owner's home when persistence is `user`: defaultUserHomeClaim of the spec;
   * renderSession replaces it with what the operator found in the cluster (userHomeClaimName).
   */
  userHomeClaim: string;
}

function quantity(field: string, q: string): number {
  try {
    return parseQuantity(q);
  } catch (err) {
    throw new SessionSpecError(field, (err as Error).message);
  }
}

/**
 * The session's lifetime: its own maxLifetime, up to the template's lifetime.max; without one,
 * the template's default, else its max (a bound is a lifetime); undefined when neither bounds it.
 */
function maxLifetime(session: VDISessionSpec, template: VDITemplateSpec): number | undefined {
  const l = template.lifetime;
  const max = l?.max ? durationSeconds(l.max, 'template.spec.lifetime.max') : undefined;
  if (session.maxLifetime) {
    const asked = durationSeconds(session.maxLifetime, 'spec.maxLifetime');
    if (max !== undefined && asked > max) {
      throw new SessionSpecError(
        'spec.maxLifetime',
        `${session.maxLifetime} is longer than the template allows (lifetime.max ${l!.max}); ask for ${l!.max} or less`,
        'ResourcesOutOfBounds',
      );
    }
    return asked;
  }
  if (l?.default)
    return Math.min(durationSeconds(l.default, 'template.spec.lifetime.default'), max ?? Infinity);
  return max;
}

/**
 * The session's idle timeout: its own idleTimeout, up to the template's lifetime.idle.max; without
 * one, the template's idle default, else its max; undefined when the template culls nothing.
 */
function idleTimeout(session: VDISessionSpec, template: VDITemplateSpec): number | undefined {
  const i = template.lifetime?.idle;
  const max = i?.max ? durationSeconds(i.max, 'template.spec.lifetime.idle.max') : undefined;
  if (session.idleTimeout) {
    const asked = durationSeconds(session.idleTimeout, 'spec.idleTimeout');
    if (max !== undefined && asked > max) {
      throw new SessionSpecError(
        'spec.idleTimeout',
        `${session.idleTimeout} is longer than the template allows (lifetime.idle.max ${i!.max}); ask for ${i!.max} or less`,
        'ResourcesOutOfBounds',
      );
    }
    return asked;
  }
  if (i?.default)
    return Math.min(durationSeconds(i.default, 'template.spec.lifetime.idle.default'), max ?? Infinity);
  return max;
}

/** Resolves what the session gets; throws SessionSpecError when it asks for more than allowed. */
export function resolveSession(session: VDISessionSpec, template: VDITemplateSpec): EffectiveSession {
  const lifetime = maxLifetime(session, template);
  const idle = idleTimeout(session, template);
  const t = template.resources;
  const gpu = session.resources?.gpu ?? t.defaultGPU;
  if (gpu !== 0 && gpu !== 1) {
    throw new SessionSpecError('spec.resources.gpu', `must be 0 or 1 GPU time-slice, not ${gpu}`);
  }
  if (gpu > t.maxGPU) {
    throw new SessionSpecError(
      'spec.resources.gpu',
      'the template allows no GPU; ask for gpu: 0 or pick a GPU template',
      'ResourcesOutOfBounds',
    );
  }
  const memory = session.resources?.memory ?? t.defaultMemory;
  const cpu = session.resources?.cpu ?? t.defaultCPU;
  const memBytes = quantity(
    session.resources?.memory ? 'spec.resources.memory' : 'template.spec.resources.defaultMemory',
    memory,
  );
  const cpuCores = quantity(
    session.resources?.cpu ? 'spec.resources.cpu' : 'template.spec.resources.defaultCPU',
    cpu,
  );
  if (memBytes <= 0)
    throw new SessionSpecError('spec.resources.memory', `must be greater than zero, not ${memory}`);
  // Kubernetes rounds CPU to millicores: below 1m a request becomes 0, i.e. no request at all.
  if (cpuCores < 0.001)
    throw new SessionSpecError(
      'spec.resources.cpu',
      `must be at least 1m (one thousandth of a CPU), not ${cpu}`,
    );
  if (t.minMemory && memBytes < quantity('template.spec.resources.minMemory', t.minMemory)) {
    throw new SessionSpecError(
      'spec.resources.memory',
      `${memory} is less than the template needs (${t.minMemory})`,
      'ResourcesOutOfBounds',
    );
  }
  if (t.minCPU && cpuCores < quantity('template.spec.resources.minCPU', t.minCPU)) {
    throw new SessionSpecError(
      'spec.resources.cpu',
      `${cpu} is less than the template needs (${t.minCPU})`,
      'ResourcesOutOfBounds',
    );
  }
  if (t.maxMemory && memBytes > quantity('template.spec.resources.maxMemory', t.maxMemory)) {
    throw new SessionSpecError(
      'spec.resources.memory',
      `${memory} is more than the template allows (${t.maxMemory})`,
      'ResourcesOutOfBounds',
    );
  }
  if (t.maxCPU && cpuCores > quantity('template.spec.resources.maxCPU', t.maxCPU)) {
    throw new SessionSpecError(
      'spec.resources.cpu',
      `${cpu} is more than the template allows (${t.maxCPU})`,
      'ResourcesOutOfBounds',
    );
  }
  // /dev/shm is memory-backed and counts against the memory limit: it must leave room for the desktop.
  if (quantity('template.spec.shmSize', template.shmSize) >= memBytes) {
    throw new SessionSpecError(
      'spec.resources.memory',
      `${memory} leaves no room beside /dev/shm (${template.shmSize}, which counts against the memory limit); ask for more memory`,
      'ResourcesOutOfBounds',
    );
  }
  const d = template.display;
  const s: Partial<EffectiveSession['display']> = session.display ?? {};
  return {
    image: template.image,
    ...(template.imagePullPolicy ? { imagePullPolicy: template.imagePullPolicy } : {}),
    gpu,
    memory,
    cpu,
    display: {
      width: s.width ?? d.width,
      height: s.height ?? d.height,
      framerate: s.framerate ?? d.framerate,
      dpi: d.dpi,
      bitrateKbps: d.bitrateKbps,
    },
    persistence: template.persistence,
    homeMountPath: template.homeMountPath,
    homeSize: template.homeSize,
    shmSize: template.shmSize,
    env: template.env ?? [],
    nodeSelector: template.nodeSelector ?? {},
    tolerations: template.tolerations ?? [],
    egress: { internet: template.egress?.internet ?? false, cidrs: [...(template.egress?.cidrs ?? [])] },
    streamMode: template.streaming?.mode ?? 'websockets',
    ...(lifetime !== undefined ? { maxLifetimeSeconds: lifetime } : {}),
    ...(idle !== undefined ? { idleTimeoutSeconds: idle } : {}),
    idleAction: template.lifetime?.idle?.action ?? 'Stop',
    userHomeClaim: defaultUserHomeClaim(session),
  };
}
