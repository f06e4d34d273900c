/**
 * The session's Secrets: `<session>-turn` holds the RTC configuration with time-limited TURN
 * credentials (mounted as a directory, so a rotation reaches the running desktop), and
 * `<session>-auth` the random per-session password. Neither contains the cluster's TURN shared
 * secret: a desktop user has a shell and can read everything mounted into the pod.
 */
import type { V1Secret } from '@kubernetes/client-node';
import type { VDISession } from '@vdi/crd-types';
import { SessionSpecError } from './errors.js';
import { childMeta } from './labels.js';
import { childNames } from './names.js';
import type { PlatformOptions } from './options.js';
import { rtcConfigJson, type TurnCredentials } from './turn.js';

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
