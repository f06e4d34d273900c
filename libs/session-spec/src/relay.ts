/**
 * The TURN relay's policy: what coturn may relay to, how much, and for how long. One function
 * renders the flags for every coturn the platform runs — the install manifest, `npm start` and the
 * tests — so the policy a test proves is the policy a cluster runs.
 *
 * Why each rule (issue: "TURN relays to any pod"): a desktop user can read the TURN credentials of
 * their own desktop, and with them ask the relay to send traffic anywhere it can reach.
 * - no TCP relay (RFC 6062): a TCP allocation is a tunnel to any TCP service;
 * - peers: only the desktops' own pod range, every other IPv4/IPv6 address and multicast denied
 *   (`allowed-peer-ip` wins over `denied-peer-ip` in coturn);
 * - quotas and a bandwidth cap, so one user cannot take every relay port or the link;
 * - allocations live at most as long as a credential may.
 */

export interface RelayPolicy {
  /** Where desktops run (their pod addresses): the only peers media may be relayed to. */
  peerCidrs: string[];
  /** Allocations one username (one session's credential) may hold at once. */
  userQuota: number;
  /** Allocations the whole relay may hold; at most one per relay port. */
  totalQuota: number;
  /** Bytes per second one allocation may relay. */
  maxBps: number;
  /** Seconds an allocation may last (also the longest credential TTL). */
  maxAllocateLifetimeSeconds: number;
  /** Seconds a nonce stays valid, so a captured request cannot be replayed later. */
  staleNonceSeconds: number;
}

/** One desktop stream needs one allocation; a reconnect or ICE restart may briefly hold more. */
export const DEFAULT_RELAY_POLICY: Omit<RelayPolicy, 'peerCidrs' | 'totalQuota'> = {
  userQuota: 6,
  maxBps: 4_000_000,
  maxAllocateLifetimeSeconds: 3600,
  staleNonceSeconds: 600,
};

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

function ipv4ToInt(ip: string): number | undefined {
  const m = IPV4.exec(ip);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return parts.reduce((acc, p) => acc * 256 + p, 0);
}

function intToIpv4(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');
}

/** `10.42.0.0/16` → `10.42.0.0-10.42.255.255` (coturn's peer-ip syntax); undefined when not an IPv4 CIDR. */
export function cidrToRange(cidr: string): string | undefined {
  const [ip, bitsText, ...rest] = cidr.split('/');
  if (rest.length > 0 || ip === undefined) return undefined;
  const bits = bitsText === undefined ? 32 : Number(bitsText);
  const base = ipv4ToInt(ip);
  if (base === undefined || !Number.isInteger(bits) || bits < 0 || bits > 32) return undefined;
  const size = 2 ** (32 - bits);
  const start = Math.floor(base / size) * size;
  if (start !== base) return undefined; // host bits set: almost always a typo
  return `${intToIpv4(start)}-${intToIpv4(start + size - 1)}`;
}

/** Problems with a policy, each naming the setting; empty when it is usable. */
export function relayPolicyErrors(p: RelayPolicy): string[] {
  const errors: string[] = [];
  if (p.peerCidrs.length === 0)
    errors.push('peerCidrs must name the desktops’ pod range (e.g. 10.42.0.0/16)');
  for (const c of p.peerCidrs) {
    const range = cidrToRange(c);
    if (!range) errors.push(`peerCidrs: '${c}' is not an IPv4 CIDR with its host bits zero`);
    else if (c.endsWith('/0')) errors.push(`peerCidrs: '${c}' would let the relay reach every address`);
  }
  const positive = (name: string, v: number) => {
    if (!Number.isInteger(v) || v < 1) errors.push(`${name} must be a positive integer, not ${v}`);
  };
  positive('userQuota', p.userQuota);
  positive('totalQuota', p.totalQuota);
  positive('maxBps', p.maxBps);
  positive('staleNonceSeconds', p.staleNonceSeconds);
  positive('maxAllocateLifetimeSeconds', p.maxAllocateLifetimeSeconds);
  if (p.maxAllocateLifetimeSeconds > 3600)
    errors.push('maxAllocateLifetimeSeconds must be at most 3600 (credentials live at most an hour)');
  if (p.userQuota > p.totalQuota) errors.push('userQuota must not exceed totalQuota');
  return errors;
}

/** coturn flags enforcing the policy (add listening, realm and auth flags around them). */
export function coturnPolicyArgs(p: RelayPolicy): string[] {
  const errors = relayPolicyErrors(p);
  if (errors.length > 0) throw new Error(`invalid TURN relay policy: ${errors.join('; ')}`);
  return [
    '--no-tcp-relay',
    '--no-multicast-peers',
    '--denied-peer-ip=0.0.0.0-255.255.255.255',
    '--denied-peer-ip=::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
    ...p.peerCidrs.map((c) => `--allowed-peer-ip=${cidrToRange(c)}`),
    `--user-quota=${p.userQuota}`,
    `--total-quota=${p.totalQuota}`,
    `--max-bps=${p.maxBps}`,
    `--stale-nonce=${p.staleNonceSeconds}`,
    `--max-allocate-lifetime=${p.maxAllocateLifetimeSeconds}`,
  ];
}

/**
 * The policy of a relay on one machine, whose "desktops" listen on loopback (`npm start`, tests):
 * coturn refuses loopback peers unless told, and then only the allowed addresses pass.
 */
export function loopbackRelayPolicyArgs(
  o: { peerCidrs?: string[]; totalQuota: number } & Partial<RelayPolicy>,
): string[] {
  return [
    '--allow-loopback-peers',
    ...coturnPolicyArgs({ ...DEFAULT_RELAY_POLICY, peerCidrs: ['127.0.0.1/32'], ...o }),
  ];
}
