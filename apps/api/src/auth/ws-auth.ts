/**
 * Authentication of GraphQL subscriptions (graphql-ws / graphql-transport-ws on GET /graphql).
 * Browsers cannot send headers with a WebSocket upgrade, so the HTTP auth hook lets upgrades of
 * /graphql through and the token is checked here, in `connection_init`:
 *
 *   { "type": "connection_init", "payload": { "authorization": "Bearer <access token>" } }
 *
 * (`Authorization` is accepted too). A missing, invalid or role-less token closes the socket
 * with 4403 and the reason; a connection is closed with 4401 when its token expires, so a
 * subscription never outlives the token that opened it. The principal joins the context of
 * every operation on the connection, as the HTTP hook puts it on the request.
 */
import { decodeJwt } from 'jose';
import { mayUsePlatform, ROLE_USER, type Principal } from './principal.js';
import { TokenVerifier, UnauthenticatedError } from './token-verifier.js';

/** Close codes (graphql-ws' own: 4403 Forbidden; 4401 Unauthorized). */
export const WS_CLOSE_FORBIDDEN = 4403;
export const WS_CLOSE_EXPIRED = 4401;

interface WsLike {
  close(code?: number, reason?: string): void;
  once(event: 'close', cb: () => void): unknown;
}

/** What connection_init carried as the header value, if anything. */
export function authorizationOf(payload: unknown): string | undefined {
  if (!payload || typeof payload !== 'object') return undefined;
  const p = payload as Record<string, unknown>;
  const v = p.authorization ?? p.Authorization;
  return typeof v === 'string' ? v : undefined;
}

/** A WebSocket close reason is at most 123 bytes. */
function closeReason(text: string): string {
  const buf = Buffer.from(text);
  return buf.length <= 123
    ? text
    : buf
        .subarray(0, 120)
        .toString('utf8')
        .replace(/\uFFFD+$/, '') + '...';
}

/**
 * Mercurius' `subscription.onConnect`. Mercurius calls it as a method of its connection object,
 * whose `socket` we close with a code the client can act on (its own refusal closes without one).
 */
export function subscriptionOnConnect(verifier: TokenVerifier) {
  return async function onConnect(
    this: { socket?: WsLike } | undefined,
    data: { payload?: unknown },
  ): Promise<{ principal: Principal } | false> {
    const socket = this?.socket;
    const refuse = (reason: string) => {
      socket?.close(WS_CLOSE_FORBIDDEN, closeReason(reason));
      return false as const;
    };
    const header = authorizationOf(data.payload);
    let principal: Principal;
    try {
      principal = await verifier.verifyHeader(header);
    } catch (err) {
      if (err instanceof UnauthenticatedError) return refuse(err.message);
      throw err;
    }
    if (!mayUsePlatform(principal)) return refuse(`your account lacks the ${ROLE_USER} role`);
    const exp = decodeJwt(header!.trim().split(/\s+/)[1]!).exp;
    if (socket && exp) {
      const timer = setTimeout(
        () => socket.close(WS_CLOSE_EXPIRED, 'the token has expired; reconnect with a fresh one'),
        Math.min(2 ** 31 - 1, Math.max(0, exp * 1000 - Date.now())),
      );
      timer.unref();
      socket.once('close', () => clearTimeout(timer));
    }
    return { principal };
  };
}
