/**
 * Traefik's static configuration for the local access path (pure): one `web` entrypoint for the
 * desktops, a loopback-only `traefik` entrypoint for ping and the API, the `kubernetesCRD`
 * provider against the local API server with a ServiceAccount token, JSON logs to files.
 */
import { stringify } from 'yaml';

/**
 * Traefik's default `respondingTimeouts.readTimeout` since v2.11.2/v3.0 (60 s, the constant
 * `DefaultReadTimeout` of pkg/config/static in v3.6.15). It bounds reading a *request*
 * (headers and body). It does not end websockets: net/http clears a connection's deadlines when
 * a handler hijacks it (`conn.hijackLocked` calls `SetDeadline(time.Time{})`), and Traefik's
 * proxy hijacks the client connection for every protocol upgrade. The integration test holds a
 * websocket open beyond it to prove that on the real binary.
 */
export const TRAEFIK_DEFAULT_READ_TIMEOUT_S = 60;

/**
 * How long Traefik waits after applying a configuration before it takes the next one
 * (`providers.providersThrottleDuration`; Traefik's default is 2 s). A claimed warm desktop's route
 * is written at the claim, right after the claim's own changes (pod labels, so its endpoints)
 * reloaded Traefik: with the default, the route waited up to 2 s while the user's page was already
 * on its way. 250 ms keeps a burst of route writes at four reloads a second at most.
 * Production sets the same on K3s' Traefik (deploy/README.md).
 */
export const TRAEFIK_PROVIDERS_THROTTLE = '250ms';

export interface TraefikStaticConfigInput {
  /** `host:port` of the `web` entrypoint (the desktops' routes). */
  webAddress: string;
  /** `host:port` of the `traefik` entrypoint (ping and the read-only API); keep it on loopback. */
  adminAddress: string;
  /** The API server, e.g. https://127.0.0.1:6443. */
  endpoint: string;
  /** File holding the ServiceAccount token (Traefik reads it once, at start). */
  tokenFile: string;
  /** The API server's CA certificate. */
  caFile: string;
  /** Traefik's own log (JSON lines). */
  logFile: string;
  /** Access log (JSON lines, one per request). */
  accessLogFile: string;
  /** Namespaces to watch; all when empty or absent. */
  namespaces?: string[];
  logLevel?: 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  /**
   * Seconds for `respondingTimeouts.readTimeout`. Default: Traefik's own default (60), written
   * out so that what runs locally is what K3s runs and the websocket test proves that default.
   */
  readTimeoutSeconds?: number;
  /** Dynamic configuration file (file provider) with routes to processes on this host. */
  dynamicFile?: string;
  /** `host:port` of a TLS `websecure` entrypoint (K3s's name), when wanted. */
  websecureAddress?: string;
}

/** The file provider's TLS part: the default TLSStore's certificate, as a PEM pair. */
export function defaultCertificateConfig(c: { certFile: string; keyFile: string }): Record<string, unknown> {
  return {
    tls: { stores: { default: { defaultCertificate: { certFile: c.certFile, keyFile: c.keyFile } } } },
  };
}

/** A route to a process on this host (the portal, the API), served beside the cluster's routes. */
export interface HostRoute {
  /** Router and service name, e.g. `portal`. */
  name: string;
  /** Traefik rule, e.g. Host(`vdi.localhost`) && PathPrefix(`/graphql`). */
  rule: string;
  /** Where the process listens, e.g. http://127.0.0.1:4000. */
  url: string;
  /** Higher wins among matching rules (Traefik's default is the rule's length). */
  priority?: number;
  /** Send every request of this route to this path of the service (a `replacePath` middleware). */
  replacePath?: string;
}

/** The file provider's dynamic configuration for `routes` (pure). */
export function hostRoutesConfig(routes: HostRoute[]): Record<string, unknown> {
  const routers: Record<string, unknown> = {};
  const services: Record<string, unknown> = {};
  const middlewares: Record<string, unknown> = {};
  for (const r of routes) {
    if (!/^[a-z][a-z0-9-]*$/.test(r.name)) throw new Error(`host route name '${r.name}' must be a DNS label`);
    new URL(r.url); // throws on a bad URL
    routers[r.name] = {
      entryPoints: ['web'],
      rule: r.rule,
      service: r.name,
      ...(r.priority !== undefined ? { priority: r.priority } : {}),
      ...(r.replacePath ? { middlewares: [`${r.name}-path`] } : {}),
    };
    services[r.name] = { loadBalancer: { servers: [{ url: r.url }] } };
    if (r.replacePath) middlewares[`${r.name}-path`] = { replacePath: { path: r.replacePath } };
  }
  return { http: { routers, services, ...(Object.keys(middlewares).length ? { middlewares } : {}) } };
}

