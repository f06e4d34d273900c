/**
 * The one door of the API: a Fastify `onRequest` hook that verifies the bearer token of every
 * request except the kubelet's and Prometheus' endpoints, and refuses users without a platform
 * role. Resolvers find the principal in the GraphQL context and never see an anonymous call.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCode } from '../common/errors.js';
import { mayUsePlatform, ROLE_USER, type Principal } from './principal.js';
import { TokenVerifier, UnauthenticatedError } from './token-verifier.js';

/**
 * Paths reachable without a token: probes, metrics, Traefik's forwardAuth (which decides by
 * the desktop cookie or ticket, see access/) and the page of a desktop not routed yet.
 */
export const PUBLIC_PATHS = new Set(['/healthz', '/readyz', '/metrics', '/auth/session', '/auth/starting']);

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

function refuse(reply: FastifyReply, status: number, code: ErrorCode, message: string) {
  if (status === 401) reply.header('WWW-Authenticate', 'Bearer error="invalid_token"');
  return reply.code(status).send({ data: null, errors: [{ message, extensions: { code } }] });
}

export function registerAuthHook(fastify: FastifyInstance, verifier: TokenVerifier): void {
  fastify.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    const path = req.url.split('?', 1)[0]!;
    if (PUBLIC_PATHS.has(path)) return;
    // CORS preflights carry no credentials by design; @fastify/cors answers them.
    if (req.method === 'OPTIONS') return;
    // A real WebSocket upgrade (Node hands only those to the 'upgrade' event, and
    // @fastify/websocket then runs the route's socket handler, never its HTTP one): browsers
    // cannot send headers with it, so subscriptions authenticate in connection_init (ws-auth.ts).
    if (path === '/graphql' && (req.raw as { upgrade?: boolean }).upgrade === true) return;
    try {
      req.principal = await verifier.verifyHeader(req.headers.authorization);
    } catch (err) {
      if (err instanceof UnauthenticatedError)
        return refuse(reply, 401, ErrorCode.Unauthenticated, err.message);
      throw err;
    }
    if (!mayUsePlatform(req.principal)) {
      return refuse(
        reply,
        403,
        ErrorCode.Forbidden,
        `your account lacks the ${ROLE_USER} role; ask an admin for access`,
      );
    }
  });
}
