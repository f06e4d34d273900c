/**
 * The desktop network: where the local cluster's pod addresses answer.
 *
 * kwok gives pods addresses from the pod range (198.18.0.0/16, RFC 2544 benchmarking space) and
 * the real endpoint-slice controller puts them into EndpointSlices, which Traefik routes to. The
 * API server refuses loopback addresses in EndpointSlices, so the pod range is made local inside
 * a network namespace of our own instead:
 *
 *   host                                  netns vdi-desktops
 *   vdi-desk-host 198.19.255.1/30 ─veth─  vdi-desk-ns 198.19.255.2/30
 *   route 198.18.0.0/16 via 198.19.255.2  route local 198.18.0.0/16 dev lo  (every pod IP answers)
 *
 * The namespace has no default route: what runs in it (the desktop stand-ins) reaches nothing
 * but the host end of the link, and the host reaches nothing but the namespace through the pod
 * range. Link addresses come from 198.19.255.0/30, outside the pod range and away from kwok's
 * node address 198.19.0.1.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export interface DesktopNetworkOptions {
  /** Network namespace name (default `vdi-desktops`). */
  netns?: string;
  /** The pod range to make local inside the namespace (default 198.18.0.0/16, the local cluster's). */
  podCidr?: string;
  /** The /30 of the veth link (default 198.19.255.0/30): .1 on the host, .2 in the namespace. */
  linkCidr?: string;
  /** Interface names (at most 15 characters each). */
  hostInterface?: string;
  netnsInterface?: string;
}

/** The desktop network as it is laid out on this machine. */
export interface DesktopNetwork {
  netns: string;
  podCidr: string;
  hostInterface: string;
  netnsInterface: string;
  /** Host end of the link, e.g. 198.19.255.1 (what the namespace sees as the client address). */
  hostAddress: string;
  /** Namespace end of the link, e.g. 198.19.255.2 (the host reaches the stand-ins there too). */
  netnsAddress: string;
  /** Prefix length of the link (30). */
  linkPrefix: number;
}

export const DEFAULT_NETNS = 'vdi-desktops';
export const DEFAULT_POD_CIDR = '198.18.0.0/16';
export const DEFAULT_LINK_CIDR = '198.19.255.0/30';

/** An IPv4 CIDR that cannot be used, with the reason. */
export class DesktopNetworkError extends Error {
  override name = 'DesktopNetworkError';
}

export function parseIpv4(ip: string): number {
  const parts = ip.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) {
    throw new DesktopNetworkError(`'${ip}' is not an IPv4 address`);
  }
  return parts.reduce((acc, p) => acc * 256 + Number(p), 0);
}

export function formatIpv4(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

export interface Cidr {
  base: number;
  prefix: number;
  size: number;
}

export function parseCidr(cidr: string): Cidr {
  const m = /^([^/]+)\/(\d{1,2})$/.exec(cidr.trim());
  if (!m || Number(m[2]) > 32) throw new DesktopNetworkError(`'${cidr}' is not an IPv4 CIDR (a.b.c.d/n)`);
  const prefix = Number(m[2]);
  const size = 2 ** (32 - prefix);
  const addr = parseIpv4(m[1]!);
  if (addr % size !== 0) {
    throw new DesktopNetworkError(
      `'${cidr}' has host bits set; use ${formatIpv4(addr - (addr % size))}/${prefix}`,
    );
  }
  return { base: addr, prefix, size };
}

export function cidrContains(cidr: string | Cidr, ip: string): boolean {
  const c = typeof cidr === 'string' ? parseCidr(cidr) : cidr;
  const a = parseIpv4(ip);
  return a >= c.base && a < c.base + c.size;
}

function overlaps(a: Cidr, b: Cidr): boolean {
  return a.base < b.base + b.size && b.base < a.base + a.size;
}

/** The layout for the given options (pure; validates ranges and names). */
export function desktopNetworkPlan(o: DesktopNetworkOptions = {}): DesktopNetwork {
  const netns = o.netns ?? DEFAULT_NETNS;
  const podCidr = o.podCidr ?? DEFAULT_POD_CIDR;
  const linkCidr = o.linkCidr ?? DEFAULT_LINK_CIDR;
  const hostInterface = o.hostInterface ?? 'vdi-desk-host';
  const netnsInterface = o.netnsInterface ?? 'vdi-desk-ns';
  for (const [what, name] of [
    ['network namespace', netns],
    ['host interface', hostInterface],
    ['namespace interface', netnsInterface],
  ] as const) {
    const max = what === 'network namespace' ? 64 : 15;
    if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(name) || name.length > max) {
      throw new DesktopNetworkError(
        `${what} name '${name}' is invalid: letters, digits, '-', '_', '.', at most ${max} characters`,
      );
    }
  }
  const pods = parseCidr(podCidr);
  const link = parseCidr(linkCidr);
  if (link.prefix !== 30) {
    throw new DesktopNetworkError(`link range ${linkCidr} must be a /30 (two usable addresses)`);
  }
  if (overlaps(pods, link)) {
    throw new DesktopNetworkError(
      `link range ${linkCidr} overlaps the pod range ${podCidr}; pick a /30 outside it (e.g. in 198.19.0.0/16)`,
    );
  }
  return {
    netns,
    podCidr,
    hostInterface,
    netnsInterface,
    hostAddress: formatIpv4(link.base + 1),
    netnsAddress: formatIpv4(link.base + 2),
    linkPrefix: 30,
  };
}

