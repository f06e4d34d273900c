import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import * as k8s from '@kubernetes/client-node';
import { clusterOf, traefikClusterRoleRules, traefikIdentityObjects, TRAEFIK_IDENTITY } from './identity.js';

describe("Traefik's cluster identity", () => {
  it('may only read, and only what the kubernetesCRD provider watches', () => {
    const rules = traefikClusterRoleRules();
    const verbs = new Set(rules.flatMap((r) => r.verbs));
    expect([...verbs].sort()).toEqual(['get', 'list', 'watch']);
    const resources = rules.flatMap((r) => r.resources.map((res) => `${r.apiGroups[0]}/${res}`));
    expect(resources).toEqual(
      expect.arrayContaining([
        '/services',
        '/secrets',
        '/configmaps',
        'discovery.k8s.io/endpointslices',
        'traefik.io/ingressroutes',
        'traefik.io/middlewares',
      ]),
    );
    for (const absent of ['/pods', '/nodes', 'networking.k8s.io/ingresses', '*/*']) {
      expect(resources).not.toContain(absent);
    }
    expect(rules.every((r) => !r.apiGroups.includes('*') && !r.resources.includes('*'))).toBe(true);
  });

  it('binds the ClusterRole to its ServiceAccount only', () => {
    const [sa, role, binding] = traefikIdentityObjects() as [
      { kind: string; metadata: { name: string; namespace?: string } },
      { kind: string; metadata: { name: string } },
      { kind: string; roleRef: { name: string }; subjects: unknown[] },
    ];
    expect(sa).toMatchObject({ kind: 'ServiceAccount', metadata: TRAEFIK_IDENTITY });
    expect(role).toMatchObject({ kind: 'ClusterRole', metadata: { name: 'vdi-local-traefik' } });
    expect(binding.roleRef.name).toBe('vdi-local-traefik');
    expect(binding.subjects).toEqual([
      { kind: 'ServiceAccount', name: 'vdi-local-traefik', namespace: 'kube-system' },
    ]);
  });
});

function kubeConfig(cluster: Record<string, unknown>): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: 'https://127.0.0.1:6443', ...cluster }],
    users: [{ name: 'u' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kc;
}

describe('clusterOf', () => {
  it('takes the CA inline or from its file', () => {
    const pem = '-----BEGIN CERTIFICATE-----\nabc\n-----END CERTIFICATE-----\n';
    expect(clusterOf(kubeConfig({ caData: Buffer.from(pem).toString('base64') }))).toEqual({
      endpoint: 'https://127.0.0.1:6443',
      ca: pem,
    });
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'access-ca-')), 'ca.crt');
    writeFileSync(file, pem);
    expect(clusterOf(kubeConfig({ caFile: file })).ca).toBe(pem);
  });

  it('refuses an HTTPS cluster without a CA, naming the cluster', () => {
    expect(() => clusterOf(kubeConfig({}))).toThrow(/cluster c .*names no CA/);
  });
});
