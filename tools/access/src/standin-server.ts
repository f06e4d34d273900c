/**
 * The desktop stand-in server: one process inside the desktop network namespace, listening on
 * the desktop port on every address, so it answers at each pod IP (the namespace routes the
 * whole pod range to `lo`). It learns which IP belongs to which session from map files that the
 * host-side watchers write (see standins.ts): it cannot ask the API server itself, since the
 * namespace has no route to the host's loopback.
 *
 * Several watchers (a test run and `npm start`) may share one server: each owns one map file;
 * files of dead owners are removed, and the server exits once no map file is left.
 *
 * Routes: `/health` (200, JSON about the server), `/` (the STAND-IN page), `/standin.json` (the
 * same facts as JSON), `/ws` (websocket: hello, echo, optional ticks). Anything else: 404.
 *
 * Like Selkies, a desktop whose pod turns basic auth on answers its routes only to a request
 * with the session's password (401 otherwise): reaching the pod's address is not enough.
 */
import { timingSafeEqual } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, unlinkSync, watch, type FSWatcher } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { standinInfo, standinPage, unknownPodPage, type StandinRequest } from './standin-page.js';
import {
  authorizationSha256,
  mergeSessionMaps,
  normalizeAddress,
  type DesktopEntry,
  type SessionMap,
} from './session-map.js';

/** What a watcher writes into the maps directory (one file per watcher). */
export interface MapFile {
  ownerPid: number;
  writtenAt: number;
  map: SessionMap;
}

export interface StandinServerOptions {
  port: number;
  /** Listen address (default 0.0.0.0: every address of the namespace, so every pod IP). */
  host?: string;
  mapsDir: string;
  /** Exit after this long without any live map file (default 1000 ms). */
  idleExitMs?: number;
  /** Default interval of websocket tick messages, ms (0 = none; `?tick=` overrides per connection). */
  tickMs?: number;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
}

export const EXIT_ADDRESS_IN_USE = 98;

/** Why the desktop's basic auth refuses a request, or undefined when it lets it in. */
export function basicAuthRefusal(entry: DesktopEntry, authorization: string | undefined): string | undefined {
  const need = entry.basicAuth;
  if (!need) return undefined;
  if ('unreadable' in need) return `basic auth is on and ${need.unreadable}`;
  if (!authorization) return `basic auth is on: user ${need.user} and the session's password are required`;
  const a = Buffer.from(authorizationSha256(authorization), 'hex');
  const b = Buffer.from(need.authorizationSha256, 'hex');
  if (a.length !== b.length || !timingSafeEqual(a, b)) return `basic auth is on: wrong user or password`;
  return undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Reads every live map file (removing those whose owner is gone) and merges them. */
export function loadMapFiles(dir: string): { ids: string[]; map: SessionMap } {
  if (!existsSync(dir)) return { ids: [], map: {} };
  const maps: { writtenAt: number; map: SessionMap }[] = [];
  const ids: string[] = [];
  for (const f of readdirSync(dir)) {
    if (!f.endsWith('.json')) continue;
    const file = path.join(dir, f);
    let parsed: MapFile;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8')) as MapFile;
    } catch {
      continue; // removed or replaced while we read it
    }
    if (!isAlive(parsed.ownerPid)) {
      try {
        unlinkSync(file);
      } catch {
        /* someone else removed it */
      }
      continue;
    }
    ids.push(f.slice(0, -'.json'.length));
    maps.push({ writtenAt: parsed.writtenAt, map: parsed.map ?? {} });
  }
  return { ids: ids.sort(), map: mergeSessionMaps(maps) };
}

export interface StandinServer {
  server: http.Server;
  close(): Promise<void>;
  /** Resolves when the server exits by itself (no map file left). */
  idle: Promise<void>;
}

