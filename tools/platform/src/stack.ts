/**
 * The whole platform on one machine, for `npm start` and the end-to-end tests: a cluster (the
 * embedded local control plane, or any cluster through a kubeconfig), Keycloak, coturn, the
 * operator, the API, the portal, and — where this machine can — Traefik with the desktop
 * stand-ins. Every piece is a real process; `stop()` ends them in reverse order.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import * as k8s from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { down as clusterDown, up as clusterUp, type ClusterConfig } from '@vdi/controlplane';
import { API_CLIENT_SECRET, CLIENTS, start as keycloakStart, stop as keycloakStop } from '@vdi/keycloak';
import {
  ensureDesktopNetwork,
  startStandins,
  startTraefik,
  DEFAULT_ADMIN_PORT,
  DEFAULT_WEB_PORT,
  type HostRoute,
} from '@vdi/access';
import { KubeJsonClient } from '@vdi/kube-client';
import type { VDITemplate } from '@vdi/crd-types';
import { coturnPolicyArgs, DEFAULT_RELAY_POLICY, loopbackRelayPolicyArgs } from '@vdi/session-spec';
import { NODE_IP, POD_CIDR } from '@vdi/node';
import { freePort, installCrds, RELAY_PORTS, startCoturn, type Coturn } from '@vdi/testing';
import { repoRoot } from './paths.js';
import {
  prepareRealDesktop,
  REAL_DESKTOP_RESOURCES,
  realDesktopTemplate,
  realWebrtcTemplate,
  type RealDesktop,
} from './real-desktop.js';
import { spawnService, startApiService, startOperatorService, type ServiceProcess } from './services.js';

export type Log = (msg: string) => void;

export interface StackOptions {
  /** Where logs go (`<dir>/logs/<service>.log`). */
  stateDir: string;
  /** The embedded control plane with this config (started or reused), or a kubeconfig. */
  cluster: { kind: 'local'; config?: ClusterConfig } | { kind: 'external'; kubeconfig: string };
  sessionsNamespace?: string;
  /** Fixed ports (npm start) or free ones (tests). */
  ports?: { api?: number; portal?: number; operatorMetrics?: number; turnRest?: number };
  quotas?: { sessionsPerUser?: number; gpusPerUser?: number };
  /** Apply the sample templates of deploy/kustomize/base/templates (default true). */
  sampleTemplates?: boolean;
  /** Extra operator settings (VDI_*). */
  operatorEnv?: Record<string, string>;
  /** GPU-hour budgets (the API's VDI_GPU_BUDGETS); default: DEV_GPU_BUDGETS. */
  gpuBudgets?: string;
  /**
   * Traefik in front of everything (portal, API, desktops at http://<session>.vdi.localhost:<web>)
   * with the desktop network and stand-ins, or false for the portal and API on their own ports
   * (no desktop answers). Needs root for the network namespace.
   */
  access?: false | { webPort?: number; adminPort?: number; podCidr?: string };
  /**
   * Real desktops for the CPU sample template on the local cluster's real node (default: when
   * that node runs, i.e. as root); false keeps every desktop a stand-in.
   */
  realDesktops?: boolean;
  /** stop() also stops the local cluster and Keycloak when this start started them (npm start). */
  stopInfrastructure?: boolean;
  log?: Log;
}

export interface Stack {
  kubeconfig: string;
  /** Traefik's `web` entrypoint (desktops and, with access, the portal), when it runs. */
  webPort?: number;
  sessionsNamespace: string;
  portalUrl: string;
  /** The API as the browser reaches it (through Traefik on the portal's origin, with access). */
  apiUrl: string;
  /** The API on loopback, for programs (Node does not resolve *.localhost names). */
  apiDirectUrl: string;
  keycloakIssuer: string;
  /** The CPU template runs the real desktop image on the real node; or why not. */
  realDesktop: RealDesktop | { skipped: string };
  /** The TURN relay WebRTC desktops use, and its log (each allocation names its username). */
  turn: { host: string; port: number; logFile: string };
  services: ServiceProcess[];
  stop(): Promise<void>;
}

const TURN_SECRET_NAME = 'vdi-turn';
/** The local platform's GPU-hour budgets: 40 h a month each, 200 h for the gpu-power group (bob), admins unlimited. */
export const DEV_GPU_BUDGETS = 'default=40h/month; group:gpu-power=200h/month; role:vdi-admin=unlimited';

