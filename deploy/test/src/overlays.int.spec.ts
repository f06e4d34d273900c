/**
 * The install overlays (deploy/kustomize/overlays/dev and prod), built with kustomize and sent
 * to the test cluster: every object must pass a server-side dry-run apply, and every pod
 * template must meet its namespace's Pod Security level. The namespaces are applied for real
 * first (a dry run cannot see namespaces it would create), and so are the platform's CRDs.
 * Traefik's CRDs are installed by the cluster tooling.
 */
import { beforeAll, describe, expect, it } from '@jest/globals';
import type * as k8s from '@kubernetes/client-node';
import { installCrds, kubeRequest, resourcePath, testKubeConfig } from '@vdi/testing';
import { coturnPolicyArgs, DEFAULT_RELAY_POLICY, secretWeakness } from '@vdi/session-spec';
import { buildOverlay, find, objectKey, OVERLAYS, type KubeObject, type Overlay } from './manifests.js';

const FIELD_MANAGER = 'vdi-deploy-tests';
const built = {} as Record<Overlay | 'kind', KubeObject[]>;
const ALL = [...OVERLAYS, 'kind'] as const;
let kc: k8s.KubeConfig;

async function apply(o: KubeObject, dryRun: boolean) {
  const url = `${await resourcePath(kc, o, true)}?fieldManager=${FIELD_MANAGER}&force=true${dryRun ? '&dryRun=All' : ''}`;
  return kubeRequest(kc, 'PATCH', url, o, 'application/apply-patch+yaml');
}

type PodTemplate = { metadata?: Record<string, unknown>; spec: Record<string, unknown> };
type Container = {
  name: string;
  image: string;
  env?: { name: string; value?: string }[];
  resources?: { limits?: Record<string, string> };
};
const podSpec = (d: KubeObject) => (d.spec as { template: PodTemplate }).template.spec;
const containers = (d: KubeObject) => podSpec(d).containers as Container[];
const envOf = (d: KubeObject, name: string) => containers(d)[0]!.env?.find((e) => e.name === name)?.value;
const routes = (objs: KubeObject[]) => objs.filter((o) => o.kind === 'IngressRoute');
const PLATFORM = ['vdi-operator', 'vdi-api', 'vdi-web'];

beforeAll(async () => {
  kc = testKubeConfig();
  for (const o of ALL) built[o] = buildOverlay(o);
  await installCrds(kc);
  const namespaces = new Map<string, KubeObject>();
  for (const o of ALL)
    for (const ns of built[o].filter((x) => x.kind === 'Namespace')) namespaces.set(ns.metadata.name, ns);
  for (const ns of namespaces.values()) {
    const r = await apply(ns, false);
    if (r.status >= 300) throw new Error(`applying ${objectKey(ns)} failed: ${r.text}`);
  }
}, 600_000);