/**
 * The `ip` invocations that build the network from nothing, in order. Each is idempotent on its
 * own (`replace`) except the two creations, which `ensureDesktopNetwork` skips when present.
 */
export function setupCommands(n: DesktopNetwork): { step: string; argv: string[] }[] {
  const inNs = (...args: string[]) => ['-n', n.netns, ...args];
  return [
    { step: 'create namespace', argv: ['netns', 'add', n.netns] },
    {
      step: 'create veth pair',
      argv: [
        'link',
        'add',
        n.hostInterface,
        'type',
        'veth',
        'peer',
        'name',
        n.netnsInterface,
        'netns',
        n.netns,
      ],
    },
    {
      step: 'host link address',
      argv: ['addr', 'replace', `${n.hostAddress}/${n.linkPrefix}`, 'dev', n.hostInterface],
    },
    { step: 'host link up', argv: ['link', 'set', n.hostInterface, 'up'] },
    {
      step: 'namespace link address',
      argv: inNs('addr', 'replace', `${n.netnsAddress}/${n.linkPrefix}`, 'dev', n.netnsInterface),
    },
    { step: 'namespace link up', argv: inNs('link', 'set', n.netnsInterface, 'up') },
    { step: 'namespace loopback up', argv: inNs('link', 'set', 'lo', 'up') },
    {
      step: 'host route to the pod range',
      argv: ['route', 'replace', n.podCidr, 'via', n.netnsAddress, 'dev', n.hostInterface],
    },
    {
      // A `local` route (table local) makes every address of the range answer inside the
      // namespace, so a server bound to 0.0.0.0 there serves each pod IP without one address each.
      step: 'pod range local in the namespace',
      argv: inNs('route', 'replace', 'local', n.podCidr, 'dev', 'lo', 'table', 'local'),
    },
  ];
}

export type IpRunner = (argv: string[]) => string;

