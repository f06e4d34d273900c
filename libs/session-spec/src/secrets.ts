/**
 * The session's Secrets: `<session>-turn` holds the RTC configuration with time-limited TURN
 * credentials (mounted as a directory, so a rotation reaches the running desktop), and
 * `<session>-auth` the random per-session password. Neither contains the cluster's TURN shared
 * secret: a desktop user has a shell and can read everything mounted into the pod.
 */
import { createHmac } from 'node:crypto';
import type { V1Secret } from '@kubernetes/client-node';
import type { VDISession } from '@vdi/crd-types';
import { SessionSpecError } from './errors.js';
import { childMeta } from './labels.js';
import { childNames } from './names.js';
import type { PlatformOptions } from './options.js';
import { rtcConfigJson, type TurnCredentials } from './turn.js';

/** The user name of Selkies' basic auth on every desktop; the password is per session. */
export const DESKTOP_BASIC_AUTH_USER = 'vdi';

/**
 * A session's desktop password: HMAC of the session's uid under the platform's session key
 * (`VDI_SESSION_KEY`, given to the operator and the API, never to a pod). The operator puts it in
 * the session's Secret for Selkies' basic auth; the API's forward-auth hands it to Traefik for an
 * admitted request. Reaching a desktop pod's port directly therefore needs more than the network:
 * it needs this session's password, and one desktop's password opens no other desktop.
 */
export function sessionPassword(sessionKey: string, sessionUid: string): string {
  if (!sessionUid) throw new SessionSpecError('metadata.uid', 'a session password needs the session uid');
  return createHmac('sha256', sessionKey)
    .update(`vdi-session-password:${sessionUid}`)
    .digest('base64url')
    .slice(0, 32);
}

/** The `Authorization` header value that opens a session's desktop (Selkies basic auth). */
export function desktopAuthorization(sessionKey: string, sessionUid: string): string {
  const pair = `${DESKTOP_BASIC_AUTH_USER}:${sessionPassword(sessionKey, sessionUid)}`;
  return `Basic ${Buffer.from(pair, 'utf8').toString('base64')}`;
}

/** Values shipped in example manifests and docs: a secret must never be one of them. */
const PLACEHOLDER = /change[-_ ]?me|placeholder|example|insecure|dev[-_]only|not[-_]secret|^(.)\1+$/i;

/**
 * Why a platform secret (TURN shared secret, session key, cookie secret) is unfit, or undefined
 * when it is fit: too short to resist guessing, or a placeholder from the manifests.
 */
export function secretWeakness(value: string | undefined): string | undefined {
  if (!value) return 'it is empty';
  if (value.length < 32) return `it has ${value.length} characters; use at least 32 (openssl rand -hex 32)`;
  if (PLACEHOLDER.test(value))
    return 'it is a placeholder from the examples; generate one (openssl rand -hex 32)';
  return undefined;
}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

/**
 * The start of the credential window that contains `nowSeconds`. Minting with this instead of
 * the current time keeps the rendered Secret byte-identical between reconciles (no change on
 * every apply) while guaranteeing at least half the TTL of validity; rotate at the next window.
 */
export function credentialWindowStart(nowSeconds: number, ttlSeconds: number): number {
  const step = Math.max(1, Math.floor(ttlSeconds / 2));
  return Math.floor(nowSeconds / step) * step;
}

export function turnSecret(session: VDISession, o: PlatformOptions, creds: TurnCredentials): V1Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'Opaque',
    metadata: childMeta(session, childNames(session.metadata.name!).turnSecret, o.namespace, 'turn'),
    data: { 'rtc.json': b64(rtcConfigJson(o.turn, creds)) },
  };
}

export function authSecret(session: VDISession, o: PlatformOptions, password: string): V1Secret {
  if (password.length < 16) {
    throw new SessionSpecError(
      'sessionPassword',
      'a session password must be random and at least 16 characters long',
    );
  }
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'Opaque',
    metadata: childMeta(session, childNames(session.metadata.name!).authSecret, o.namespace, 'auth'),
    data: { password: b64(password) },
  };
}