describe.each(ALL)('overlay %s', (overlay) => {
  it('is accepted object by object by a server-side dry-run apply', async () => {
    const objs = built[overlay];
    expect(objs.length).toBeGreaterThan(30);
    const refused: string[] = [];
    for (const o of objs) {
      const r = await apply(o, true);
      if (r.status >= 300) refused.push(`${objectKey(o)}: ${r.status} ${String(r.body.message ?? r.text)}`);
    }
    expect(refused).toEqual([]);
  });

  it("gives pods that meet their namespace's Pod Security level (dry-run pod creation)", async () => {
    const refused: string[] = [];
    for (const d of built[overlay].filter((o) => o.kind === 'Deployment')) {
      const tpl = (d.spec as { template: PodTemplate }).template;
      // The ServiceAccount need not exist for this check; Pod Security looks at the pod only.
      const { serviceAccountName: _sa, ...spec } = tpl.spec;
      const pod = {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: `${d.metadata.name}-pss-check`, namespace: d.metadata.namespace },
        spec: { ...spec, automountServiceAccountToken: false },
      };
      const r = await kubeRequest(kc, 'POST', `${await resourcePath(kc, pod)}?dryRun=All`, pod);
      if (r.status >= 300) refused.push(`${objectKey(d)}: ${String(r.body.message ?? r.text)}`);
    }
    expect(refused).toEqual([]);
  });

  it('sets every platform image through kustomize images and routes the configured host', () => {
    const objs = built[overlay];
    const config = find(objs, 'ConfigMap', 'vdi-config').data!;
    const tag = overlay === 'prod' ? '0.1.0' : 'dev';
    for (const name of PLATFORM) {
      expect(containers(find(objs, 'Deployment', name))[0]!.image).toBe(
        `ghcr.io/vdi-platform/${name}:${tag}`,
      );
    }
    const rs = routes(objs);
    expect(rs.map((r) => r.metadata.name).sort()).toEqual(['vdi-api', 'vdi-desktop-starting', 'vdi-portal']);
    for (const r of rs.filter((x) => x.metadata.name !== 'vdi-desktop-starting')) {
      for (const rule of (r.spec as { routes: { match: string }[] }).routes) {
        expect(rule.match).toMatch(
          new RegExp(`^Host\\(\`${config.VDI_BASE_DOMAIN!.replace(/\./g, '\\.')}\`\\)`),
        );
      }
    }
    const api = find(objs, 'IngressRoute', 'vdi-api').spec as { routes: { match: string }[] };
    expect(api.routes.map((r) => r.match).join(' ')).toContain('Path(`/graphql`)');
    // Forward-auth is Traefik's business only: nothing under /auth is published.
    expect(api.routes.map((r) => r.match).join(' ')).not.toContain('/auth');
    // Desktop hosts without a route yet get the API's "connecting" page: the pattern matches
    // <session>.<domain> and nothing else, at the lowest priority.
    const starting = find(objs, 'IngressRoute', 'vdi-desktop-starting').spec as {
      routes: { match: string; priority: number; middlewares: { name: string }[]; services: unknown[] }[];
    };
    expect(starting.routes).toHaveLength(1);
    const [rule] = starting.routes;
    const pattern = /^HostRegexp\(`(.+)`\)$/.exec(rule!.match)?.[1];
    expect(pattern).toBe(config.VDI_DESKTOP_HOSTS);
    const hosts = new RegExp(pattern!);
    const domain = config.VDI_BASE_DOMAIN!;
    expect(hosts.test(`alice-1.${domain}`)).toBe(true);
    expect(hosts.test(`s-x9a2k.${domain}`)).toBe(true);
    for (const other of [domain, `a.b.${domain}`, `alice-1.${domain}.evil.test`, `alice-1x${domain}`])
      expect({ other, matches: hosts.test(other) }).toEqual({ other, matches: false });
    expect(rule!.priority).toBe(1);
    expect(rule!.services).toEqual([{ name: 'vdi-api', port: 4000 }]);
    const middleware = find(objs, 'Middleware', rule!.middlewares[0]!.name).spec;
    expect(middleware).toEqual({ replacePath: { path: '/auth/starting' } });
    // The portal's URLs follow the issuer and the domain.
    const web = find(objs, 'Deployment', 'vdi-web');
    expect(config.VDI_OIDC_ISSUER).toBe(`${envOf(web, 'VDI_KEYCLOAK_URL')}/realms/vdi`);
    expect(envOf(web, 'VDI_API_URL')).toBe(`${config.VDI_PUBLIC_SCHEME}://${config.VDI_BASE_DOMAIN}`);
    expect(objs.filter((o) => o.kind === 'VDITemplate').length).toBeGreaterThan(0);
  });
});

describe('dev overlay', () => {
  it('is one replica each, plain http on *.localhost, local-path storage, a TURN address to fill in', () => {
    const objs = built.dev;
    const config = find(objs, 'ConfigMap', 'vdi-config').data!;
    for (const d of objs.filter((o) => o.kind === 'Deployment'))
      expect((d.spec as { replicas: number }).replicas).toBe(1);
    expect(config).toMatchObject({
      VDI_BASE_DOMAIN: 'vdi.localhost',
      VDI_PUBLIC_SCHEME: 'http',
      VDI_ENTRYPOINTS: 'web',
      VDI_STORAGE_CLASS: 'local-path',
      VDI_TURN_RELAY_CIDRS: `${config.VDI_TURN_HOST}/32`,
    });
    expect(config.VDI_TLS_SECRET).toBeUndefined();
    for (const r of routes(objs)) {
      expect(r.spec!.entryPoints).toEqual(['web']);
      expect(r.spec!.tls).toBeUndefined();
    }
    expect(objs.some((o) => o.kind === 'PodDisruptionBudget')).toBe(false);
  });

  it('ships placeholder secrets, so it runs as VDI_ENVIRONMENT=dev (the only mode that accepts them)', () => {
    const objs = built.dev;
    expect(find(objs, 'ConfigMap', 'vdi-config').data!.VDI_ENVIRONMENT).toBe('dev');
    const key = find(objs, 'Secret', 'vdi-session-key') as KubeObject & {
      stringData: Record<string, string>;
    };
    expect(secretWeakness(key.stringData['session-key'])).toMatch(/placeholder/);
  });
});

