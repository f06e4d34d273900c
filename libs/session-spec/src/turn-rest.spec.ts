import { createHmac } from 'node:crypto';
import type { VDISession } from '@vdi/crd-types';
import { turnRestKey } from './secrets.js';
import { sampleOptions, sampleSession } from './testing.js';
import { answerTurnRest, turnRestUri, type TurnRestContext } from './turn-rest.js';

const SESSION_KEY = 'k'.repeat(64);
const TURN_SECRET = 'turn-shared-secret-of-the-relay-0123456789';
const NOW = 1_767_225_600;

const ctx: TurnRestContext = {
  sessionKey: SESSION_KEY,
  turnSecret: TURN_SECRET,
  servers: [
    { host: 'turn.vdi.example.com', port: 3478, protocol: 'udp' },
    { host: 'turn.vdi.example.com', port: 443, protocol: 'tcp', tls: true },
  ],
  ttlSeconds: 3600,
  nowSeconds: NOW,
};

const alice = sampleSession('alice-1');
const bob = sampleSession('bob-1', { user: 'bob@example.com' });
bob.metadata.uid = '00000000-0000-4000-8000-000000000002';
const sessions = new Map<string, VDISession>([
  ['vdi-sessions/alice-1', alice],
  ['vdi-sessions/bob-1', bob],
]);
const lookup = (ns: string, name: string) => sessions.get(`${ns}/${name}`);
const keyOf = (s: VDISession) => turnRestKey(SESSION_KEY, s.metadata.uid!);
const ask = (url: string, method = 'GET', find = lookup) => answerTurnRest(method, url, find, ctx);
const selkiesQuery = (key: string) => `?service=turn&username=alice-1&key=${encodeURIComponent(key)}&api=x`;

describe('answerTurnRest', () => {
  it("answers a desktop's own request with credentials for its session only", () => {
    const a = ask(`/turn/vdi-sessions/alice-1${selkiesQuery(keyOf(alice))}`);
    expect(a.status).toBe(200);
    expect(a.headers['cache-control']).toBe('no-store');
    const config = JSON.parse(a.body) as {
      iceServers: { urls: string[]; username?: string; credential?: string }[];
      iceTransportPolicy: string;
    };
    const turn = config.iceServers[1]!;
    expect(config.iceServers[0]).toEqual({ urls: ['stun:turn.vdi.example.com:3478'] });
    expect(turn.urls).toEqual([
      'turn:turn.vdi.example.com:3478?transport=udp',
      'turns:turn.vdi.example.com:443?transport=tcp',
    ]);
    // coturn's REST scheme: <expiry>:<identity>, HMAC-SHA1 under the relay's secret.
    expect(turn.username).toBe(`${NOW + 3600}:vdi-sessions.alice-1.00000000`);
    expect(turn.credential).toBe(createHmac('sha1', TURN_SECRET).update(turn.username!).digest('base64'));
    expect(config.iceTransportPolicy).toBe('all');
  });

  it("refuses one session's key for another session, and looks the same as an unknown session", () => {
    const wrong = ask(`/turn/vdi-sessions/bob-1${selkiesQuery(keyOf(alice))}`);
    const unknown = ask(`/turn/vdi-sessions/nobody${selkiesQuery(keyOf(alice))}`);
    expect(wrong.status).toBe(403);
    expect(unknown.status).toBe(403);
    expect(wrong.body).toBe(unknown.body);
    expect(wrong.reason).toBe('wrong key');
    expect(unknown.reason).toBe('no such session');
  });

  it('refuses a request without a key, and a key of the same session under another session key', () => {
    expect(ask('/turn/vdi-sessions/alice-1?service=turn').status).toBe(401);
    const forged = turnRestKey('another-platform-key', alice.metadata.uid!);
    expect(ask(`/turn/vdi-sessions/alice-1${selkiesQuery(forged)}`).status).toBe(403);
  });

  it('issues nothing once the session is being deleted or has failed', () => {
    const deleting = { ...alice, metadata: { ...alice.metadata, deletionTimestamp: new Date() } };
    const failed = { ...alice, status: { phase: 'Failed' as const } };
    for (const s of [deleting, failed]) {
      const a = ask(`/turn/vdi-sessions/alice-1${selkiesQuery(keyOf(alice))}`, 'GET', () => s);
      expect(a.status).toBe(403);
      expect(a.body).not.toContain('turn:');
    }
  });

  it.each([
    ['/metrics', 404],
    ['/turn/vdi-sessions', 404],
    ['/turn/vdi-sessions/alice-1/extra', 404],
    ['/turn/../alice-1', 404],
    ['/turn/Vdi-Sessions/alice-1', 404],
  ])('answers %s with %d', (path, status) => {
    expect(ask(`${path}${selkiesQuery(keyOf(alice))}`).status).toBe(status);
  });

  it('allows GET only', () => {
    const a = ask(`/turn/vdi-sessions/alice-1${selkiesQuery(keyOf(alice))}`, 'POST');
    expect(a.status).toBe(405);
    expect(a.headers.allow).toBe('GET');
  });

  it('says so when no TURN server is configured', () => {
    const a = answerTurnRest('GET', `/turn/vdi-sessions/alice-1${selkiesQuery(keyOf(alice))}`, lookup, {
      ...ctx,
      servers: [],
    });
    expect(a.status).toBe(503);
  });
});

describe('turnRestUri', () => {
  it("names the session in the endpoint's path, with no query (Selkies adds its own)", () => {
    expect(turnRestUri(alice, sampleOptions())).toBe(
      'http://vdi-turn-rest.vdi-system.svc.cluster.local:8444/turn/vdi-sessions/alice-1',
    );
    const o = sampleOptions({
      turnRest: { url: 'http://198.19.192.1:9000/', peer: { cidrs: ['198.19.192.1/32'] } },
    });
    expect(turnRestUri(alice, o)).toBe('http://198.19.192.1:9000/turn/vdi-sessions/alice-1');
  });
});
