/**
 * TURN credentials for a desktop session, and the RTC configuration Selkies reads.
 *
 * The platform's coturn runs with `use-auth-secret` (the "TURN REST API" scheme): the operator and
 * coturn share one secret, and every session gets a time-limited username/password derived from
 * it, so no per-user state lives in coturn and a leaked credential stops working by itself.
 * Pure functions: the current time comes in as an argument.
 */
import { createHmac } from 'node:crypto';

/** Where clients reach the TURN server (and, optionally, a separate STUN server). */
export interface TurnServer {
  host: string;
  port: number;
  protocol: 'udp' | 'tcp';
  /** `turns:` (TLS over TCP, DTLS over UDP) instead of `turn:`; coturn then needs a certificate. */
  tls?: boolean;
  /** Defaults to `host`: coturn answers STUN Binding requests on its TURN port too. */
  stunHost?: string;
  /** Defaults to `port`. */
  stunPort?: number;
}

export interface TurnCredentials {
  /** `<expiresAt>:<identity, percent-encoded>` */
  username: string;
  /** base64(HMAC-SHA1(secret, username)) */
  password: string;
  /** Unix seconds; coturn accepts the credentials up to and including this second. */
  expiresAt: number;
}

/** An input that would produce credentials or a configuration coturn or Selkies cannot use. */
export class TurnConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TurnConfigError';
  }
}

/** Longest accepted lifetime: a credential that outlives a week is no longer "temporary". */
export const MAX_TURN_TTL_SECONDS = 7 * 24 * 3600;

/**
 * Longest username in bytes. RFC 8489 §14.3 caps USERNAME below 513 bytes; coturn refuses a
 * 513-byte username (checked with turnutils_uclient against coturn 4.6.1).
 */
export const MAX_TURN_USERNAME_BYTES = 512;

/** coturn keeps the REST timestamp in a `uint32_t` (`turn_time_t`), so expiries must fit in one. */
const MAX_COTURN_TIME = 2 ** 32 - 1;

// Bytes kept as they are in the identity part of the username; everything else is %XX-encoded.
const IDENTITY_SAFE_BYTE = /^[A-Za-z0-9._~@+-]$/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
// A DNS name or an IPv4 address. IPv6 literals are refused: Selkies splits `turn:` URLs on ':'.
const HOST = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$/;
const CONTROL_CHAR = /\p{Cc}/u;

/**
 * The identity as it appears after the first ':' of the username: UTF-8 bytes outside
 * `A-Z a-z 0-9 . _ ~ @ + -` are percent-encoded (`%3A`, `%C3%AB`, …).
 *
 * coturn itself splits the username at the FIRST ':' (`strchr` in `get_rest_api_timestamp`), so a
 * ':' in the identity would be read correctly by coturn; other bytes are not harmless, though: a
 * space makes coturn answer 400 Bad Request, and its byte-wise SASLprep rejects some UTF-8
 * sequences. Encoding keeps the username plain ASCII with exactly one ':', valid however a TURN
 * server splits it. It is injective ('%' itself is encoded), so distinct identities never share a
 * username, and readable for ordinary identities (`alice@example.com` stays as it is).
 */
