import { sessionNetworkPolicy } from './network-policy.js';
import { DESKTOP_PORT } from './options.js';
import { sampleOptions, sampleSession } from './testing.js';

type Rule = { from: Record<string, unknown>[]; ports?: unknown[] };
const ingress = (o = sampleOptions()) => sessionNetworkPolicy(sampleSession(), o).spec.ingress as Rule[];
const traefik = {
  namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
  podSelector: { matchLabels: { 'app.kubernetes.io/name': 'traefik' } },
};
/** The operator's pods (sampleOptions' TURN REST peer): it asks who watches the desktop. */
const operator = {
  from: [
    {
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'vdi-system' } },
      podSelector: { matchLabels: { 'app.kubernetes.io/name': 'vdi-operator' } },
    },
  ],
  ports: [{ protocol: 'TCP', port: DESKTOP_PORT }],
};

describe('a desktop NetworkPolicy: who reaches the desktop port', () => {
  it('admits only the ingress controller and the operator when no API peer is configured', () => {
    expect(ingress()).toEqual([
      { from: [traefik], ports: [{ protocol: 'TCP', port: DESKTOP_PORT }] },
      operator,
    ]);
  });

  it('admits the API pods on the desktop port only (closing revoked users’ connections)', () => {
    const rules = ingress(
      sampleOptions({ api: { namespace: 'vdi-system', podLabels: { 'app.kubernetes.io/name': 'vdi-api' } } }),
    );
    expect(rules).toEqual([
      { from: [traefik], ports: [{ protocol: 'TCP', port: DESKTOP_PORT }] },
      {
        from: [
          {
            namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'vdi-system' } },
            podSelector: { matchLabels: { 'app.kubernetes.io/name': 'vdi-api' } },
          },
        ],
        ports: [{ protocol: 'TCP', port: DESKTOP_PORT }],
      },
      operator,
    ]);
  });

  it('admits an API host process by address', () => {
    const rules = ingress(sampleOptions({ api: { cidrs: ['192.0.2.20/32'] } }));
    expect(rules[1]).toEqual({
      from: [{ ipBlock: { cidr: '192.0.2.20/32' } }],
      ports: [{ protocol: 'TCP', port: DESKTOP_PORT }],
    });
  });
});