/** Builds the portal (next build) when it has never been built or its sources are newer. */
export function ensurePortalBuild(log: Log): void {
  const web = path.join(repoRoot, 'apps/web');
  const buildId = path.join(web, '.next', 'BUILD_ID');
  const newest = (dir: string): number =>
    readdirSync(dir, { withFileTypes: true }).reduce((m, d) => {
      if (['node_modules', '.next', 'e2e', 'tmp-dev'].includes(d.name)) return m;
      const p = path.join(dir, d.name);
      return Math.max(m, d.isDirectory() ? newest(p) : statSync(p).mtimeMs);
    }, 0);
  if (existsSync(buildId) && statSync(buildId).mtimeMs >= newest(web)) return;
  log('building the portal (next build) ...');
  const t0 = Date.now();
  const r = spawnSync(
    process.execPath,
    [path.join(repoRoot, 'node_modules/next/dist/bin/next'), 'build', web],
    {
      cwd: repoRoot,
      env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1' },
      encoding: 'utf8',
      timeout: 600_000,
    },
  );
  if (r.status !== 0) throw new Error(`the portal did not build:\n${(r.stdout + r.stderr).slice(-3000)}`);
  log(`portal built in ${((Date.now() - t0) / 1000).toFixed(0)}s`);
}

async function withClient<T>(kc: k8s.KubeConfig, f: (c: KubeJsonClient) => Promise<T>): Promise<T> {
  const client = new KubeJsonClient(kc);
  try {
    return await f(client);
  } finally {
    client.close();
  }
}

/** Namespace, TURN secret and (optionally) the sample templates: what the install manifests would add. */
async function prepareCluster(
  kc: k8s.KubeConfig,
  namespace: string,
  turnSecret: string,
  samples: boolean,
  real: RealDesktop | { skipped: string },
) {
  await installCrds(kc);
  const client = new KubeJsonClient(kc);
  try {
    await client.apply(
      {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: {
          name: namespace,
          labels: {
            'app.kubernetes.io/part-of': 'vdi-platform',
            'pod-security.kubernetes.io/enforce': 'restricted',
          },
        },
      },
      'vdi-platform',
    );
    await client.apply(
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: TURN_SECRET_NAME, namespace },
        stringData: { 'static-auth-secret': turnSecret },
      },
      'vdi-platform',
    );
    if (samples) {
      const dir = path.join(repoRoot, 'deploy/kustomize/base/templates');
      for (const f of readdirSync(dir).filter((x) => x.endsWith('.yaml') && x !== 'kustomization.yaml')) {
        for (const doc of parseAllDocuments(readFileSync(path.join(dir, f), 'utf8'))) {
          let t = doc.toJSON() as VDITemplate;
          if ('ref' in real && t.metadata?.name === real.template) {
            t = realDesktopTemplate(t, real.ref);
            await client.apply(realWebrtcTemplate(t) as never, 'vdi-platform');
          }
          await client.apply(t as never, 'vdi-platform');
        }
      }
    }
  } finally {
    client.close();
  }
}

