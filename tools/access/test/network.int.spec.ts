/**
 * The desktop network on this machine (needs root and iproute2). Set-up, idempotence, repair
 * and teardown run on a throw-away network with its own names and ranges, so the shared
 * `vdi-desktops` network (other test runs and `npm start` use it) is never torn down here.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import {
  desktopNetworkProblems,
  ensureDesktopNetwork,
  teardownDesktopNetwork,
  type DesktopNetworkOptions,
} from '../src/network.js';

const ip = (...args: string[]) =>
  execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { timeout: 3000 }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject)
      .on('timeout', function (this: http.ClientRequest) {
        this.destroy(new Error(`GET ${url}: timeout`));
      });
  });
}

describe('desktop network', () => {
  const tag = randomBytes(3).toString('hex');
  // A range of its own in 198.19.0.0/16 (benchmarking space, away from the pod range 198.18.0.0/16
  // and the shared link 198.19.255.0/30).
  const opts: DesktopNetworkOptions = {
    netns: `vdi-test-${tag}`,
    hostInterface: `vt${tag}h`,
    netnsInterface: `vt${tag}n`,
    podCidr: '198.19.128.0/24',
    linkCidr: '198.19.254.4/30',
  };
  let server: ChildProcess | undefined;

  afterAll(() => {
    server?.kill('SIGKILL');
    teardownDesktopNetwork(opts);
  });

  it('is created with a host route into the namespace and the whole range local inside it', () => {
    const n = ensureDesktopNetwork(opts);
    expect(n).toMatchObject({ hostAddress: '198.19.254.5', netnsAddress: '198.19.254.6' });
    expect(desktopNetworkProblems(n)).toEqual([]);
    expect(ip('route', 'show', 'exact', '198.19.128.0/24')).toContain(
      `via 198.19.254.6 dev ${opts.hostInterface}`,
    );
    expect(ip('-n', opts.netns!, 'route', 'show', 'table', 'local')).toMatch(
      /^local 198\.19\.128\.0\/24 dev lo/m,
    );
    // No default route: what runs inside reaches only the link.
    expect(ip('-n', opts.netns!, 'route', 'show', 'default')).toBe('');
  });

  it('answers at any address of the range from one server bound to 0.0.0.0 inside', async () => {
    server = spawn(
      'ip',
      [
        'netns',
        'exec',
        opts.netns!,
        process.execPath,
        '-e',
        `require('http').createServer((q, s) => s.end(q.socket.localAddress + ' ' + q.socket.remoteAddress)).listen(8080, '0.0.0.0')`,
      ],
      { stdio: 'ignore' },
    );
    let first: { status: number; body: string } | undefined;
    for (let i = 0; i < 50 && !first; i++) {
      first = await get('http://198.19.128.7:8080/').catch(() => undefined);
      if (!first) await new Promise((r) => setTimeout(r, 100));
    }
    expect(first).toEqual({ status: 200, body: '198.19.128.7 198.19.254.5' });
    expect((await get('http://198.19.128.200:8080/')).body).toBe('198.19.128.200 198.19.254.5');
  });

  it('is idempotent: a second ensure changes nothing', () => {
    const calls: string[][] = [];
    const n = ensureDesktopNetwork(opts, (argv) => {
      calls.push(argv);
      return execFileSync('ip', argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    });
    expect(desktopNetworkProblems(n)).toEqual([]);
    const changing = calls.filter((a) => a.some((w) => ['add', 'replace', 'del', 'set'].includes(w)));
    expect(changing).toEqual([]);
  });

  it('repairs a missing route and reports what was missing', () => {
    ip('route', 'del', '198.19.128.0/24');
    const n = ensureDesktopNetwork({ ...opts, linkCidr: opts.linkCidr });
    expect(desktopNetworkProblems(n)).toEqual([]);
    ip('-n', opts.netns!, 'route', 'del', 'local', '198.19.128.0/24', 'dev', 'lo', 'table', 'local');
    expect(desktopNetworkProblems(n)).toEqual([`route 'local 198.19.128.0/24' is missing in ${opts.netns}`]);
    ensureDesktopNetwork(opts);
    expect(desktopNetworkProblems(n)).toEqual([]);
  });

  it('is removed by teardown, with its interface and route', () => {
    server?.kill('SIGKILL');
    teardownDesktopNetwork(opts);
    expect(ip('netns', 'list')).not.toContain(opts.netns);
    expect(() => ip('link', 'show', 'dev', opts.hostInterface!)).toThrow();
    expect(ip('route', 'show', 'exact', '198.19.128.0/24')).toBe('');
    teardownDesktopNetwork(opts); // twice is fine
  });

  it('is there, shared, for the local cluster: vdi-desktops with the pod range', () => {
    const n = ensureDesktopNetwork();
    expect(n).toMatchObject({
      netns: 'vdi-desktops',
      podCidr: '198.18.0.0/16',
      netnsAddress: '198.19.255.2',
    });
    expect(desktopNetworkProblems(n)).toEqual([]);
  });
});
