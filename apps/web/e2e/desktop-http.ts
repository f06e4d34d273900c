/**
 * A websocket upgrade to a desktop through Traefik, as a browser holding `cookie` would send it, on
 * loopback with the desktop's host (Node does not resolve *.localhost names): the status it gets,
 * 101 when it is accepted. For checks of who a desktop admits that the page cannot show.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';

export function upgradeStatus(url: string, cookie: string): Promise<number> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1',
      port: Number(u.port),
      path: `${u.pathname}${u.search}`,
      headers: {
        host: u.host,
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-version': '13',
        'sec-websocket-key': randomBytes(16).toString('base64'),
        cookie,
      },
      timeout: 15_000,
    });
    req.on('upgrade', (_res, socket) => {
      socket.destroy();
      resolve(101);
    });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url} in 15 s`)));
    req.on('error', reject);
    req.end();
  });
}