export async function runStandinServer(o: StandinServerOptions): Promise<StandinServer> {
  const log =
    o.log ??
    ((msg, fields) =>
      process.stderr.write(
        `${JSON.stringify({ time: new Date().toISOString(), component: 'standin', msg, ...fields })}\n`,
      ));
  mkdirSync(o.mapsDir, { recursive: true });
  let state = loadMapFiles(o.mapsDir);
  let emptySince: number | undefined = state.ids.length === 0 ? Date.now() : undefined;
  const reload = () => {
    const before = Object.keys(state.map).length;
    state = loadMapFiles(o.mapsDir);
    if (state.ids.length === 0) emptySince ??= Date.now();
    else emptySince = undefined;
    const after = Object.keys(state.map).length;
    if (after !== before) log('session map changed', { sessions: after, watchers: state.ids.length });
  };

  const requestFacts = (req: http.IncomingMessage): StandinRequest => {
    const user = req.headers['x-forwarded-user'];
    return {
      podIp: normalizeAddress(req.socket.localAddress),
      ...(typeof user === 'string' && user !== '' ? { user } : {}),
      ...(req.headers.host ? { host: req.headers.host } : {}),
      peer: normalizeAddress(req.socket.remoteAddress),
    };
  };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://standin');
    const facts = requestFacts(req);
    if (url.pathname === '/health') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          standin: true,
          pid: process.pid,
          port: o.port,
          mapsDir: o.mapsDir,
          maps: state.ids,
          sessions: Object.keys(state.map).length,
        }),
      );
      return;
    }
    const entry = state.map[facts.podIp];
    if (url.pathname !== '/' && url.pathname !== '/index.html' && url.pathname !== '/standin.json') {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`stand-in desktop: nothing at ${url.pathname} (try / or /ws)\n`);
      return;
    }
    if (!entry) {
      res.writeHead(404, { 'content-type': 'text/html; charset=utf-8' });
      res.end(unknownPodPage(facts, Object.keys(state.map).length));
      return;
    }
    const refusal = basicAuthRefusal(entry, req.headers.authorization);
    if (refusal) {
      res.writeHead(401, {
        'content-type': 'text/plain; charset=utf-8',
        'www-authenticate': `Basic realm="${entry.session}"`,
      });
      res.end(`stand-in desktop ${entry.session}: ${refusal}\n`);
      return;
    }
    if (url.pathname === '/standin.json') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(standinInfo(entry, facts)));
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'x-vdi-standin': 'true' });
    res.end(standinPage(entry, facts));
  });

  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://standin');
    if (url.pathname !== '/ws') {
      socket.end('HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    const entry = state.map[normalizeAddress(req.socket.localAddress)];
    const refusal = entry ? basicAuthRefusal(entry, req.headers.authorization) : undefined;
    if (refusal) {
      const body = `stand-in desktop ${entry!.session}: ${refusal}\n`;
      socket.end(
        `HTTP/1.1 401 Unauthorized\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => onSocket(ws, req, url));
  });

  const onSocket = (ws: WebSocket, req: http.IncomingMessage, url: URL) => {
    const facts = requestFacts(req);
    const entry = state.map[facts.podIp];
    const opened = Date.now();
    ws.send(
      JSON.stringify({
        type: 'hello',
        standin: true,
        session: entry?.session ?? null,
        namespace: entry?.namespace ?? null,
        user: facts.user ?? null,
        podIp: facts.podIp,
      }),
    );
    ws.on('message', (data) => {
      ws.send(JSON.stringify({ type: 'echo', data: data.toString(), openForMs: Date.now() - opened }));
    });
    const tickParam = url.searchParams.get('tick');
    const tickMs = tickParam !== null ? Number(tickParam) : (o.tickMs ?? 5000);
    if (Number.isFinite(tickMs) && tickMs > 0) {
      let n = 0;
      const timer = setInterval(
        () => ws.send(JSON.stringify({ type: 'tick', n: ++n, openForMs: Date.now() - opened })),
        Math.max(100, tickMs),
      );
      ws.on('close', () => clearInterval(timer));
    }
  };

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host ?? '0.0.0.0', () => {
      server.off('error', reject);
      resolve();
    });
  });
  log('stand-in listening', {
    port: o.port,
    host: o.host ?? '0.0.0.0',
    mapsDir: o.mapsDir,
    pid: process.pid,
  });

  let watcher: FSWatcher | undefined;
  let debounce: NodeJS.Timeout | undefined;
  try {
    watcher = watch(o.mapsDir, () => {
      clearTimeout(debounce);
      debounce = setTimeout(reload, 20);
    });
  } catch {
    /* polling below still reloads */
  }
  let resolveIdle!: () => void;
  const idle = new Promise<void>((r) => (resolveIdle = r));
  const close = async () => {
    clearInterval(poll);
    clearTimeout(debounce);
    watcher?.close();
    for (const c of wss.clients) c.terminate();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  };
  const poll = setInterval(() => {
    reload();
    if (emptySince !== undefined && Date.now() - emptySince >= (o.idleExitMs ?? 1000)) {
      log('no watcher left; exiting', {});
      void close().then(resolveIdle);
    }
  }, 500);
  return { server, close, idle };
}
