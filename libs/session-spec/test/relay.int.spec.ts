/**
 * The relay policy, proven against a real coturn started with the flags the platform renders
 * (`loopbackRelayPolicyArgs` here; `coturnPolicyArgs` in the install manifest). The attacks: a
 * user takes the TURN credentials of their own desktop and asks the relay for a TCP tunnel, for a
 * UDP path to another desktop's HTTP port or to cluster addresses, or for every relay port.
 * Verdicts come from coturn's own client, turnutils_uclient.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { RELAY_PORTS, runTurnClient, startCoturn, type Coturn } from '@vdi/testing';
import { DEFAULT_RELAY_POLICY, loopbackRelayPolicyArgs } from '../src/relay.js';
import { mintTurnCredentials, type TurnCredentials } from '../src/turn.js';

describe('the TURN relay policy against a real coturn', () => {
  const secret = randomBytes(24).toString('base64url');
  let coturn: Coturn | undefined;
  const creds = (identity: string): TurnCredentials =>
    mintTurnCredentials(secret, identity, Math.floor(Date.now() / 1000), 600);
  const server = (): Coturn => {
    if (!coturn) throw new Error('coturn did not start (see beforeAll)');
    return coturn;
  };
  const client = (c: TurnCredentials, flags: string[]) =>
    runTurnClient(server(), c.username, c.password, flags);

  beforeAll(async () => {
    coturn = await startCoturn({
      secret,
      realm: 'vdi.test',
      policyArgs: loopbackRelayPolicyArgs({ totalQuota: RELAY_PORTS }),
    });
  });
  afterAll(async () => {
    await coturn?.stop();
  });

  it('relays UDP media between allowed peers', async () => {
    const r = await client(creds('vdi-sessions.media.00000001'), ['-y', '-c', '-n', '2']);
    expect(r.code).toBe(0);
    expect(r.sent).toBeGreaterThan(0);
    expect(r.received).toBe(r.sent);
  });

  it('refuses a TCP relay allocation (RFC 6062) with 442', async () => {
    const r = await client(creds('vdi-sessions.tcp.00000002'), ['-T', '-n', '1']);
    expect(r.output).toMatch(/error 442/);
    expect(r.received).toBe(0);
  });

  it('a UDP relay to a desktop’s HTTP port reaches nothing', async () => {
    let connections = 0;
    const desktop = http
      .createServer((_req, res) => res.end('desktop'))
      .on('connection', () => connections++);
    await new Promise<void>((resolve) => desktop.listen(0, '127.0.0.1', resolve));
    try {
      const port = (desktop.address() as AddressInfo).port;
      const r = await client(creds('vdi-sessions.probe.00000003'), [
        '-c',
        '-n',
        '3',
        '-e',
        '127.0.0.1',
        '-r',
        String(port),
      ]);
      expect(r.received).toBe(0);
      expect(connections).toBe(0);
    } finally {
      desktop.close();
    }
  });

  it.each([
    ['a cluster Service address', '10.43.0.1'],
    ['the cloud metadata address', '169.254.169.254'],
    ['an address outside the desktop range', '192.0.2.1'],
  ])('refuses relaying to %s (%s) with 403', async (_what, peer) => {
    const r = await client(creds('vdi-sessions.peer.00000004'), ['-c', '-n', '1', '-e', peer, '-r', '80']);
    expect(r.output).toMatch(/error 403/);
    expect(r.received).toBe(0);
  });

  it('one credential cannot take more than its quota of allocations, and others still relay', async () => {
    const greedy = creds('vdi-sessions.greedy.00000005');
    const clients = DEFAULT_RELAY_POLICY.userQuota + 2;
    const r = await client(greedy, ['-y', '-c', '-m', String(clients), '-n', '2']);
    expect(r.output).toMatch(/error 486/);
    const other = await client(creds('vdi-sessions.other.00000006'), ['-y', '-c', '-n', '2']);
    expect(other.code).toBe(0);
    expect(other.received).toBeGreaterThan(0);
  });
});