describe.each(OVERLAYS)('overlay %s: secrets and the relay', (overlay) => {
  it('gives the session key to the operator and the API only, from a Secret', () => {
    const objs = built[overlay];
    const ref = { secretKeyRef: { name: 'vdi-session-key', key: 'session-key' } };
    for (const d of objs.filter((o) => o.kind === 'Deployment')) {
      const uses = JSON.stringify(podSpec(d)).includes('vdi-session-key');
      expect([d.metadata.name, uses]).toEqual([
        d.metadata.name,
        ['vdi-operator', 'vdi-api'].includes(d.metadata.name),
      ]);
    }
    for (const name of ['vdi-operator', 'vdi-api']) {
      const env = (
        containers(find(objs, 'Deployment', name))[0] as { env: { name: string; valueFrom?: unknown }[] }
      ).env;
      expect(env.find((e) => e.name === 'VDI_SESSION_KEY')?.valueFrom).toEqual(ref);
    }
  });

  it("runs coturn with exactly the platform's relay policy for the desktops' pod range", () => {
    const args = containers(find(built[overlay], 'Deployment', 'coturn'))[0]! as unknown as {
      args: string[];
    };
    const min = Number(args.args.find((a) => a.startsWith('--min-port='))!.split('=')[1]);
    const max = Number(args.args.find((a) => a.startsWith('--max-port='))!.split('=')[1]);
    const policy = coturnPolicyArgs({
      ...DEFAULT_RELAY_POLICY,
      peerCidrs: ['10.42.0.0/16'],
      totalQuota: max - min + 1,
    });
    expect(args.args).toEqual(expect.arrayContaining(policy));
    // No other peer rule, nothing that would reopen TCP relaying or loopback.
    const peerRules = args.args.filter((a) => /peer|tcp-relay/.test(a));
    expect(peerRules.sort()).toEqual(policy.filter((a) => /peer|tcp-relay/.test(a)).sort());
  });
});

describe.each(OVERLAYS)('overlay %s: the TURN REST endpoint and relay ports', (overlay) => {
  it("tells the operator coturn's relay ports, and lets only desktops reach its TURN REST port", () => {
    const objs = built[overlay];
    const args = (containers(find(objs, 'Deployment', 'coturn'))[0]! as unknown as { args: string[] }).args;
    const arg = (name: string) => args.find((a) => a.startsWith(`--${name}=`))!.split('=')[1];
    const config = find(objs, 'ConfigMap', 'vdi-config').data!;
    expect(config.VDI_TURN_RELAY_PORTS).toBe(`${arg('min-port')}-${arg('max-port')}`);
    // Room for thousands of WebRTC desktops per replica, not a hundred.
    expect(Number(arg('max-port')) - Number(arg('min-port')) + 1).toBeGreaterThanOrEqual(16_000);
    const operator = find(objs, 'Deployment', 'vdi-operator');
    expect(envOf(operator, 'VDI_TURN_REST_PORT')).toBe('8444');
    expect((containers(operator)[0] as unknown as { ports: unknown[] }).ports).toContainEqual({
      name: 'turn-rest',
      containerPort: 8444,
    });
    const svc = find(objs, 'Service', 'vdi-turn-rest');
    expect(svc.metadata.namespace).toBe('vdi-system');
    expect(svc.spec).toMatchObject({
      selector: { 'app.kubernetes.io/name': 'vdi-operator' },
      ports: [{ port: 8444, targetPort: 'turn-rest', protocol: 'TCP' }],
    });
    // The operator's default URL names this Service.
    expect(config.VDI_TURN_REST_URL ?? 'http://vdi-turn-rest.vdi-system.svc.cluster.local:8444').toBe(
      'http://vdi-turn-rest.vdi-system.svc.cluster.local:8444',
    );
    const policy = find(objs, 'NetworkPolicy', 'operator-metrics').spec as {
      ingress: { from?: unknown[]; ports: { port: number }[] }[];
    };
    const restRule = policy.ingress.find((r) => r.ports.some((p) => p.port === 8444))!;
    expect(restRule.from).toEqual([
      { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'vdi-sessions' } } },
    ]);
  });
});

