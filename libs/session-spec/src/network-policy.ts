/**
 * Isolation of a desktop: it accepts traffic only from the ingress controller (HTTP and the
 * stream websocket on 8080) and from the TURN relay (WebRTC media over UDP only), and
 * reaches only cluster DNS and the TURN server. Sessions cannot reach each other, the API
 * server, or anything else in the cluster.
 */
import type { V1NetworkPolicy } from '@kubernetes/client-node';

/**
 * A NetworkPolicy as the API server's JSON has it (`from`), not client-node's model (`_from`):
 * rendered objects are sent as plain JSON.
 */
export type NetworkPolicyJson = Omit<V1NetworkPolicy, 'spec'> & { spec: Record<string, unknown> };
import type { VDISession } from '@vdi/crd-types';
import { childMeta, podSelector } from './labels.js';
import { childNames } from './names.js';
import { DESKTOP_PORT, type PlatformOptions } from './options.js';

export function sessionNetworkPolicy(session: VDISession, o: PlatformOptions): NetworkPolicyJson {
  const relay = o.turnRelayCidrs.map((cidr) => ({ ipBlock: { cidr } }));
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: childMeta(
      session,
      childNames(session.metadata.name!).networkPolicy,
      o.namespace,
      'network-policy',
    ),
    spec: {
      podSelector: { matchLabels: podSelector(session) },
      policyTypes: ['Ingress', 'Egress'],
      ingress: [
        {
          from: [
            {
              namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': o.ingress.namespace } },
              podSelector: { matchLabels: { ...o.ingress.podLabels } },
            },
          ],
          ports: [{ protocol: 'TCP', port: DESKTOP_PORT }],
        },
        // Relayed media only: UDP (the relay allows no TCP relaying), never the HTTP port.
        { from: relay, ports: [{ protocol: 'UDP' }] },
      ],
      egress: [
        {
          to: [
            {
              namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': o.dns.namespace } },
              podSelector: { matchLabels: { ...o.dns.podLabels } },
            },
          ],
          ports: [
            { protocol: 'UDP', port: 53 },
            { protocol: 'TCP', port: 53 },
          ],
        },
        {
          to: relay,
          ports: [
            { protocol: 'UDP', port: o.turn.port },
            { protocol: 'TCP', port: o.turn.port },
          ],
        },
      ],
    },
  };
}