export async function startStack(o: StackOptions): Promise<Stack> {
  const log: Log = o.log ?? ((m) => process.stdout.write(`[platform] ${m}\n`));
  const logs = path.join(o.stateDir, 'logs');
  mkdirSync(logs, { recursive: true });
  const namespace = o.sessionsNamespace ?? 'vdi-sessions';
  const services: ServiceProcess[] = [];
  const stoppers: (() => Promise<unknown>)[] = [];
  const stop = async () => {
    for (const s of stoppers.splice(0).reverse()) await s().catch(() => undefined);
  };
  try {
    // 1. The cluster.
    let kubeconfig: string;
    if (o.cluster.kind === 'local') {
      const cfg = o.cluster.config;
      const r = await clusterUp(cfg);
      kubeconfig = r.kubeconfig;
      if (o.stopInfrastructure && !r.reused) stoppers.push(() => clusterDown(cfg));
      log(
        `cluster ${r.reused ? 'reused' : `started in ${(r.startedInMs / 1000).toFixed(1)}s`}: ${kubeconfig}`,
      );
    } else {
      kubeconfig = o.cluster.kubeconfig;
      log(`cluster of ${kubeconfig}`);
    }
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(kubeconfig);

    // 2. Keycloak (started or reused) and coturn.
    const keycloak = await keycloakStart({ log: (m: string) => log(`keycloak: ${m}`) });
    const issuer = keycloak.issuer;
    if (o.stopInfrastructure && !keycloak.reused) stoppers.push(() => keycloakStop({ log: () => undefined }));
    log(
      `keycloak ${keycloak.reused ? 'reused' : `started in ${(keycloak.startMs / 1000).toFixed(0)}s`}: ${issuer}`,
    );
    // Real desktops: the desktop image on the real node (built and imported when missing).
    const realDesktop =
      o.realDesktops === false || o.cluster.kind !== 'local'
        ? { skipped: o.realDesktops === false ? 'turned off' : 'not the local cluster' }
        : await withClient(kc, (client) => prepareRealDesktop(client, (m) => log(m)));
    if ('skipped' in realDesktop) log(`desktops are stand-ins: ${realDesktop.skipped}`);

    // coturn with the platform's relay policy (no TCP relay, quotas, peers only where desktops
    // run). With the real node it listens on the node's bridge address, which both the desktops
    // (in their pods) and the browser (on this machine) reach; its peers are the node's pods.
    const turnSecret = randomBytes(32).toString('hex');
    const coturn: Coturn = await startCoturn({
      secret: turnSecret,
      ...('ref' in realDesktop
        ? {
            host: NODE_IP,
            policyArgs: coturnPolicyArgs({
              ...DEFAULT_RELAY_POLICY,
              peerCidrs: [POD_CIDR],
              totalQuota: RELAY_PORTS,
            }),
          }
        : { policyArgs: loopbackRelayPolicyArgs({ totalQuota: RELAY_PORTS }) }),
    });
    stoppers.push(() => coturn.stop());
    log(`coturn on ${coturn.host}:${coturn.port}`);
    await prepareCluster(kc, namespace, turnSecret, o.sampleTemplates ?? true, realDesktop);

    // 3. Ports: the API and portal listen on loopback; with access, Traefik serves both on the
    //    portal's host (same origin) and every desktop on <session>.vdi.localhost.
    const apiPort = o.ports?.api ?? (await freePort());
    const portalPort = o.ports?.portal ?? (await freePort());
    const access = o.access === false ? undefined : (o.access ?? {});
    const webPort = access ? (access.webPort ?? DEFAULT_WEB_PORT) : undefined;
    const portalUrl = `http://vdi.localhost:${webPort ?? portalPort}`;
    const apiUrl = webPort ? portalUrl : `http://127.0.0.1:${apiPort}`;
    const apiDirect = `http://127.0.0.1:${apiPort}`;

    // 4. The desktop network and the stand-ins that answer at the pods' addresses.
    if (access) {
      const network = ensureDesktopNetwork(access.podCidr ? { podCidr: access.podCidr } : {});
      const standins = await startStandins({
        kubeconfig,
        namespace,
        network: access.podCidr ? { podCidr: access.podCidr } : {},
      });
      stoppers.push(() => standins.stop());
      log(`desktop stand-ins answer at ${network.podCidr} in network namespace ${network.netns}`);
    }

    // 5. The operator. It and the API derive each desktop's password from one key, made up per run.
    const sessionKey = randomBytes(32).toString('hex');
    const turnRestPort = o.ports?.turnRest ?? (await freePort());
    const operator = await startOperatorService({
      kubeconfig,
      namespace,
      metricsPort: o.ports?.operatorMetrics ?? (await freePort()),
      identity: 'operator-local',
      logFile: path.join(logs, 'operator.log'),
      env: {
        VDI_TURN_SECRET_REF: `${namespace}/${TURN_SECRET_NAME}/static-auth-secret`,
        VDI_TURN_HOST: coturn.host,
        VDI_TURN_PORT: String(coturn.port),
        VDI_TURN_RELAY_CIDRS: `${coturn.host}/32`,
        VDI_TURN_RELAY_PORTS: `${coturn.relayPorts.min}-${coturn.relayPorts.max}`,
        // The TURN REST endpoint: a host process here, which WebRTC desktops reach on the
        // address coturn uses (their NetworkPolicy names it).
        VDI_TURN_REST_HOST: coturn.host,
        VDI_TURN_REST_PORT: String(turnRestPort),
        VDI_TURN_REST_URL: `http://${coturn.host}:${turnRestPort}`,
        VDI_TURN_REST_PEER_CIDRS: `${coturn.host}/32`,
        // The API (a host process) reaches desktops from the node's bridge address.
        VDI_API_PEER_CIDRS: `${coturn.host}/32`,
        // This cluster's own ranges, closed to desktops even with internet egress: the pod
        // networks (real node and stand-ins), Services, and this machine's own addresses (the
        // node's kubelet and host services; public ones are not in the private ranges).
        VDI_CLUSTER_CIDRS: [
          '198.18.0.0/15',
          '10.96.0.0/16',
          ...Object.values(os.networkInterfaces())
            .flatMap((a) => a ?? [])
            .filter((a) => a.family === 'IPv4' && !a.internal)
            .map((a) => `${a.address}/32`),
        ].join(','),
        VDI_BASE_DOMAIN: 'vdi.localhost',
        VDI_PUBLIC_SCHEME: 'http',
        ...(webPort ? { VDI_PUBLIC_PORT: String(webPort) } : {}),
        VDI_ENTRYPOINTS: 'web',
        VDI_FORWARD_AUTH_URL: `${apiDirect}/auth/session`,
        VDI_LEASE_NAME: 'vdi-operator',
        VDI_SESSION_KEY: sessionKey,
        // A CPU desktop on the 2-core real node: modest headroom for its encoder.
        ...('ref' in realDesktop
          ? { VDI_CPU_ENCODER_EXTRA_CPU: REAL_DESKTOP_RESOURCES.encoderExtraCpu }
          : {}),
        ...o.operatorEnv,
      },
    });
    services.push(operator);
    stoppers.push(() => operator.stop());
    log('operator ready');

    // 6. The API.
    const api = await startApiService({
      kubeconfig,
      port: apiPort,
      logFile: path.join(logs, 'api.log'),
      env: {
        VDI_OIDC_ISSUER: issuer,
        VDI_SESSIONS_NAMESPACE: namespace,
        // This stack's operator holds its Lease in the sessions namespace (operatorServiceEnv).
        VDI_OPERATOR_LEASE: `${namespace}/vdi-operator`,
        VDI_PORTAL_URL: portalUrl,
        VDI_CORS_ORIGINS: portalUrl,
        VDI_ACCESS_COOKIE_SECRET: randomBytes(32).toString('hex'),
        VDI_SESSION_KEY: sessionKey,
        // The API's service account (dev realm): desktop access ends with the login.
        VDI_OIDC_ADMIN_CLIENT_ID: CLIENTS.api,
        VDI_OIDC_ADMIN_CLIENT_SECRET: API_CLIENT_SECRET,
        ...(o.quotas?.sessionsPerUser !== undefined
          ? { VDI_QUOTA_SESSIONS_PER_USER: String(o.quotas.sessionsPerUser) }
          : {}),
        ...(o.quotas?.gpusPerUser !== undefined
          ? { VDI_QUOTA_GPUS_PER_USER: String(o.quotas.gpusPerUser) }
          : {}),
        VDI_GPU_BUDGETS: o.gpuBudgets ?? DEV_GPU_BUDGETS,
      },
    });
    services.push(api);
    stoppers.push(() => api.stop());
    log(`API ready on ${apiDirect}`);

    // 7. The portal (production build).
    ensurePortalBuild(log);
    const keycloakUrl = issuer.replace(/\/realms\/.*$/, '');
    const portal = await spawnService({
      name: 'portal',
      command: [
        process.execPath,
        path.join(repoRoot, 'node_modules/next/dist/bin/next'),
        'start',
        path.join(repoRoot, 'apps/web'),
        '-p',
        String(portalPort),
        '-H',
        '127.0.0.1',
      ],
      env: {
        ...process.env,
        NEXT_TELEMETRY_DISABLED: '1',
        VDI_KEYCLOAK_URL: keycloakUrl,
        VDI_KEYCLOAK_REALM: 'vdi',
        VDI_KEYCLOAK_CLIENT: 'vdi-portal',
        VDI_API_URL: apiUrl,
      },
      readyUrl: `http://127.0.0.1:${portalPort}/`,
      logFile: path.join(logs, 'portal.log'),
    });
    services.push(portal);
    stoppers.push(() => portal.stop());

    // 8. Traefik: the cluster's IngressRoutes (desktops) and the host's portal and API.
    if (access && webPort) {
      const host = 'Host(`vdi.localhost`)';
      const hostRoutes: HostRoute[] = [
        { name: 'portal', rule: host, url: `http://127.0.0.1:${portalPort}` },
        {
          name: 'api',
          // /auth/* (forward-auth, the "connecting" page) is Traefik's own business, not published.
          rule: `${host} && Path(\`/graphql\`)`,
          url: apiDirect,
          priority: 1000,
        },
        // Any other desktop host: routed by the cluster's IngressRoute once Traefik has it; until
        // then (a second or two after Running) a page that reloads itself (the API's).
        {
          name: 'desktop-starting',
          rule: 'HostRegexp(`^[a-z][-a-z0-9]*\\.vdi\\.localhost$`)',
          url: apiDirect,
          priority: 1,
          replacePath: '/auth/starting',
        },
      ];
      const traefik = await startTraefik({
        kubeconfig,
        webPort,
        adminPort: access.adminPort ?? DEFAULT_ADMIN_PORT,
        namespaces: [namespace],
        hostRoutes,
        dir: path.join(o.stateDir, 'traefik'),
      });
      stoppers.push(() => traefik.stop());
      log(`traefik ${traefik.version} on :${webPort} (logs ${traefik.logs.traefik})`);
    }
    log(`portal ready on ${portalUrl}`);

    return {
      kubeconfig,
      ...(webPort ? { webPort } : {}),
      sessionsNamespace: namespace,
      portalUrl,
      apiUrl,
      apiDirectUrl: apiDirect,
      keycloakIssuer: issuer,
      realDesktop,
      turn: { host: coturn.host, port: coturn.port, logFile: coturn.logFile },
      services,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
