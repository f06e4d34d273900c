/**
 * What the real node changes on the host, and how to undo it. The kubelet sets kernel tunables and
 * may add iptables chains, the bridge plugin turns on IP forwarding, and the kubelet creates a few
 * fixed folders. `startNode` records the host as it was (sysctls, iptables rules, which folders
 * existed) before anything starts; teardown, also after a crash, puts it back from that record.
 *
 * The diffs are pure functions (tested beside); reading and writing the host is kept apart.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

/** The tunables the kubelet and the CNI bridge plugin write. */
export const RECORDED_SYSCTLS = [
  'vm.overcommit_memory',
  'vm.panic_on_oom',
  'kernel.panic',
  'kernel.panic_on_oops',
  'kernel.keys.root_maxkeys',
  'kernel.keys.root_maxbytes',
  'net.ipv4.ip_forward',
  'net.ipv4.conf.all.forwarding',
  'net.ipv6.conf.all.forwarding',
  // NetworkPolicy enforcement (netpol.ts) needs bridged traffic in iptables; the node turns it on.
  'net.bridge.bridge-nf-call-iptables',
] as const;

/** Folders with fixed paths the kubelet or the CNI library create; removed again when they did not exist. */
export const FIXED_HOST_DIRS = ['/var/log/containers', '/var/lib/cni', '/var/lib/kubelet'] as const;

export interface HostState {
  recordedAt: string;
  sysctls: Record<string, string>;
  /** `iptables-save` / `ip6tables-save` output before the node started ('' when the tool is missing). */
  iptables: { v4: string; v6: string };
  /** Which FIXED_HOST_DIRS existed. */
  dirs: Record<string, boolean>;
  /** Whether the bridge existed before (it never should). */
  bridgeExisted: boolean;
  /** `ipset list -n` before the node started (absent in records of older nodes: none). */
  ipsets?: string[];
}

export interface IptablesTable {
  /** Every chain declared in the table (built-in and user), in order. */
  chains: string[];
  /** Every rule line, as `-A CHAIN …`. */
  rules: string[];
}

/** Parses `iptables-save` output into tables of chains and rules (counters and comments dropped). */
export function parseIptablesSave(text: string): Record<string, IptablesTable> {
  const tables: Record<string, IptablesTable> = {};
  let current: IptablesTable | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line === 'COMMIT') continue;
    if (line.startsWith('*')) {
      current = tables[line.slice(1)] ??= { chains: [], rules: [] };
    } else if (line.startsWith(':') && current) {
      current.chains.push(line.slice(1).split(/\s+/)[0]!);
    } else if (line.startsWith('-A ') && current) {
      current.rules.push(line);
    }
  }
  return tables;
}

/** One iptables invocation: `[table, ...args]`. */
export type IptablesCommand = string[];

/** Chains the kubelet and the CNI plugins create; only these (and rules jumping to them) are ever removed. */
export const OWNED_CHAIN = /^(KUBE-|CNI-)/;

/**
 * The commands that undo what the node added to iptables between `before` and `after`: delete the
 * added rules that jump to an added node chain (in reverse, by their exact spec), then flush and
 * delete the added node chains (KUBE-*, CNI-*). Rules and chains of anyone else are never touched,
 * even when they appeared meanwhile.
 */
export function iptablesRestoreCommands(before: string, after: string): IptablesCommand[] {
  const b = parseIptablesSave(before);
  const a = parseIptablesSave(after);
  const cmds: IptablesCommand[] = [];
  for (const [table, t] of Object.entries(a)) {
    const old = b[table] ?? { chains: [], rules: [] };
    const newChains = t.chains.filter((c) => OWNED_CHAIN.test(c) && !old.chains.includes(c));
    if (newChains.length === 0) continue;
    const remaining = new Map<string, number>();
    for (const r of old.rules) remaining.set(r, (remaining.get(r) ?? 0) + 1);
    const added: string[] = [];
    for (const r of t.rules) {
      const n = remaining.get(r) ?? 0;
      if (n > 0) remaining.set(r, n - 1);
      else added.push(r);
    }
    for (const r of added.reverse()) {
      const argv = splitRule(r.slice(3));
      const chain = argv[0]!;
      // Rules inside a chain that goes away anyway are removed with it by the flush below.
      if (newChains.includes(chain)) continue;
      const jump = argv.findIndex((x) => x === '-j' || x === '-g');
      if (jump < 0 || !newChains.includes(argv[jump + 1] ?? '')) continue;
      cmds.push([table, '-D', ...argv]);
    }
    for (const c of newChains) cmds.push([table, '-F', c]);
    for (const c of newChains) cmds.push([table, '-X', c]);
  }
  return cmds;
}