describe('prod overlay', () => {
  it('runs two replicas off the GPU nodes, with PodDisruptionBudgets and limits', () => {
    const objs = built.prod;
    for (const name of PLATFORM) {
      const d = find(objs, 'Deployment', name);
      expect((d.spec as { replicas: number }).replicas).toBe(2);
      const terms = (
        podSpec(d).affinity as {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: { matchExpressions: unknown[] }[];
            };
          };
        }
      ).nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms;
      expect(terms).toEqual([
        { matchExpressions: [{ key: 'nvidia.com/gpu.present', operator: 'DoesNotExist' }] },
      ]);
      expect(podSpec(d).tolerations).toBeUndefined();
      for (const c of containers(d))
        expect(Object.keys(c.resources?.limits ?? {}).sort()).toEqual(['cpu', 'memory']);
      const pdb = find(objs, 'PodDisruptionBudget', name);
      expect(pdb.spec).toEqual({
        minAvailable: 1,
        selector: { matchLabels: { 'app.kubernetes.io/name': name } },
      });
    }
  });

  it("serves https with Traefik's default certificate, holds no secret, and takes the Keycloak issuer as a parameter", () => {
    const objs = built.prod;
    // coturn's secret and the session key are created out of band; a re-apply must never
    // restore a placeholder.
    expect(objs.filter((o) => o.kind === 'Secret')).toEqual([]);
    expect(built.kind.filter((o) => o.kind === 'Secret')).toEqual([]);
    const config = find(objs, 'ConfigMap', 'vdi-config').data!;
    expect(config.VDI_PUBLIC_SCHEME).toBe('https');
    expect(config.VDI_TLS_SECRET).toBeUndefined();
    expect(config.VDI_ENVIRONMENT).toBeUndefined();
    // The key stays beside Traefik: the default TLSStore names it, routes ask for `tls: {}`.
    const store = find(objs, 'TLSStore', 'default');
    expect(store.metadata.namespace).toBe('kube-system');
    expect(store.spec).toEqual({ defaultCertificate: { secretName: 'vdi-tls' } });
    for (const r of routes(objs)) {
      expect(r.spec!.entryPoints).toEqual(['websecure']);
      expect(r.spec!.tls).toEqual({});
    }
    expect(config.VDI_OIDC_ISSUER).toMatch(/^https:\/\/.+\/realms\/[^/]+$/);
    // The API and the operator read the whole ConfigMap.
    for (const name of ['vdi-operator', 'vdi-api']) {
      const c = containers(find(objs, 'Deployment', name))[0] as {
        envFrom?: { configMapRef?: { name: string } }[];
      };
      expect(c.envFrom).toContainEqual({ configMapRef: { name: 'vdi-config' } });
    }
  });
});

describe('prod overlay: relay capacity', () => {
  it('offers TURN over TLS on 443 through Traefik for the TURN host, and runs the relay on two nodes', () => {
    const objs = built.prod;
    const config = find(objs, 'ConfigMap', 'vdi-config').data!;
    expect(config.VDI_TURN_TLS_PORT).toBe('443');
    const route = find(objs, 'IngressRouteTCP', 'turn-tls');
    expect(route.metadata.namespace).toBe('vdi-turn');
    expect(route.spec).toEqual({
      entryPoints: ['websecure'],
      routes: [{ match: `HostSNI(\`${config.VDI_TURN_HOST}\`)`, services: [{ name: 'coturn', port: 3478 }] }],
      tls: {},
    });
    const svc = find(objs, 'Service', 'coturn');
    expect(svc.spec).toMatchObject({ ports: [{ port: 3478, targetPort: 3478, protocol: 'TCP' }] });
    const coturn = find(objs, 'Deployment', 'coturn');
    expect((coturn.spec as { replicas: number }).replicas).toBe(2);
    expect(JSON.stringify(podSpec(coturn).affinity)).toContain('kubernetes.io/hostname');
    expect(find(objs, 'PodDisruptionBudget', 'coturn').spec).toMatchObject({ minAvailable: 1 });
  });
});
