/**
 * Traefik's identity in the cluster: a ServiceAccount with a least-privilege ClusterRole and a
 * token from the TokenRequest API.
 *
 * Why not the admin kubeconfig: Traefik's Kubernetes client takes an endpoint, a bearer token and
 * a CA (no client certificates), and running it with the rights it has on K3s is the point: a
 * missing permission shows up here, not in production.
 */
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import type * as k8s from '@kubernetes/client-node';
import { KubeJsonClient, type KubeObject } from '@vdi/kube-client';

export const TRAEFIK_IDENTITY = { namespace: 'kube-system', name: 'vdi-local-traefik' } as const;
export const FIELD_MANAGER_ACCESS = 'vdi-access';

const read = ['get', 'list', 'watch'];

/**
 * What the `kubernetesCRD` provider of Traefik v3.6 watches with `disableClusterScopeResources`
 * (pkg/provider/kubernetes/crd/client.go, WatchAll): its CRDs, Services, EndpointSlices,
 * ConfigMaps and Secrets (TLS and auth secrets referenced by middlewares). No write rights, no
 * Nodes, no Ingresses (that is the kubernetesIngress provider), no Pods (only for OTel attributes).
 */
export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

export function traefikClusterRoleRules(): PolicyRule[] {
  return [
    { apiGroups: [''], resources: ['services', 'secrets', 'configmaps'], verbs: read },
    { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list', 'watch'] },
    {
      apiGroups: ['traefik.io'],
      resources: [
        'ingressroutes',
        'ingressroutetcps',
        'ingressrouteudps',
        'middlewares',
        'middlewaretcps',
        'serverstransports',
        'serverstransporttcps',
        'tlsoptions',
        'tlsstores',
        'traefikservices',
      ],
      verbs: read,
    },
  ];
}

/** The ServiceAccount, ClusterRole and ClusterRoleBinding (pure). */
export function traefikIdentityObjects(
  id: { namespace: string; name: string } = TRAEFIK_IDENTITY,
  rules: PolicyRule[] = traefikClusterRoleRules(),
): KubeObject[] {
  const labels = {
    'app.kubernetes.io/name': 'traefik',
    'app.kubernetes.io/instance': id.name,
    'app.kubernetes.io/part-of': 'vdi-platform',
    'app.kubernetes.io/managed-by': FIELD_MANAGER_ACCESS,
  };
  return [
    {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: id.name, namespace: id.namespace, labels },
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: id.name, labels },
      rules,
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: id.name, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: id.name },
      subjects: [{ kind: 'ServiceAccount', name: id.name, namespace: id.namespace }],
    },
  ];
}

export interface TraefikCredentials {
  endpoint: string;
  token: string;
  /** PEM of the API server's CA. */
  ca: string;
  expiresAt: string;
}

/** The API server's URL and CA from a kubeconfig (CA inline or as a file). */
export function clusterOf(kc: k8s.KubeConfig): { endpoint: string; ca: string } {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig has no current cluster; pass the admin kubeconfig');
  let ca = '';
  if (cluster.caData) ca = Buffer.from(cluster.caData, 'base64').toString('utf8');
  else if (cluster.caFile) ca = readFileSync(cluster.caFile, 'utf8');
  if (!ca && cluster.server.startsWith('https:') && !cluster.skipTLSVerify) {
    throw new Error(
      `cluster ${cluster.name} in the kubeconfig names no CA (certificate-authority[-data]); Traefik needs one to trust ${cluster.server}`,
    );
  }
  return { endpoint: cluster.server, ca };
}

export interface TraefikIdentityOptions {
  /** ServiceAccount namespace and name (also the ClusterRole's and binding's name); default kube-system/vdi-local-traefik. */
  namespace?: string;
  name?: string;
  /** The ClusterRole's rules (default: traefikClusterRoleRules()); tests narrow them to see the failure. */
  rules?: PolicyRule[];
  expirationSeconds?: number;
}

/**
 * Applies Traefik's identity (server-side apply, idempotent) and returns a fresh token for it.
 * Traefik reads the token once, at start; `expirationSeconds` bounds how long one run keeps
 * access (default 7 days; a restart gets a new token).
 */
export async function ensureTraefikIdentity(
  kc: k8s.KubeConfig,
  opts: TraefikIdentityOptions = {},
): Promise<TraefikCredentials> {
  const id = {
    namespace: opts.namespace ?? TRAEFIK_IDENTITY.namespace,
    name: opts.name ?? TRAEFIK_IDENTITY.name,
  };
  const client = new KubeJsonClient(kc, 4);
  try {
    for (const obj of traefikIdentityObjects(id, opts.rules)) {
      try {
        await client.apply(obj, FIELD_MANAGER_ACCESS);
      } catch (err) {
        throw new Error(
          `could not apply ${obj.kind} ${obj.metadata?.namespace ? `${obj.metadata.namespace}/` : ''}${obj.metadata?.name} for Traefik: ${(err as Error).message}. The kubeconfig must be allowed to manage RBAC (use the admin kubeconfig)`,
        );
      }
    }
    await waitAuthorized(client, id, opts.rules ?? traefikClusterRoleRules());
    const res = await client.call<{ status?: { token?: string; expirationTimestamp?: string } }>(
      'POST',
      `/api/v1/namespaces/${id.namespace}/serviceaccounts/${id.name}/token`,
      {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec: { expirationSeconds: opts.expirationSeconds ?? 7 * 24 * 3600 },
      },
    );
    const token = res.status?.token;
    if (!token) {
      throw new Error(`the TokenRequest for ServiceAccount ${id.namespace}/${id.name} returned no token`);
    }
    return { ...clusterOf(kc), token, expiresAt: res.status?.expirationTimestamp ?? '' };
  } finally {
    client.close();
  }
}

/**
 * Waits until the API server's authorizer grants what the rules say: a ClusterRoleBinding
 * reaches the RBAC cache a moment after it is written, and Traefik listing in that moment would
 * be refused (and counted as a broken role by startTraefik).
 */
async function waitAuthorized(
  client: KubeJsonClient,
  id: { namespace: string; name: string },
  rules: PolicyRule[],
): Promise<void> {
  const user = `system:serviceaccount:${id.namespace}:${id.name}`;
  const checks = rules.flatMap((r) =>
    r.resources.map((resource) => ({ group: r.apiGroups[0] ?? '', resource })),
  );
  const deadline = Date.now() + 10_000;
  for (const c of checks) {
    for (;;) {
      const review = await client.call<{ status?: { allowed?: boolean } }>(
        'POST',
        '/apis/authorization.k8s.io/v1/subjectaccessreviews',
        {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SubjectAccessReview',
          spec: {
            user,
            groups: [
              'system:serviceaccounts',
              `system:serviceaccounts:${id.namespace}`,
              'system:authenticated',
            ],
            resourceAttributes: { group: c.group, resource: c.resource, verb: 'list' },
          },
        },
      );
      if (review.status?.allowed) break;
      if (Date.now() > deadline) {
        throw new Error(
          `${user} is still not allowed to list ${c.resource}${c.group ? `.${c.group}` : ''} 10 s after its ClusterRoleBinding ${id.name} was applied`,
        );
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Writes the token and CA where Traefik reads them (token readable by root only). */
export function writeCredentialFiles(creds: TraefikCredentials, tokenFile: string, caFile: string): void {
  writeFileSync(tokenFile, creds.token, { mode: 0o600 });
  chmodSync(tokenFile, 0o600);
  writeFileSync(caFile, creds.ca);
}
