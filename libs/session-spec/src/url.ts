/**
 * The address a user opens to reach a session's desktop: its own host, `<session>.<baseDomain>`.
 * Every desktop is an origin of its own, so one desktop's page can neither read another desktop nor
 * script the portal (a shared host with path prefixes would allow both; it is not offered).
 */
import type { PlatformOptions } from './options.js';

export function sessionHost(session: string, o: PlatformOptions): string {
  return `${session}.${o.baseDomain}`;
}

export function sessionUrl(session: string, o: PlatformOptions): string {
  const defaultPort = o.publicScheme === 'https' ? 443 : 80;
  const port = o.publicPort === undefined || o.publicPort === defaultPort ? '' : `:${o.publicPort}`;
  return `${o.publicScheme}://${sessionHost(session, o)}${port}/`;
}
