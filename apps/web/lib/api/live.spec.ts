/**
 * subscribeLive against a small graphql-transport-ws server of the test's own (on loopback): the
 * token goes into connection_init, a token-expiry close (4401) reconnects with a fresh token and
 * asks for a resync, a refusal (4403) stops with FORBIDDEN.
 */
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { subscribeLive, type LiveStatus } from './live';

interface Conn {
  socket: WebSocket;
  init: Record<string, unknown>;
  subscriptionId: Promise<string>;
}

let server: WebSocketServer;
let url: string;
let conns: Conn[] = [];
let waiters: ((c: Conn) => void)[] = [];

beforeAll(async () => {
  server = new WebSocketServer({ port: 0, host: '127.0.0.1', handleProtocols: () => 'graphql-transport-ws' });
  await new Promise<void>((r) => server.once('listening', () => r()));
  url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  server.on('connection', (socket) => {
    let subscribed!: (id: string) => void;
    const conn = { socket, init: {}, subscriptionId: new Promise<string>((r) => (subscribed = r)) } as Conn;
    socket.on('message', (raw) => {
      const msg = JSON.parse(String(raw)) as { type: string; id?: string; payload?: Record<string, unknown> };
      if (msg.type === 'connection_init') {
        conn.init = msg.payload ?? {};
        conns.push(conn);
        socket.send(JSON.stringify({ type: 'connection_ack' }));
        waiters.shift()?.(conn);
      } else if (msg.type === 'subscribe') {
        subscribed(msg.id!);
      }
    });
  });
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));
beforeEach(() => {
  conns = [];
  waiters = [];
});

const nextConnection = () => new Promise<Conn>((r) => waiters.push(r));
const send = async (c: Conn, data: unknown) =>
  c.socket.send(JSON.stringify({ type: 'next', id: await c.subscriptionId, payload: { data } }));
const until = async (what: () => boolean, ms = 3000) => {
  const end = Date.now() + ms;
  while (!what()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
};

function start(tokens: string[]) {
  const got: unknown[] = [];
  const statuses: LiveStatus[] = [];
  const errors: { code: string; message: string }[] = [];
  let resyncs = 0;
  let i = 0;
  const stop = subscribeLive<{ n: number }>(
    {
      url,
      webSocketImpl: WebSocket,
      token: async () => tokens[Math.min(i++, tokens.length - 1)]!,
      query: 'subscription { n }',
      backoffMs: () => 10,
    },
    {
      next: (d) => got.push(d),
      status: (s) => statuses.push(s),
      error: (e) => errors.push({ code: e.code, message: e.message }),
      resync: () => (resyncs += 1),
    },
  );
  return { got, statuses, errors, stop, resyncs: () => resyncs };
}

it('authenticates in connection_init and delivers events', async () => {
  const conn = nextConnection();
  const live = start(['first']);
  const c = await conn;
  expect(c.init).toEqual({ authorization: 'Bearer first' });
  await send(c, { n: 1 });
  await until(() => live.got.length === 1);
  expect(live.got).toEqual([{ n: 1 }]);
  expect(live.statuses).toEqual(['connecting', 'live']);
  live.stop();
});

it('reconnects with a fresh token when the token expired (4401), then asks for a resync', async () => {
  const first = nextConnection();
  const live = start(['old', 'fresh']);
  const c1 = await first;
  await c1.subscriptionId;
  const second = nextConnection();
  c1.socket.close(4401, 'the token has expired; reconnect with a fresh one');
  const c2 = await second;
  expect(c2.init).toEqual({ authorization: 'Bearer fresh' });
  await send(c2, { n: 2 });
  await until(() => live.got.length === 1 && live.resyncs() === 1);
  expect(live.statuses).toEqual(['connecting', 'live', 'reconnecting', 'live']);
  expect(live.errors).toEqual([]);
  live.stop();
});

it('stops with FORBIDDEN when the API refuses the token (4403)', async () => {
  const first = nextConnection();
  const live = start(['bad']);
  const c = await first;
  c.socket.close(4403, 'the token has no vdi-user role');
  await until(() => live.errors.length === 1);
  expect(live.errors).toEqual([{ code: 'FORBIDDEN', message: 'the token has no vdi-user role' }]);
  await new Promise((r) => setTimeout(r, 100));
  expect(conns).toHaveLength(1);
  live.stop();
});

it('stops on a GraphQL error of the subscription itself', async () => {
  const first = nextConnection();
  const live = start(['t']);
  const c = await first;
  c.socket.send(
    JSON.stringify({
      type: 'error',
      id: await c.subscriptionId,
      payload: [{ message: 'admins only', extensions: { code: 'FORBIDDEN' } }],
    }),
  );
  await until(() => live.errors.length === 1);
  expect(live.errors[0]).toEqual({ code: 'FORBIDDEN', message: 'admins only' });
  live.stop();
});