/** Splits a saved rule into argv, honouring the double quotes iptables-save uses for comments. */
export function splitRule(rule: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (let m = re.exec(rule); m; m = re.exec(rule))
    out.push(m[1] !== undefined ? m[1].replace(/\\"/g, '"') : m[2]!);
  return out;
}

/** The sysctls whose current value differs from the recorded one: `[name, recordedValue]`. */
export function sysctlRestores(
  recorded: Record<string, string>,
  current: Record<string, string>,
): [string, string][] {
  return Object.entries(recorded).filter(([k, v]) => current[k] !== undefined && current[k] !== v);
}

/**
 * Mount points (from /proc/self/mountinfo) at or below one of `prefixes`, deepest first, so that
 * unmounting them in order never meets a busy parent.
 */
export function mountsUnder(mountinfo: string, prefixes: string[]): string[] {
  const points = new Set<string>();
  for (const line of mountinfo.split('\n')) {
    const fields = line.split(' ');
    if (fields.length < 5) continue;
    // Spaces and other specials are octal-escaped in mountinfo.
    const mp = fields[4]!.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
    if (prefixes.some((p) => mp === p || mp.startsWith(p.endsWith('/') ? p : `${p}/`))) points.add(mp);
  }
  return [...points].sort((x, y) => y.split('/').length - x.split('/').length || y.localeCompare(x));
}

function sysctlFile(name: string): string {
  return `/proc/sys/${name.replace(/\./g, '/')}`;
}

export function readSysctls(names: readonly string[] = RECORDED_SYSCTLS): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of names) {
    const f = sysctlFile(n);
    if (existsSync(f)) out[n] = readFileSync(f, 'utf8').trim();
  }
  return out;
}

export function writeSysctl(name: string, value: string): void {
  writeFileSync(sysctlFile(name), `${value}\n`);
}

/** `iptables-save` for one family; '' when the tool is not installed. */
export function iptablesSave(family: 'v4' | 'v6'): string {
  try {
    return execFileSync(family === 'v4' ? 'iptables-save' : 'ip6tables-save', {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
  } catch {
    return '';
  }
}

/** Whether `iptables-save` (v4) or `ip6tables-save` (v6) is installed. */
export function iptablesInstalled(family: 'v4' | 'v6'): boolean {
  const tool = family === 'v4' ? 'iptables-save' : 'ip6tables-save';
  return ['/usr/sbin', '/sbin', '/usr/bin', '/bin'].some((d) => existsSync(`${d}/${tool}`));
}

/** Applies restore commands; returns the ones that failed (with their error), so teardown can name them. */
export function runIptables(family: 'v4' | 'v6', cmds: IptablesCommand[]): string[] {
  const failed: string[] = [];
  for (const [table, ...args] of cmds) {
    try {
      execFileSync(family === 'v4' ? 'iptables' : 'ip6tables', ['-w', '-t', table!, ...args], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
    } catch (err) {
      const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim();
      failed.push(`${family} -t ${table} ${args.join(' ')}: ${stderr || String(err)}`);
    }
  }
  return failed;
}

export function linkExists(name: string): boolean {
  return existsSync(`/sys/class/net/${name}`);
}

/** The host as it is now, for the record `startNode` keeps. */
export function recordHostState(bridge: string, ipsets: string[]): HostState {
  return {
    recordedAt: new Date().toISOString(),
    sysctls: readSysctls(),
    iptables: { v4: iptablesSave('v4'), v6: iptablesSave('v6') },
    dirs: Object.fromEntries(FIXED_HOST_DIRS.map((d) => [d, existsSync(d)])),
    bridgeExisted: linkExists(bridge),
    ipsets,
  };
}