const runIp: IpRunner = (argv) =>
  execFileSync('ip', argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

function errText(err: unknown): string {
  const e = err as { stderr?: string | Buffer; message?: string };
  const stderr = e.stderr ? String(e.stderr).trim() : '';
  return stderr || e.message || String(err);
}

/** Root and iproute2 are required; says which is missing and how to fix it. */
export function assertNetworkPrivileges(run: IpRunner = runIp, uid = process.getuid?.()): void {
  if (uid !== undefined && uid !== 0) {
    throw new DesktopNetworkError(
      `the desktop network needs root (network namespaces, veth, routes); running as uid ${uid}: run as root or with sudo`,
    );
  }
  try {
    run(['-V']);
  } catch {
    throw new DesktopNetworkError(
      "the desktop network needs iproute2's `ip` command, which is not on PATH: apt-get install iproute2 (tools/bootstrap/bootstrap.sh installs it)",
    );
  }
}

function netnsExists(name: string, run: IpRunner): boolean {
  if (existsSync(`/run/netns/${name}`)) return true;
  return run(['netns', 'list'])
    .split('\n')
    .some((l) => l.split(/\s/)[0] === name);
}

function linkExists(argvPrefix: string[], name: string, run: IpRunner): boolean {
  try {
    run([...argvPrefix, 'link', 'show', 'dev', name]);
    return true;
  } catch {
    return false;
  }
}

/** What is missing or wrong in the network as it stands (empty when complete). */
export function desktopNetworkProblems(n: DesktopNetwork, run: IpRunner = runIp): string[] {
  const problems: string[] = [];
  if (!netnsExists(n.netns, run)) return [`network namespace ${n.netns} does not exist`];
  if (!linkExists([], n.hostInterface, run)) problems.push(`host interface ${n.hostInterface} is missing`);
  if (!linkExists(['-n', n.netns], n.netnsInterface, run)) {
    problems.push(`interface ${n.netnsInterface} is missing in ${n.netns}`);
  }
  if (problems.length > 0) return problems;
  const hostAddrs = run(['-o', '-4', 'addr', 'show', 'dev', n.hostInterface]);
  if (!hostAddrs.includes(` ${n.hostAddress}/${n.linkPrefix} `)) {
    problems.push(`${n.hostInterface} lacks ${n.hostAddress}/${n.linkPrefix}`);
  }
  const nsAddrs = run(['-n', n.netns, '-o', '-4', 'addr', 'show', 'dev', n.netnsInterface]);
  if (!nsAddrs.includes(` ${n.netnsAddress}/${n.linkPrefix} `)) {
    problems.push(`${n.netnsInterface} in ${n.netns} lacks ${n.netnsAddress}/${n.linkPrefix}`);
  }
  if (!/state UP|LOWER_UP/.test(run(['link', 'show', 'dev', n.hostInterface]))) {
    problems.push(`${n.hostInterface} is down`);
  }
  const route = run(['route', 'show', 'exact', n.podCidr]);
  if (!route.includes(`via ${n.netnsAddress}`) || !route.includes(`dev ${n.hostInterface}`)) {
    problems.push(`host route ${n.podCidr} via ${n.netnsAddress} dev ${n.hostInterface} is missing`);
  }
  const local = run(['-n', n.netns, 'route', 'show', 'table', 'local', 'exact', n.podCidr]);
  if (!/^local /m.test(local)) problems.push(`route 'local ${n.podCidr}' is missing in ${n.netns}`);
  return problems;
}

/**
 * Creates the desktop network, or completes/repairs it; returns at once when it is already
 * there. Safe to call from several processes at the same time (a creation that loses a race
 * finds the object present and goes on). Needs root and iproute2.
 */
export function ensureDesktopNetwork(o: DesktopNetworkOptions = {}, run: IpRunner = runIp): DesktopNetwork {
  const n = desktopNetworkPlan(o);
  assertNetworkPrivileges(run);
  if (desktopNetworkProblems(n, run).length === 0) return n;
  for (const { step, argv } of setupCommands(n)) {
    if (step === 'create namespace' && netnsExists(n.netns, run)) continue;
    if (step === 'create veth pair' && linkExists([], n.hostInterface, run)) continue;
    try {
      run(argv);
    } catch (err) {
      const text = errText(err);
      // Another process created it between our check and our call.
      if (/File exists/.test(text) && step.startsWith('create')) continue;
      throw new DesktopNetworkError(
        `desktop network: '${step}' failed (ip ${argv.join(' ')}): ${text}. ` +
          `Remove a half-made network with teardownDesktopNetwork() (or: ip netns del ${n.netns}; ip link del ${n.hostInterface}) and try again`,
      );
    }
  }
  const left = desktopNetworkProblems(n, run);
  if (left.length > 0) {
    throw new DesktopNetworkError(
      `desktop network ${n.netns} is still incomplete after set-up: ${left.join('; ')}`,
    );
  }
  return n;
}

/**
 * Removes the namespace (which destroys the veth pair with it; the host route goes with its
 * interface). Idempotent. Processes still running inside keep their (now unreachable) copy.
 */
export function teardownDesktopNetwork(o: DesktopNetworkOptions = {}, run: IpRunner = runIp): void {
  const n = desktopNetworkPlan(o);
  assertNetworkPrivileges(run);
  if (netnsExists(n.netns, run)) run(['netns', 'del', n.netns]);
  // Deleting the namespace destroys the veth pair, but not always before we look again.
  if (linkExists([], n.hostInterface, run)) {
    try {
      run(['link', 'del', n.hostInterface]);
    } catch (err) {
      if (!/Cannot find device|does not exist/.test(errText(err))) throw err;
    }
  }
}
