/**
 * The session's Secret `<session>-auth`: its desktop password (Selkies basic auth) and, for a
 * WebRTC desktop, the key it fetches its TURN credentials with from the platform's TURN REST
 * endpoint. Neither is the cluster's TURN shared secret nor opens another session: a desktop user
 * has a shell and can read everything given to the pod.
 */
import { createHmac } from 'node:crypto';
import type { V1Secret } from '@kubernetes/client-node';
import type { VDISession } from '@vdi/crd-types';
import { derivedOnce } from './derived.js';
import { SessionSpecError } from './errors.js';
import { childMeta } from './labels.js';
import { childNames } from './names.js';
import type { PlatformOptions } from './options.js';
import { VIEWONLY_PASSWORD_KEY, viewOnlyPasswordFor } from './share.js';

/** The key of `<session>-auth` holding the TURN REST key (WebRTC desktops only). */
export const TURN_REST_KEY = 'turn-rest-key';

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
  const input = `vdi-session-password:${sessionUid}`;
  return derivedOnce(sessionKey, input, () =>
    createHmac('sha256', sessionKey).update(input).digest('base64url').slice(0, 32),
  );
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
 * The key a WebRTC desktop presents to the platform's TURN REST endpoint (Selkies sends it as the
 * `key` query parameter): HMAC of the session's uid under the session key, so it names one session
 * and is useless for any other, and the endpoint recomputes it instead of storing it.
 */
export function turnRestKey(sessionKey: string, sessionUid: string): string {
  if (!sessionUid) throw new SessionSpecError('metadata.uid', 'a TURN REST key needs the session uid');
  const input = `vdi-turn-rest:${sessionUid}`;
  return derivedOnce(sessionKey, input, () =>
    createHmac('sha256', sessionKey).update(input).digest('base64url'),
  );
}

export function authSecret(
  session: VDISession,
  o: PlatformOptions,
  password: string,
  restKey?: string,
): V1Secret {
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
    data: {
      password: b64(password),
      // Selkies' view-only password (share.ts): what forward-auth hands Traefik for a `view` grantee.
      [VIEWONLY_PASSWORD_KEY]: b64(viewOnlyPasswordFor(password)),
      ...(restKey ? { [TURN_REST_KEY]: b64(restKey) } : {}),
    },
  };
}
