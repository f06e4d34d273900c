/**
 * The credentials the platform mints are the ones a real coturn (`use-auth-secret`) accepts, and
 * coturn refuses them once expired or tampered with. Every verdict comes from coturn's own client,
 * turnutils_uclient, making real allocations and relaying a message through them.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { startCoturn, stunBindingAnswered, tryTurnAllocation, type Coturn } from '@vdi/testing';
import { mintTurnCredentials, rtcConfigJson, type TurnCredentials } from '../src/turn.js';

const TTL = 600;
const unixNow = () => Math.floor(Date.now() / 1000);

type Attempt = Awaited<ReturnType<typeof tryTurnAllocation>>;

interface RtcConfig {
  iceServers: { urls: string[]; username?: string; credential?: string }[];
}

describe('TURN REST credentials against a real coturn', () => {
  const secret = randomBytes(24).toString('base64url');
  let coturn: Coturn | undefined;

  beforeAll(async () => {
    coturn = await startCoturn({ secret, realm: 'vdi.test' });
  });

  afterAll(async () => {
    await coturn?.stop();
  });

  function server(): Coturn {
    if (!coturn) throw new Error('coturn did not start (see beforeAll)');
    return coturn;
  }

  function expectAccepted(r: Attempt): void {
    expect(r).toMatchObject({ accepted: true, refused: false, exitCode: 0 });
    expect(r.serverLog.join('\n')).toMatch(/incoming packet ALLOCATE processed, success/);
  }

  function expectRefused(r: Attempt): void {
    expect(r).toMatchObject({ accepted: false, refused: true });
    // The authenticated ALLOCATE itself was answered 401: not a network or protocol failure.
    expect(r.serverLog.join('\n')).toMatch(/incoming packet message processed, error 401: Unauthorized/);
    expect(r.serverLog.join('\n')).not.toMatch(/ALLOCATE processed, success/);
  }

  // turnutils_uclient takes about five seconds for an allocation that works (its own pacing), so
  // these run side by side; every case has an identity of its own, hence its own log lines.
  describe('accepts credentials minted with the same secret', () => {
    it.concurrent.each([
      ['an ordinary identity', 'alice@example.com'],
      // ':' and ' ' and non-ASCII are percent-encoded; coturn answers 400 to a raw space.
      ['an identity with colons, a space and non-ASCII', 'org:team:Zoë Ünïcode 😀'],
    ])('%s', async (_what, identity) => {
      const creds = mintTurnCredentials(secret, identity, unixNow(), TTL);
      expectAccepted(await tryTurnAllocation(server(), creds.username, creds.password));
    });

    it.concurrent.each(['udp', 'tcp'] as const)(
      'as the Selkies RTC config names them, over %s',
      async (protocol) => {
        const c = server();
        const creds = mintTurnCredentials(secret, `desktop-${protocol}@example.com`, unixNow(), TTL);
        const config = JSON.parse(
          rtcConfigJson({ host: c.host, port: c.port, protocol }, creds),
        ) as RtcConfig;
        const turn = config.iceServers.find((s) => s.urls.some((u) => u.startsWith('turn:')));
        const url = turn?.urls.find((u) => u.startsWith('turn:')) ?? '';
        // Read the URL the way Selkies' parse_rtc_config does: split on ':', then drop the query.
        const [, host = '', portAndQuery = ''] = url.split(':');
        const [port = '', query = ''] = portAndQuery.split('?');
        const transport = new URLSearchParams(query).get('transport');
        expect({ host, port: Number(port), transport, username: turn?.username }).toEqual({
          host: c.host,
          port: c.port,
          transport: protocol,
          username: creds.username,
        });
        // What coturn judges is the config's own host, port, transport, username and credential.
        expectAccepted(
          await tryTurnAllocation(
            { host, port: Number(port), logFile: c.logFile },
            turn?.username ?? '',
            turn?.credential ?? '',
            { transport: protocol },
          ),
        );
      },
    );
  });

  describe('refuses expired credentials', () => {
    it.each([
      ['expired a day ago', 86_400 + TTL],
      ['expired one second ago', TTL + 1],
    ])('%s', async (_what, secondsAgo) => {
      const creds = mintTurnCredentials(
        secret,
        `expired-${secondsAgo}@example.com`,
        unixNow() - secondsAgo,
        TTL,
      );
      expect(creds.expiresAt).toBeLessThan(unixNow());
      expectRefused(await tryTurnAllocation(server(), creds.username, creds.password));
    });
  });

  describe('refuses tampered credentials', () => {
    it.each<[string, string, (c: TurnCredentials) => [string, string]]>([
      [
        'a later expiry in the username',
        'later',
        (c) => [c.username.replace(/^\d+/, String(c.expiresAt + 3600)), c.password],
      ],
      [
        'another identity in the username',
        'identity',
        (c) => [`${c.expiresAt}:mallory@example.com`, c.password],
      ],
      [
        'one character of the password changed',
        'flipped',
        (c) => [c.username, `${c.password[0] === 'A' ? 'B' : 'A'}${c.password.slice(1)}`],
      ],
      [
        'the username signed with another secret',
        'other-secret',
        (c) => [c.username, createHmac('sha1', `${secret}-other`).update(c.username).digest('base64')],
      ],
    ])('%s', async (_what, id, tamper) => {
      const genuine = mintTurnCredentials(secret, `tampered-${id}@example.com`, unixNow(), TTL);
      const [username, password] = tamper(genuine);
      expect([username, password]).not.toEqual([genuine.username, genuine.password]);
      expectRefused(await tryTurnAllocation(server(), username, password));
    });

    it('refuses credentials minted entirely with another secret', async () => {
      const creds = mintTurnCredentials(`${secret}-other`, 'other-secret@example.com', unixNow(), TTL);
      expectRefused(await tryTurnAllocation(server(), creds.username, creds.password));
    });
  });

  it('shows why identities are encoded: coturn rejects a raw space in a correctly signed username', async () => {
    const { expiresAt } = mintTurnCredentials(secret, 'x', unixNow(), TTL);
    const username = `${expiresAt}:raw space`;
    const password = createHmac('sha1', secret).update(username).digest('base64');
    const r = await tryTurnAllocation(server(), username, password);
    expect(r.accepted).toBe(false);
    expect(r.output).toMatch(/error 400 \(Bad Request\)/);
  });

  it('the Selkies RTC config names a STUN server that answers', async () => {
    const c = server();
    const creds = mintTurnCredentials(secret, 'stun@example.com', unixNow(), TTL);
    const config = JSON.parse(
      rtcConfigJson({ host: c.host, port: c.port, protocol: 'udp' }, creds),
    ) as RtcConfig;
    const stun = config.iceServers.flatMap((s) => s.urls).filter((u) => u.startsWith('stun:'));
    expect(stun).toEqual([`stun:${c.host}:${c.port}`]);
    const [, host = '', port = ''] = (stun[0] ?? '').split(':');
    await expect(stunBindingAnswered(host, Number(port), 2000)).resolves.toBe(true);
  });
});