export function turnIdentity(identity: string): string {
  if (identity.length === 0) throw new TurnConfigError('TURN identity must not be empty');
  // Buffer.from would turn a lone surrogate into U+FFFD, and two identities into one username.
  if (LONE_SURROGATE.test(identity)) {
    throw new TurnConfigError('TURN identity is not well-formed Unicode (it contains a lone surrogate)');
  }
  let out = '';
  for (const byte of Buffer.from(identity, 'utf8')) {
    const ch = String.fromCharCode(byte);
    out += IDENTITY_SAFE_BYTE.test(ch) ? ch : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** The TURN identity of a session: `<namespace>.<name>.<first 8 of its uid>`. */
export function turnSessionIdentity(session: {
  metadata: { namespace?: string; name?: string; uid?: string };
}): string {
  const m = session.metadata;
  return `${m.namespace}.${m.name}.${(m.uid ?? '').slice(0, 8)}`;
}

/**
 * TURN REST API scheme (coturn use-auth-secret): username "<expiry-unix>:<identity>", password
 * base64(HMAC-SHA1(secret, username)). The identity is percent-encoded by {@link turnIdentity}.
 * coturn accepts the credentials while its clock reads at most `expiresAt`; it checks them when an
 * allocation is authenticated.
 */
export function mintTurnCredentials(
  sharedSecret: string,
  identity: string,
  nowUnixSeconds: number,
  ttlSeconds: number,
): TurnCredentials {
  if (sharedSecret.length === 0) throw new TurnConfigError('TURN shared secret must not be empty');
  // coturn reads the secret as a C string from its command line or config file: a NUL would cut
  // it short there, and surrounding whitespace is lost by config files and env-var tooling alike.
  if (CONTROL_CHAR.test(sharedSecret) || sharedSecret.trim() !== sharedSecret) {
    throw new TurnConfigError(
      'TURN shared secret must not contain control characters or leading/trailing whitespace',
    );
  }
  if (!Number.isSafeInteger(ttlSeconds) || ttlSeconds <= 0 || ttlSeconds > MAX_TURN_TTL_SECONDS) {
    throw new TurnConfigError(
      `TURN credential ttl must be a whole number of seconds in 1..${MAX_TURN_TTL_SECONDS}, got ${ttlSeconds}`,
    );
  }
  if (!Number.isSafeInteger(nowUnixSeconds) || nowUnixSeconds < 0) {
    throw new TurnConfigError(
      `current time must be a whole, non-negative number of unix seconds, got ${nowUnixSeconds}`,
    );
  }
  const expiresAt = nowUnixSeconds + ttlSeconds;
  if (expiresAt > MAX_COTURN_TIME) {
    // Far more likely a Date.now() passed unconverted than a deployment in the 22nd century.
    throw new TurnConfigError(
      `TURN credential expiry ${expiresAt} does not fit coturn's 32-bit timestamp (was the time given in milliseconds?)`,
    );
  }
  const username = `${expiresAt}:${turnIdentity(identity)}`;
  if (username.length > MAX_TURN_USERNAME_BYTES) {
    throw new TurnConfigError(
      `TURN username would be ${username.length} bytes after encoding the identity, over the ${MAX_TURN_USERNAME_BYTES}-byte limit of STUN`,
    );
  }
  const password = createHmac('sha1', Buffer.from(sharedSecret, 'utf8'))
    .update(username, 'utf8')
    .digest('base64');
  return { username, password, expiresAt };
}

function checkHost(what: string, host: string): void {
  if (host.length === 0) throw new TurnConfigError(`${what} must not be empty`);
  if (host.includes(':')) {
    throw new TurnConfigError(
      `${what} ${JSON.stringify(host)} looks like an IPv6 address or has a port: Selkies splits ICE URLs on ':', use a DNS name or an IPv4 address`,
    );
  }
  if (!HOST.test(host)) {
    throw new TurnConfigError(`${what} ${JSON.stringify(host)} is not a DNS name or an IPv4 address`);
  }
}

function checkPort(what: string, port: number): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new TurnConfigError(`${what} must be an integer in 1..65535, got ${port}`);
  }
}

function checkServer(server: TurnServer): void {
  checkHost('TURN host', server.host);
  checkPort('TURN port', server.port);
  if (server.protocol !== 'udp' && server.protocol !== 'tcp') {
    throw new TurnConfigError(`TURN protocol must be "udp" or "tcp", got ${JSON.stringify(server.protocol)}`);
  }
}

const turnUrl = (s: TurnServer) => `${s.tls ? 'turns' : 'turn'}:${s.host}:${s.port}?transport=${s.protocol}`;

/**
 * The RTC configuration JSON the platform's TURN REST endpoint answers with (and Selkies serves
 * unchanged to the browser at `api/turn`): the Google-style document, with one `stun:` server and
 * one entry carrying the credentials for `server` and any `alternatives` (e.g. TURN over TLS on
 * 443 for networks that block UDP). Selkies needs the `stun:` entry (it takes the first STUN URL
 * for its own ICE agent). No public STUN server is added: desktops must not depend on, or leak
 * addresses to, third parties. `lifetimeDuration` is left out: it would need the current time,
 * and neither Selkies nor RTCPeerConnection reads it.
 *
 * Deterministic: same input → same bytes (fixed key order, two-space indent, final newline).
 */
export function rtcConfigJson(
  server: TurnServer,
  creds: TurnCredentials,
  alternatives: TurnServer[] = [],
): string {
  for (const s of [server, ...alternatives]) checkServer(s);
  const stunHost = server.stunHost ?? server.host;
  const stunPort = server.stunPort ?? server.port;
  checkHost('STUN host', stunHost);
  checkPort('STUN port', stunPort);
  if (creds.username.length === 0 || creds.password.length === 0) {
    throw new TurnConfigError('TURN credentials must have a username and a password');
  }
  if (Buffer.byteLength(creds.username, 'utf8') > MAX_TURN_USERNAME_BYTES) {
    throw new TurnConfigError(`TURN username is over the ${MAX_TURN_USERNAME_BYTES}-byte limit of STUN`);
  }
  const config = {
    iceServers: [
      { urls: [`stun:${stunHost}:${stunPort}`] },
      {
        urls: [...new Set([server, ...alternatives].map(turnUrl))],
        username: creds.username,
        credential: creds.password,
      },
    ],
    blockStatus: 'NOT_BLOCKED',
    iceTransportPolicy: 'all',
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}
