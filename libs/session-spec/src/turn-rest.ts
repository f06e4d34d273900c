/**
 * The platform's TURN REST endpoint, as pure decisions: a WebRTC desktop asks it for TURN
 * credentials (Selkies' `SELKIES_TURN_REST_URI`, fetched at start and every 60 s) and gets an RTC
 * configuration minted for its own session only.
 *
 * Why an endpoint and not a file: Selkies refuses an RTC configuration file that is a symlink
 * (every file of a Secret volume is one), and a desktop must never hold the TURN shared secret.
 * The endpoint holds it; each desktop holds only a key that names its own session
 * ({@link turnRestKey}), recomputed here rather than stored. Credentials come from the session
 * that exists now: once the session is deleted or failed, no more are issued, and those already
 * issued expire within the TTL (at most an hour).
 *
 * The request, as Selkies 2.1 sends it: `GET <uri>?service=turn&username=…&key=<key>&api=<key>`
 * with headers `x-auth-user`, `x-turn-protocol`, `x-turn-tls`. The session is named by the path
 * (`/turn/<namespace>/<name>`), so the username Selkies sends is not trusted for anything.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { VDISession } from '@vdi/crd-types';
import type { PlatformOptions } from './options.js';
import { turnRestKey } from './secrets.js';
import { mintTurnCredentials, rtcConfigJson, turnSessionIdentity, type TurnServer } from './turn.js';

/** The path prefix the endpoint serves; the session follows as `<namespace>/<name>`. */
export const TURN_REST_PATH = '/turn/';

/** The URI a session's desktop fetches its credentials from (its `SELKIES_TURN_REST_URI`). */
export function turnRestUri(session: VDISession, o: PlatformOptions): string {
  const base = o.turnRest.url.replace(/\/+$/, '');
  return `${base}${TURN_REST_PATH}${session.metadata.namespace ?? o.namespace}/${session.metadata.name}`;
}

export interface TurnRestContext {
  /** The platform's session key (VDI_SESSION_KEY): the desktops' keys are derived from it. */
  sessionKey: string;
  /** coturn's static-auth-secret. */
  turnSecret: string;
  /** The TURN servers handed out, the first being the one Selkies itself uses. */
  servers: TurnServer[];
  ttlSeconds: number;
  nowSeconds: number;
}

export interface TurnRestAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** Why, for the server's log (never sent: it would tell a prober which part was wrong). */
  reason: string;
  /** The session the answer was for, when the path named one. */
  session?: string;
}

const json = { 'content-type': 'application/json', 'cache-control': 'no-store' };
const text = { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' };

function sameKey(given: string, expected: string): boolean {
  // Hash both so the comparison takes the same time whatever the lengths.
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** A session that may hold TURN credentials: it exists, is not being deleted and has not failed. */
function mayRelay(session: VDISession): boolean {
  return !session.metadata.deletionTimestamp && session.status?.phase !== 'Failed';
}

/**
 * The answer to one request. `lookup` returns the session named by the path (from a cache), or
 * undefined. Refusals carry no detail beyond their status; `reason` is for the log.
 */
export function answerTurnRest(
  method: string,
  url: string,
  lookup: (namespace: string, name: string) => VDISession | undefined,
  ctx: TurnRestContext,
): TurnRestAnswer {
  const refuse = (status: number, body: string, reason: string, session?: string): TurnRestAnswer => ({
    status,
    headers: status === 405 ? { ...text, allow: 'GET' } : text,
    body: `${body}\n`,
    reason,
    ...(session ? { session } : {}),
  });
  let parsed: URL;
  try {
    parsed = new URL(url, 'http://turn-rest.invalid');
  } catch {
    return refuse(400, 'bad request', 'unparsable request target');
  }
  if (!parsed.pathname.startsWith(TURN_REST_PATH)) return refuse(404, 'not found', 'unknown path');
  const parts = parsed.pathname.slice(TURN_REST_PATH.length).split('/');
  if (parts.length !== 2 || parts.some((p) => !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(p) || p.length > 63))
    return refuse(404, 'not found', 'path does not name a session as /turn/<namespace>/<name>');
  const [namespace, name] = parts as [string, string];
  const key = `${namespace}/${name}`;
  if (method !== 'GET') return refuse(405, 'method not allowed', `method ${method}`, key);
  const given = parsed.searchParams.get('key') ?? '';
  if (!given) return refuse(401, 'unauthorized', 'no key', key);
  const session = lookup(namespace, name);
  // Unknown session and wrong key look alike from outside: a desktop cannot probe for others.
  if (!session?.metadata.uid) return refuse(403, 'forbidden', 'no such session', key);
  if (!sameKey(given, turnRestKey(ctx.sessionKey, session.metadata.uid)))
    return refuse(403, 'forbidden', 'wrong key', key);
  if (!mayRelay(session)) {
    const why = session.metadata.deletionTimestamp ? 'session is being deleted' : 'session failed';
    return refuse(403, 'forbidden', why, key);
  }
  const [first, ...more] = ctx.servers;
  if (!first) return refuse(503, 'no TURN server configured', 'no TURN server configured', key);
  const creds = mintTurnCredentials(
    ctx.turnSecret,
    turnSessionIdentity(session),
    ctx.nowSeconds,
    ctx.ttlSeconds,
  );
  return {
    status: 200,
    headers: json,
    body: rtcConfigJson(first, creds, more),
    reason: 'issued',
    session: key,
  };
}
