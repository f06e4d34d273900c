/**
 * Isolation of a desktop: it accepts traffic on 8080 only from the ingress controller (HTTP and
 * the stream websocket), the operator (who watches it, for idle culling) and the API (closing a
 * revoked user's connections), and reaches cluster DNS and what its template's `egress` allows:
 * nothing more by default; with `internet`, public addresses only; listed CIDRs. A WebRTC desktop
 * also exchanges media with the TURN relay (inbound UDP only) and fetches its credentials from the
 * TURN REST endpoint; a websockets desktop has no path to either. Sessions cannot reach each other,
 * the API server, or anything else in the cluster unless a template lists it.
 */
import type { V1NetworkPolicy } from '@kubernetes/client-node';

/**
 * A NetworkPolicy as the API server's JSON has it (`from`), not client-node's model (`_from`):
 * rendered objects are sent as plain JSON.
 */
export type NetworkPolicyJson = Omit<V1NetworkPolicy, 'spec'> & { spec: Record<string, unknown> };
import type { StreamMode, VDISession } from '@vdi/crd-types';
import { childMeta, podSelector } from './labels.js';
import { childNames } from './names.js';
import { DESKTOP_PORT, turnRestPort, type PlatformOptions } from './options.js';

/**
 * Ranges a desktop with internet egress still may not reach: private (RFC 1918, CGNAT, ULA),
 * link-local (cloud metadata at 169.254.169.254), loopback, "this network", multicast and reserved.
 * The cluster's own ranges (pods, Services) are added from the platform options.
 */
export const NON_PUBLIC_IPV4 = [
  '0.0.0.0/8',
  '10.0.0.0/8',
  '100.64.0.0/10',
  '127.0.0.0/8',
  '169.254.0.0/16',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '224.0.0.0/4',
  '240.0.0.0/4',
];
export const NON_PUBLIC_IPV6 = ['::1/128', 'fc00::/7', 'fe80::/10', 'ff00::/8'];

/** A template's egress beyond DNS and TURN. */
export interface EgressChoice {
  internet: boolean;
  cidrs: string[];
}

function egressRules(o: PlatformOptions, egress: EgressChoice): Record<string, unknown>[] {
  const rules: Record<string, unknown>[] = [];
  if (egress.internet) {
    const cluster = o.clusterCidrs ?? [];
    const v4 = [...NON_PUBLIC_IPV4, ...cluster.filter((c) => !c.includes(':'))];
    const v6 = [...NON_PUBLIC_IPV6, ...cluster.filter((c) => c.includes(':'))];
    rules.push({
      to: [
        { ipBlock: { cidr: '0.0.0.0/0', except: [...new Set(v4)] } },
        { ipBlock: { cidr: '::/0', except: [...new Set(v6)] } },
      ],
    });
  }
  if (egress.cidrs.length > 0) rules.push({ to: egress.cidrs.map((cidr) => ({ ipBlock: { cidr } })) });
  return rules;
}

/** A NetworkPolicy peer list: pods of a namespace, or addresses. */
function peerOf(
  peer: { namespace: string; podLabels: Record<string, string> } | { cidrs: string[] },
): Record<string, unknown>[] {
  return 'cidrs' in peer
    ? peer.cidrs.map((cidr) => ({ ipBlock: { cidr } }))
    : [
        {
          namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': peer.namespace } },
          podSelector: { matchLabels: { ...peer.podLabels } },
        },
      ];
}

/** What a WebRTC desktop needs: media with the relay, and its credentials from the TURN REST endpoint. */
function webrtcRules(o: PlatformOptions) {
  const relay = o.turnRelayCidrs.map((cidr) => ({ ipBlock: { cidr } }));
  const relayPorts = [o.turn, ...(o.turnAlternatives ?? [])].map((s) => ({
    protocol: s.protocol === 'udp' ? 'UDP' : 'TCP',
    port: s.port,
  }));
  const uniquePorts = [...new Map(relayPorts.map((p) => [`${p.protocol}/${p.port}`, p])).values()];
  const restPeer = peerOf(o.turnRest.peer);
  return {
    // Relayed media only: UDP (the relay allows no TCP relaying), never the HTTP port.
    ingress: [{ from: relay, ports: [{ protocol: 'UDP' }] }],
    egress: [
      { to: relay, ports: uniquePorts },
      // Media to the relayed addresses (coturn's relay ports), UDP only.
      {
        to: relay,
        ports: [{ protocol: 'UDP', port: o.turnRelayPorts.min, endPort: o.turnRelayPorts.max }],
      },
      { to: restPeer, ports: [{ protocol: 'TCP', port: turnRestPort(o) }] },
    ],
  };
}

export function sessionNetworkPolicy(
  session: VDISession,
  o: PlatformOptions,
  egress: EgressChoice = { internet: false, cidrs: [] },
  streamMode: StreamMode = 'websockets',
): NetworkPolicyJson {
  const webrtc = streamMode === 'webrtc' ? webrtcRules(o) : { ingress: [], egress: [] };
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
        // The API, which ends the stream connections of a revoked user (Selkies' /api/sessions).
        ...(o.api ? [{ from: peerOf(o.api), ports: [{ protocol: 'TCP', port: DESKTOP_PORT }] }] : []),
        // The operator, which asks who watches the desktop (idle culling, Selkies' /api/sessions).
        { from: peerOf(o.turnRest.peer), ports: [{ protocol: 'TCP', port: DESKTOP_PORT }] },
        ...webrtc.ingress,
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
        ...webrtc.egress,
        ...egressRules(o, egress),
      ],
    },
  };
}
