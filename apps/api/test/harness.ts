/**
 * The API in-process (Nest on port 0) against the test cluster and the local Keycloak, with a
 * sessions namespace of its own, and a small GraphQL client.
 */
import { passwordGrant as keycloakPasswordGrant } from '@vdi/keycloak';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type * as k8s from '@kubernetes/client-node';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createClient, type Client } from 'graphql-ws';
import { decodeJwt, exportJWK, generateKeyPair, SignJWT, type JWTPayload } from 'jose';
import WebSocket from 'ws';
import { TEST_SESSION_KEY, waitFor } from '@vdi/testing';
import { createApp } from '../src/bootstrap.js';
import { loadConfig } from '../src/config.js';

export interface GqlResult {
  status: number;
  body: {
    data?: Record<string, unknown> | null;
    errors?: { message: string; extensions?: { code?: string; [k: string]: unknown } }[];
  };
}

export interface RunningApi {
  app: NestFastifyApplication;
  url: string;
  gql(token: string | undefined, query: string, variables?: Record<string, unknown>): Promise<GqlResult>;
  close(): Promise<void>;
}

export async function startApi(kc: k8s.KubeConfig, env: Record<string, string>): Promise<RunningApi> {
  const app = await createApp({
    config: loadConfig({ VDI_SESSION_KEY: TEST_SESSION_KEY, ...env }),
    kubeConfig: kc,
    schemaFile: false,
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const url = await app.getUrl();
  await waitFor('API ready', async () => (await fetch(`${url}/readyz`)).status === 200, 30_000);
  return {
    app,
    url,
    gql: (token, query, variables = {}) => gqlAt(url, token, query, variables),
    close: () => app.close(),
  };
}

/** The first error code of a result (undefined when there is none). */
export const codeOf = (r: GqlResult) => r.body.errors?.[0]?.extensions?.code;

/** A JWKS endpoint of our own and a signer for it: tokens this test mints and a second API trusts. */
export interface OwnIssuer {
  jwksUri: string;
  sign(claims: JWTPayload, opts?: { expiresIn?: string | number; iat?: number }): Promise<string>;
  close(): Promise<void>;
}

export async function ownIssuer(): Promise<OwnIssuer> {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'test-key', alg: 'RS256', use: 'sig' };
  const server: Server = createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    jwksUri: `http://127.0.0.1:${port}/certs`,
    async sign(claims, opts = {}) {
      const jwt = new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'test-key', typ: 'JWT' });
      jwt.setIssuedAt(opts.iat);
      jwt.setExpirationTime(opts.expiresIn ?? '5m');
      return jwt.sign(privateKey);
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** A token signed with a key nobody trusts, claiming to come from `iss`. */
export async function forgedToken(claims: JWTPayload, kid?: string): Promise<string> {
  const { privateKey } = await generateKeyPair('RS256');
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', ...(kid ? { kid } : {}) })
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(privateKey);
}

/** The local Keycloak's issuer (started by the api:integration global setup). */
export { keycloakIssuer } from '@vdi/testing';

/** The owner (issuer + subject) a token's sessions belong to. */
export function ownerOf(token: string): { issuer: string; subject: string } {
  const { iss, sub } = decodeJwt(token);
  if (typeof iss !== 'string' || typeof sub !== 'string') throw new Error('the token has no iss or sub');
  return { issuer: iss, subject: sub };
}

/** A real access token of a demo user (the dev realm's password grant, via @vdi/keycloak). */
export async function accessToken(username: string, password = username): Promise<string> {
  return (await keycloakPasswordGrant(username, password)).access_token;
}

/** A graphql-ws client of the API's /graphql, with the close event it ended with (if any). */
export interface WsClient {
  client: Client;
  closed: Promise<{ code: number; reason: string }>;
}

export function wsClient(apiUrl: string, connectionParams?: Record<string, unknown>): WsClient {
  let onClosed!: (e: { code: number; reason: string }) => void;
  const closed = new Promise<{ code: number; reason: string }>((r) => (onClosed = r));
  const client = createClient({
    url: `${apiUrl.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    ...(connectionParams ? { connectionParams } : {}),
    retryAttempts: 0,
    lazy: false,
    on: {
      closed: (e) => {
        const c = e as { code: number; reason: string | Buffer };
        onClosed({ code: c.code, reason: String(c.reason) });
      },
    },
    onNonLazyError: () => undefined,
  });
  return { client, closed };
}

export interface Subscribed<T> {
  events: T[];
  errors: unknown[];
  /** Resolves with the first event that passes `pred` (rejects after `ms`). */
  next(pred: (e: T) => boolean, ms?: number): Promise<T>;
  dispose(): void;
}

export function subscribe<T>(
  client: Client,
  query: string,
  field: string,
  variables: Record<string, unknown> = {},
): Subscribed<T> {
  const events: T[] = [];
  const errors: unknown[] = [];
  const waiters: { pred: (e: T) => boolean; resolve: (e: T) => void }[] = [];
  const dispose = client.subscribe<Record<string, T>>(
    { query, variables },
    {
      next: (r) => {
        const e = r.data?.[field];
        if (r.errors) errors.push(...r.errors);
        if (!e) return;
        events.push(e);
        for (const w of [...waiters]) {
          if (w.pred(e)) {
            waiters.splice(waiters.indexOf(w), 1);
            w.resolve(e);
          }
        }
      },
      error: (err) => errors.push(err),
      complete: () => undefined,
    },
  );
  return {
    events,
    errors,
    dispose,
    next(pred, ms = 15_000) {
      const seen = events.find(pred);
      if (seen) return Promise.resolve(seen);
      return new Promise<T>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no matching event within ${ms} ms`)), ms);
        waiters.push({
          pred,
          resolve: (e) => {
            clearTimeout(t);
            resolve(e);
          },
        });
      });
    },
  };
}

/** The value of one sample of the API's /metrics (undefined when absent). */
export async function metricValue(apiUrl: string, sample: string): Promise<number | undefined> {
  const text = await (await fetch(`${apiUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${sample} `));
  return line ? Number(line.slice(sample.length + 1)) : undefined;
}

/** One GraphQL request to an API at `url` (an in-process one or a separate process). */
export async function gqlAt(
  url: string,
  token: string | undefined,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<GqlResult> {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, body: (await res.json()) as GqlResult['body'] };
}
