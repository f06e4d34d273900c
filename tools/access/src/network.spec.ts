import { describe, expect, it } from '@jest/globals';
import {
  assertNetworkPrivileges,
  cidrContains,
  DesktopNetworkError,
  desktopNetworkPlan,
  ensureDesktopNetwork,
  formatIpv4,
  parseCidr,
  parseIpv4,
  setupCommands,
  type IpRunner,
} from './network.js';

describe('IPv4 helpers', () => {
  it.each([
    ['198.18.0.0', 3323068416],
    ['0.0.0.0', 0],
    ['255.255.255.255', 4294967295],
  ])('%s ⇄ %d', (ip, n) => {
    expect(parseIpv4(ip)).toBe(n);
    expect(formatIpv4(n)).toBe(ip);
  });

  it.each(['198.18.0', '198.18.0.256', 'a.b.c.d', '1.2.3.4.5'])('refuses %s', (ip) => {
    expect(() => parseIpv4(ip)).toThrow(DesktopNetworkError);
  });

  it('knows which addresses a range holds', () => {
    expect(cidrContains('198.18.0.0/16', '198.18.210.2')).toBe(true);
    expect(cidrContains('198.18.0.0/16', '198.19.0.1')).toBe(false);
    expect(cidrContains('198.18.0.0/15', '198.19.255.2')).toBe(true);
    expect(() => parseCidr('198.18.0.1/16')).toThrow(/host bits set; use 198.18.0.0\/16/);
  });
});

describe('desktopNetworkPlan', () => {
  it('puts the link in 198.19.255.0/30, outside the pod range', () => {
    expect(desktopNetworkPlan()).toEqual({
      netns: 'vdi-desktops',
      podCidr: '198.18.0.0/16',
      hostInterface: 'vdi-desk-host',
      netnsInterface: 'vdi-desk-ns',
      hostAddress: '198.19.255.1',
      netnsAddress: '198.19.255.2',
      linkPrefix: 30,
    });
  });

  it('refuses a link inside the pod range, a link that is not a /30 and long interface names', () => {
    expect(() => desktopNetworkPlan({ podCidr: '198.18.0.0/15' })).toThrow(/overlaps the pod range/);
    expect(() => desktopNetworkPlan({ linkCidr: '198.19.255.0/29' })).toThrow(/must be a \/30/);
    expect(() => desktopNetworkPlan({ hostInterface: 'a-very-long-name-x' })).toThrow(/at most 15/);
  });
});

describe('setupCommands', () => {
  const cmds = setupCommands(desktopNetworkPlan());
  const lines = cmds.map((c) => c.argv.join(' '));

  it('routes the pod range into the namespace and makes all of it local there', () => {
    expect(lines).toContain('route replace 198.18.0.0/16 via 198.19.255.2 dev vdi-desk-host');
    expect(lines).toContain('-n vdi-desktops route replace local 198.18.0.0/16 dev lo table local');
    expect(lines).toContain('link add vdi-desk-host type veth peer name vdi-desk-ns netns vdi-desktops');
  });

  it('gives the namespace no default route (stand-ins reach nothing but the host end of the link)', () => {
    expect(lines.filter((l) => /default|0\.0\.0\.0\/0/.test(l))).toEqual([]);
    expect(lines.filter((l) => l.includes('route')).length).toBe(2);
  });

  it('creates the namespace before anything that refers to it', () => {
    expect(cmds[0]!.step).toBe('create namespace');
    expect(cmds[1]!.step).toBe('create veth pair');
  });
});

describe('privileges', () => {
  const ok: IpRunner = () => '';
  it('says root is needed, with the uid', () => {
    expect(() => assertNetworkPrivileges(ok, 1000)).toThrow(/needs root .* uid 1000/);
  });
  it('says iproute2 is needed when `ip` is missing', () => {
    const missing: IpRunner = () => {
      throw Object.assign(new Error('spawnSync ip ENOENT'), { code: 'ENOENT' });
    };
    expect(() => assertNetworkPrivileges(missing, 0)).toThrow(/apt-get install iproute2/);
  });
});

describe('ensureDesktopNetwork against a fake ip', () => {
  it('names the failed step, the command and how to clean up', () => {
    const calls: string[] = [];
    const run: IpRunner = (argv) => {
      calls.push(argv.join(' '));
      if (argv[0] === '-V' || (argv[0] === 'netns' && argv[1] === 'list')) return '';
      if (argv.includes('show')) throw new Error('does not exist');
      if (argv[0] === 'link' && argv[1] === 'add') {
        throw Object.assign(new Error('failed'), { stderr: 'RTNETLINK answers: Operation not permitted' });
      }
      return '';
    };
    expect(() =>
      ensureDesktopNetwork({ netns: 'vdi-fake', hostInterface: 'fake-h', netnsInterface: 'fake-n' }, run),
    ).toThrow(
      /'create veth pair' failed \(ip link add fake-h .*Operation not permitted.*teardownDesktopNetwork\(\).*ip netns del vdi-fake/,
    );
    expect(calls).toContain('netns add vdi-fake');
  });
});
