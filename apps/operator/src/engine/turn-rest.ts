/**
 * The TURN REST endpoint WebRTC desktops fetch their TURN credentials from (answerTurnRest in
 * @vdi/session-spec decides; this is its HTTP server). Every replica serves it from its own warm
 * cache, leader or not, so a Service over all operator pods works. It is on a port of its own:
 * desktops may reach it (their NetworkPolicy admits this port only), never /metrics.
 */
import http from 'node:http';
import type { VDISession } from '@vdi/crd-types';
import { answerTurnRest, type TurnServer } from '@vdi/session-spec';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';

export interface TurnRestDeps {
  sessions: (namespace: string, name: string) => VDISession | undefined;
  /** coturn's static-auth-secret; rejects with a message naming the Secret and the fix. */
  turnSecret: () => Promise<string>;
  sessionKey: string;
  servers: TurnServer[];
  ttlSeconds: number;
  log: Logger;
  registry: Registry;
  now?: () => number;
}

export function startTurnRestServer(port: number, host: string, d: TurnRestDeps): Promise<http.Server> {
  const answers = new Counter({
    name: 'vdi_operator_turn_rest_requests_total',
    help: 'Requests to the TURN REST endpoint, by HTTP status',
    labelNames: ['status'],
    registers: [d.registry],
  });
  const server = http.createServer((req, res) => {
    void (async () => {
      let secret: string;
      try {
        secret = await d.turnSecret();
      } catch (err) {
        d.log.error({ err: (err as Error).message }, 'TURN REST: no usable TURN secret');
        answers.inc({ status: '503' });
        res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8', 'retry-after': '10' });
        res.end('the TURN relay is not configured\n');
        return;
      }
      const a = answerTurnRest(req.method ?? 'GET', req.url ?? '/', d.sessions, {
        sessionKey: d.sessionKey,
        turnSecret: secret,
        servers: d.servers,
        ttlSeconds: d.ttlSeconds,
        nowSeconds: Math.floor((d.now?.() ?? Date.now()) / 1000),
      });
      answers.inc({ status: String(a.status) });
      const fields = {
        session: a.session,
        status: a.status,
        reason: a.reason,
        from: req.socket.remoteAddress,
      };
      if (a.status === 200) d.log.debug(fields, 'TURN credentials issued');
      else d.log.warn(fields, 'TURN credentials refused');
      res.writeHead(a.status, a.headers);
      res.end(a.body);
    })().catch((err: unknown) => {
      d.log.error({ err: (err as Error).message }, 'TURN REST request failed');
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  // A desktop asks once a minute; anything slower than this is not a desktop.
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
