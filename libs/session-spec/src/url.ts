/** The address a user opens to reach a session's desktop. */
import type { PlatformOptions } from './options.js';

export function sessionHost(session: string, o: PlatformOptions): string {
  return o.urlMode === 'host' ? `${session}.${o.baseDomain}` : o.baseDomain;
}

export function sessionPathPrefix(session: string, o: PlatformOptions): string {
  return o.urlMode === 'host' ? '/' : `/session/${session}/`;
}

export function sessionUrl(session: string, o: PlatformOptions): string {
  const defaultPort = o.publicScheme === 'https' ? 443 : 80;
  const port = o.publicPort === undefined || o.publicPort === defaultPort ? '' : `:${o.publicPort}`;
  return `${o.publicScheme}://${sessionHost(session, o)}${port}${sessionPathPrefix(session, o)}`;
}
