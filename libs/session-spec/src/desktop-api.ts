/**
 * The part of a desktop's own HTTP API (Selkies 2.1) the platform calls, straight to the pod with
 * the session's Basic credentials (desktopAuthorization): which pages stream it (`GET
 * /api/sessions`, for idle culling) and closing one (`DELETE /api/sessions/<id>`, for revocation).
 */
import type { V1Pod } from '@kubernetes/client-node';
import { DESKTOP_PORT } from './options.js';

/** A desktop that answered, but not as Selkies does (a refusal, or not its JSON). */
export class DesktopAnswerError extends Error {
  constructor(
    readonly url: string,
    readonly status: number,
  ) {
    super(`${url} answered ${status}`);
    this.name = 'DesktopAnswerError';
  }
}

/** `http://<pod IP>:<desktop port>` of a running desktop pod; undefined before it has one or while it goes. */
export function desktopBaseUrl(pod: V1Pod | undefined): string | undefined {
  const ip = pod?.status?.podIP;
  if (!ip || pod?.status?.phase !== 'Running' || pod.metadata?.deletionTimestamp) return undefined;
  return `http://${ip.includes(':') ? `[${ip}]` : ip}:${DESKTOP_PORT}`;
}

/**
 * The pages connected to the desktop's stream. Throws DesktopAnswerError for an answer that is
 * not Selkies' list, and the network's error when it does not answer within `timeoutMs`.
 */
export async function desktopConnections(
  base: string,
  authorization: string,
  timeoutMs = 3_000,
): Promise<{ id: string; role?: string; connectedAt?: string }[]> {
  const url = `${base}/api/sessions`;
  const res = await fetch(url, { headers: { authorization }, signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new DesktopAnswerError(url, res.status);
  const body = (await res.json().catch(() => undefined)) as
    { sessions?: { id?: unknown; role?: unknown; connected_at?: unknown }[] } | undefined;
  if (!Array.isArray(body?.sessions)) throw new DesktopAnswerError(url, res.status);
  // Selkies' role ("controller" or "viewer") tells a view grantee's page from the others (shares).
  return body.sessions
    .filter((c) => c.id !== undefined)
    .map((c) => ({
      id: String(c.id),
      ...(typeof c.role === 'string' ? { role: c.role } : {}),
      ...(typeof c.connected_at === 'string' ? { connectedAt: c.connected_at } : {}),
    }));
}

/** Closes one page's connection; false when it was already gone (404). */
export async function closeDesktopConnection(
  base: string,
  authorization: string,
  id: string,
  timeoutMs = 15_000,
): Promise<boolean> {
  const url = `${base}/api/sessions/${encodeURIComponent(id)}`;
  const res = await fetch(url, {
    method: 'DELETE',
    headers: { authorization },
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (res.ok) return true;
  if (res.status === 404) return false;
  throw new DesktopAnswerError(url, res.status);
}
