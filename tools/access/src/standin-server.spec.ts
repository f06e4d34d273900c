// The stand-in server on loopback (no network namespace needed): routes, the map files it reads,
// websockets, and its exit once no watcher is left.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import WebSocket from 'ws';
import { authorizationSha256 } from './session-map.js';
import { loadMapFiles, runStandinServer, type MapFile, type StandinServer } from './standin-server.js';

const entry = { session: 'sess-1', namespace: 'team-a', pod: 'sess-1-desktop', owner: 'alice' };

function writeMap(dir: string, id: string, file: Omit<MapFile, 'writtenAt'>): string {
  const f = path.join(dir, `${id}.json`);
  writeFileSync(f, JSON.stringify({ ...file, writtenAt: Date.now() }));
  return f;
}

async function get(url: string, headers: Record<string, string> = {}) {
  const r = await fetch(url, { headers });
  return { status: r.status, text: await r.text(), type: r.headers.get('content-type') };
}

let server: StandinServer | undefined;
let dir: string;
afterEach(async () => {
  await server?.close();
  server = undefined;
  rmSync(dir, { recursive: true, force: true });
});

async function start(
  idleExitMs = 60_000,
  desktop: MapFile['map'][string] = entry,
): Promise<{ base: string; port: number }> {
  dir = mkdtempSync(path.join(os.tmpdir(), 'standin-maps-'));
  writeMap(dir, 'me', { ownerPid: process.pid, map: { '127.0.0.1': desktop } });
  server = await runStandinServer({
    port: 0,
    host: '127.0.0.1',
    mapsDir: dir,
    idleExitMs,
    log: () => undefined,
  });
  const port = (server.server.address() as { port: number }).port;
  return { base: `http://127.0.0.1:${port}`, port };
}

describe('stand-in server', () => {
  it('names the session of the address the request arrived on, and the forwarded user', async () => {
    const { base } = await start();
    const page = await get(`${base}/`, { 'X-Forwarded-User': 'alice' });
    expect(page.status).toBe(200);
    expect(page.text).toContain('STAND-IN desktop for session <span id="session">sess-1</span>');
    expect(page.text).toContain('<strong id="user">alice</strong>');
    const json = JSON.parse((await get(`${base}/standin.json`, { 'X-Forwarded-User': 'bob' })).text);
    expect(json).toMatchObject({ standin: true, session: 'sess-1', podIp: '127.0.0.1', user: 'bob' });
  });

  it('answers /health with what it serves, and 404 elsewhere', async () => {
    const { base } = await start();
    const h = JSON.parse((await get(`${base}/health`)).text);
    expect(h).toMatchObject({ standin: true, pid: process.pid, mapsDir: dir, maps: ['me'], sessions: 1 });
    expect((await get(`${base}/nothing-here`)).status).toBe(404);
  });

  it('says so when no session has the address', async () => {
    const { base } = await start();
    writeMap(dir, 'me', { ownerPid: process.pid, map: {} });
    await new Promise((r) => setTimeout(r, 700));
    const page = await get(`${base}/`);
    expect(page.status).toBe(404);
    expect(page.text).toMatch(/No session pod has the address 127\.0\.0\.1/);
  });

  it('speaks websocket on /ws: hello with session and user, echo, ticks', async () => {
    const { port } = await start();
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws?tick=100`, {
      headers: { 'X-Forwarded-User': 'alice' },
    });
    const messages: Record<string, unknown>[] = [];
    ws.on('message', (d) => messages.push(JSON.parse(d.toString()) as Record<string, unknown>));
    await new Promise((r) => ws.once('open', r));
    ws.send('ping-1');
    await new Promise((r) => setTimeout(r, 400));
    ws.close();
    expect(messages[0]).toMatchObject({
      type: 'hello',
      session: 'sess-1',
      user: 'alice',
      podIp: '127.0.0.1',
    });
    expect(messages).toContainEqual(expect.objectContaining({ type: 'echo', data: 'ping-1' }));
    expect(messages.filter((m) => m.type === 'tick').length).toBeGreaterThanOrEqual(2);
  });

  it('removes map files of processes that are gone, and exits when no watcher is left', async () => {
    const { base } = await start(600);
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    const deadFile = writeMap(dir, 'dead', { ownerPid: dead, map: { '127.0.0.2': entry } });
    expect(loadMapFiles(dir).ids).toEqual(['me']);
    expect(existsSync(deadFile)).toBe(false);
    expect(JSON.parse((await get(`${base}/health`)).text).maps).toEqual(['me']);
    rmSync(path.join(dir, 'me.json'));
    let timer: NodeJS.Timeout | undefined;
    const exited = await Promise.race([
      server!.idle.then(() => true),
      new Promise<boolean>((r) => (timer = setTimeout(() => r(false), 5000))),
    ]);
    clearTimeout(timer);
    expect(exited).toBe(true);
  });

  describe('with basic auth on (as the pod asks Selkies)', () => {
    const password = `Basic ${Buffer.from('vdi:the-session-password').toString('base64')}`;
    const locked = {
      ...entry,
      basicAuth: { user: 'vdi', authorizationSha256: authorizationSha256(password) },
    };

    it('answers its routes only with the session’s password: 401 without or with another', async () => {
      const { base } = await start(60_000, locked);
      const none = await get(`${base}/standin.json`);
      expect(none.status).toBe(401);
      expect(none.text).toBe(
        "stand-in desktop sess-1: basic auth is on: user vdi and the session's password are required\n",
      );
      const r = await fetch(`${base}/`, { headers: { Authorization: 'Basic dmRpOmd1ZXNz' } });
      expect(r.status).toBe(401);
      expect(r.headers.get('www-authenticate')).toBe('Basic realm="sess-1"');
      expect(await r.text()).toBe('stand-in desktop sess-1: basic auth is on: wrong user or password\n');
      const ok = await get(`${base}/standin.json`, { Authorization: password });
      expect(ok.status).toBe(200);
      expect(JSON.parse(ok.text)).toMatchObject({ session: 'sess-1', basicAuth: 'passed' });
      // The server's own health check is not a desktop route.
      expect((await get(`${base}/health`)).status).toBe(200);
    });

    it('refuses a websocket upgrade without the password, and opens it with', async () => {
      const { port } = await start(60_000, locked);
      const refused = await new Promise<number>((resolve, reject) => {
        const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
        ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.once('open', () => reject(new Error('opened without the password')));
        ws.once('error', () => undefined);
      });
      expect(refused).toBe(401);
      const ws = new WebSocket(`ws://127.0.0.1:${port}/ws?tick=0`, { headers: { Authorization: password } });
      const hello = await new Promise<Record<string, unknown>>((r) =>
        ws.once('message', (d) => r(JSON.parse(d.toString()) as Record<string, unknown>)),
      );
      expect(hello).toMatchObject({ type: 'hello', session: 'sess-1' });
      ws.close();
    });

    it('refuses everything when the password could not be read', async () => {
      const { base } = await start(60_000, {
        ...entry,
        basicAuth: { unreadable: 'the password in Secret x could not be read' },
      });
      const r = await get(`${base}/`, { Authorization: password });
      expect(r.status).toBe(401);
      expect(r.text).toMatch(/basic auth is on and the password in Secret x could not be read/);
    });
  });
});
