/**
 * Platform-wide settings the renderer needs (from the operator's configuration), and their
 * validation. Nothing here is per session.
 */
import { SessionSpecError } from './errors.js';
import type { TurnServer } from './turn.js';

export interface PlatformOptions {
  /** Namespace of sessions and their children. */
  namespace: string;
  /** Sessions are served at `<session>.<baseDomain>`, each desktop an origin of its own. */
  baseDomain: string;
  publicScheme: 'http' | 'https';
  /** Port in session URLs; omit for the scheme's default. */
  publicPort?: number;
  /** forwardAuth: Traefik asks the API on every request; basicAuth: Selkies' own password per session. */
  accessMode: 'forwardAuth' | 'basicAuth';
  /** The API's forward-auth endpoint, reachable from Traefik, e.g. http://vdi-api.vdi-system.svc:4000/auth/session */
  forwardAuthUrl: string;
  /** Traefik entry points of session routes, e.g. ['websecure']. */
  entryPoints: string[];
  /**
   * TLS of session routes: `{}` serves the certificate of Traefik's default TLSStore (a wildcard
   * for `*.<baseDomain>` kept beside Traefik, out of the operator's reach), or a cert resolver.
   */
  tls?: Record<string, never> | { certResolver: string };
  /** `nvidia.com/gpu`, or `nvidia.com/gpu.shared` when the device plugin renames time-sliced GPUs. */
  gpuResourceName: 'nvidia.com/gpu' | 'nvidia.com/gpu.shared';
  /** RuntimeClass for GPU pods (K3s ships `nvidia`); omit when nvidia is the default runtime. */
  runtimeClassName?: string;
  /** StorageClass of home volumes (`local-path` on K3s); omit for the cluster default. */
  storageClassName?: string;
  /** The TURN server WebRTC desktops and browsers use (credentials come from the TURN REST endpoint). */
  turn: TurnServer;
  /** More ways to the same relay, handed out with the same credentials, e.g. TURN over TLS on 443. */
  turnAlternatives?: TurnServer[];
  /** Where WebRTC desktops fetch their TURN credentials: the operator's TURN REST endpoint. */
  turnRest: {
    /** Base URL reachable from desktop pods, e.g. http://vdi-turn-rest.vdi-system.svc.cluster.local:8444 */
    url: string;
    /** Who serves it, for the desktops' NetworkPolicy: the operator's pods, or addresses (a host process). */
    peer: { namespace: string; podLabels: Record<string, string> } | { cidrs: string[] };
  };
  /**
   * Who else may reach a desktop's port: the API, which closes the stream connections of a user
   * whose access was revoked (its pods, or addresses for a host process). Unset: only the ingress.
   */
  api?: { namespace: string; podLabels: Record<string, string> } | { cidrs: string[] };
  /** Where the ingress controller's pods run, for the sessions' NetworkPolicy. */
  ingress: { namespace: string; podLabels: Record<string, string> };
  /** Addresses of the TURN relay (coturn runs with host networking, so these are node addresses). */
  turnRelayCidrs: string[];
  /** coturn's relay ports (its --min-port/--max-port), where a WebRTC desktop sends relayed media. */
  turnRelayPorts: { min: number; max: number };
  /** The cluster's pod and Service ranges: closed to desktops even with internet egress. */
  clusterCidrs?: string[];
  /** Cluster DNS pods, for the sessions' NetworkPolicy. */
  dns: { namespace: string; podLabels: Record<string, string> };
  /** Extra CPU requested when a desktop encodes on the CPU (x264enc), e.g. '2'. */
  cpuEncoderExtraCPU: string;
  timeZone: string;
}

/** The port Selkies serves page, API and stream on in every desktop. */
export const DESKTOP_PORT = 8080;

/** Problems with the options, each naming the option; empty when valid. */
export function platformOptionErrors(o: PlatformOptions): string[] {
  const errors: string[] = [];
  const label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
  if (!label.test(o.namespace) || o.namespace.length > 63)
    errors.push(`namespace '${o.namespace}' is not a DNS-1123 label`);
  if (!/^([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)*[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(o.baseDomain)) {
    errors.push(`baseDomain '${o.baseDomain}' is not a DNS name`);
  }
  if (
    o.publicPort !== undefined &&
    (!Number.isInteger(o.publicPort) || o.publicPort < 1 || o.publicPort > 65535)
  ) {
    errors.push(`publicPort ${o.publicPort} is not a TCP port`);
  }
  if (o.accessMode === 'forwardAuth') {
    try {
      const u = new URL(o.forwardAuthUrl);
      if (u.protocol !== 'http:' && u.protocol !== 'https:')
        errors.push(`forwardAuthUrl must be http(s), not ${u.protocol}`);
    } catch {
      errors.push(`forwardAuthUrl '${o.forwardAuthUrl}' is not an absolute URL`);
    }
  }
  if (o.entryPoints.length === 0) errors.push('entryPoints must name at least one Traefik entry point');
  let restUrl: URL | undefined;
  try {
    restUrl = new URL(o.turnRest.url);
  } catch {
    errors.push(`turnRest.url '${o.turnRest.url}' is not an absolute URL`);
  }
  if (restUrl && restUrl.protocol !== 'http:' && restUrl.protocol !== 'https:')
    errors.push(`turnRest.url must be http(s), not ${restUrl.protocol}`);
  if (restUrl && (restUrl.search || restUrl.hash))
    errors.push(`turnRest.url '${o.turnRest.url}' must have no query or fragment (Selkies adds its own)`);
  if ('cidrs' in o.turnRest.peer && o.turnRest.peer.cidrs.length === 0)
    errors.push('turnRest.peer.cidrs must list where the TURN REST endpoint runs');
  const { min, max } = o.turnRelayPorts;
  if (!Number.isInteger(min) || !Number.isInteger(max) || min < 1 || max > 65535 || min > max)
    errors.push(`turnRelayPorts ${min}-${max} is not a port range within 1-65535`);
  if (o.turnRelayCidrs.length === 0)
    errors.push("turnRelayCidrs must list where the TURN relay runs (e.g. the nodes' addresses)");
  return errors;
}

/** The TCP port of the TURN REST endpoint's URL. */
export function turnRestPort(o: PlatformOptions): number {
  const u = new URL(o.turnRest.url);
  return u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : 80;
}

export function assertPlatformOptions(o: PlatformOptions): void {
  const errors = platformOptionErrors(o);
  if (errors.length > 0)
    throw new SessionSpecError('platform options', errors.join('; '), 'InvalidPlatformOptions');
}