/** The static configuration as an object (what `traefikStaticConfigYaml` writes). */
export function traefikStaticConfig(i: TraefikStaticConfigInput): Record<string, unknown> {
  const readTimeout = i.readTimeoutSeconds ?? TRAEFIK_DEFAULT_READ_TIMEOUT_S;
  if (!Number.isFinite(readTimeout) || readTimeout < 0) {
    throw new Error(`readTimeoutSeconds must be a number ≥ 0 (0 = none), not ${readTimeout}`);
  }
  return {
    // Nothing leaves the machine: no version check, no usage statistics.
    global: { checkNewVersion: false, sendAnonymousUsage: false },
    entryPoints: {
      web: {
        address: i.webAddress,
        transport: {
          respondingTimeouts: {
            // Bounds slow requests (slowloris); websockets are hijacked and not subject to it.
            readTimeout: `${readTimeout}s`,
            // Traefik's defaults, stated: no write timeout (a desktop stream is one long
            // response for SSE/long polling), keep-alive connections idle at most 180 s.
            writeTimeout: '0s',
            idleTimeout: '180s',
          },
        },
      },
      traefik: { address: i.adminAddress },
      ...(i.websecureAddress ? { websecure: { address: i.websecureAddress } } : {}),
    },
    ping: { entryPoint: 'traefik' },
    // The read-only API on the loopback admin entrypoint: lets tools see which routers exist.
    api: { insecure: true, dashboard: false },
    providers: {
      providersThrottleDuration: TRAEFIK_PROVIDERS_THROTTLE,
      kubernetesCRD: {
        endpoint: i.endpoint,
        token: i.tokenFile,
        certAuthFilePath: i.caFile,
        ...(i.namespaces && i.namespaces.length > 0 ? { namespaces: [...i.namespaces] } : {}),
        // As K3s: middlewares live in the session's namespace (libs/session-spec renders them there).
        allowCrossNamespace: false,
        // Nodes are only needed for IngressClasses/NodePortLB; not watching them keeps the
        // ClusterRole smaller.
        disableClusterScopeResources: true,
      },
      ...(i.dynamicFile ? { file: { filename: i.dynamicFile, watch: false } } : {}),
    },
    log: { level: i.logLevel ?? 'INFO', format: 'json', filePath: i.logFile, noColor: true },
    accessLog: {
      format: 'json',
      filePath: i.accessLogFile,
      // Access logs keep the user the forward-auth named, and no other request header.
      fields: { headers: { defaultMode: 'drop', names: { 'X-Forwarded-User': 'keep' } } },
    },
  };
}

export function traefikStaticConfigYaml(i: TraefikStaticConfigInput): string {
  return (
    '# Generated by tools/access (startTraefik); rewritten at every start.\n' +
    stringify(traefikStaticConfig(i), { lineWidth: 0 })
  );
}

/**
 * The environment Traefik runs with: the caller's, minus what would make Traefik's Kubernetes
 * client ignore the configured endpoint and token (`KUBERNETES_SERVICE_HOST/PORT` switch it to
 * in-cluster mode, `KUBECONFIG` to that file's credentials).
 */
export function traefikEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(env)) {
    if (k === 'KUBECONFIG' || k.startsWith('KUBERNETES_SERVICE_') || k.startsWith('TRAEFIK_')) continue;
    out[k] = v;
  }
  return out;
}

/** The host of the readiness route (never a session: session names are DNS-1035 labels without dots). */
export const READINESS_HOST = 'traefik-ready.vdi.localhost';
export const READINESS_ROUTE_NAME = 'vdi-local-traefik-ready';

/**
 * An IngressRoute Traefik must pick up before it counts as ready: seeing it as a router in
 * Traefik's API proves the kubernetesCRD provider listed and watched everything it needs
 * (with a missing permission its caches never sync and no route is ever served). It routes to
 * Traefik's internal `noop@internal` service, so it reaches no backend.
 */
export function readinessRoute(namespace: string): {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; labels: Record<string, string> };
  spec: Record<string, unknown>;
} {
  return {
    apiVersion: 'traefik.io/v1alpha1',
    kind: 'IngressRoute',
    metadata: {
      name: READINESS_ROUTE_NAME,
      namespace,
      labels: { 'app.kubernetes.io/part-of': 'vdi-platform', 'app.kubernetes.io/managed-by': 'vdi-access' },
    },
    spec: {
      entryPoints: ['web'],
      routes: [
        {
          kind: 'Rule',
          match: `Host(\`${READINESS_HOST}\`)`,
          services: [{ kind: 'TraefikService', name: 'noop@internal' }],
        },
      ],
    },
  };
}
