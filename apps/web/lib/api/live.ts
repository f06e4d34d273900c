/**
 * A live GraphQL subscription over graphql-ws that keeps itself alive: it authenticates in
 * connection_init with a fresh token each time it connects, and reconnects with backoff when the
 * socket drops or the API closes it because the token expired (4401, which graphql-ws itself
 * treats as final). After a reconnect it asks the page to re-read the current state (`resync`),
 * because events sent while it was away are lost.
 */
import { createClient, type Client } from 'graphql-ws';
import { ApiError, toApiError } from './graphql';

export type LiveStatus = 'connecting' | 'live' | 'reconnecting';

export interface LiveHandlers<T> {
  next(data: T): void;
  status?(status: LiveStatus): void;
  /** A refusal no retry will fix (forbidden, bad request); the subscription has stopped. */
  error?(err: ApiError): void;
  /** Connected again after a drop: re-read the state, events may have been missed. */
  resync?(): void;
}

export interface LiveOptions {
  /** ws(s)://…/graphql */
  url: string;
  token(): Promise<string>;
  query: string;
  variables?: Record<string, unknown>;
  /** Backoff before the n-th reconnect (n ≥ 1), in ms. */
  backoffMs?(attempt: number): number;
  /** For tests in Node: a WebSocket implementation (browsers have their own). */
  webSocketImpl?: unknown;
}

/** The API closes with 4403 when it refuses the token (apps/api/src/auth/ws-auth.ts). */
const CLOSE_FORBIDDEN = 4403;

const defaultBackoff = (n: number) => Math.min(15_000, 250 * 2 ** n) * (0.75 + Math.random() / 2);

function closeEvent(e: unknown): { code: number; reason: string } | undefined {
  if (e && typeof e === 'object' && 'code' in e && typeof (e as { code: unknown }).code === 'number') {
    return { code: (e as { code: number }).code, reason: String((e as { reason?: unknown }).reason ?? '') };
  }
  return undefined;
}

/** Starts the subscription; the returned function stops it. */
export function subscribeLive<T>(opts: LiveOptions, h: LiveHandlers<T>): () => void {
  const backoff = opts.backoffMs ?? defaultBackoff;
  let stopped = false;
  let attempt = 0;
  let client: Client | undefined;
  let unsubscribe: (() => void) | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  // Each connection has a generation; callbacks of an older one (fired by its teardown) are ignored.
  let generation = 0;

  const teardown = () => {
    generation += 1;
    unsubscribe?.();
    unsubscribe = undefined;
    void client?.dispose();
    client = undefined;
  };

  const fail = (err: ApiError) => {
    teardown();
    stopped = true;
    h.error?.(err);
  };

  const retry = () => {
    if (stopped) return;
    teardown();
    attempt += 1;
    h.status?.('reconnecting');
    timer = setTimeout(connect, backoff(attempt));
  };

  function connect() {
    if (stopped) return;
    if (attempt === 0) h.status?.('connecting');
    const retried = attempt > 0;
    const gen = generation;
    const current = () => gen === generation && !stopped;
    client = createClient({
      url: opts.url,
      ...(opts.webSocketImpl ? { webSocketImpl: opts.webSocketImpl } : {}),
      lazy: true,
      retryAttempts: 0,
      connectionParams: async () => ({ authorization: `Bearer ${await opts.token()}` }),
      on: {
        connected: () => {
          if (!current()) return;
          attempt = 0;
          h.status?.('live');
          if (retried) h.resync?.();
        },
      },
    });
    unsubscribe = client.subscribe<T>(
      { query: opts.query, ...(opts.variables ? { variables: opts.variables } : {}) },
      {
        next: (result) => {
          if (!current()) return;
          if (result.errors?.length) return fail(toApiError(result.errors[0]!));
          if (result.data) h.next(result.data as T);
        },
        error: (err) => {
          if (!current()) return;
          if (Array.isArray(err) && err.length) return fail(toApiError(err[0] as { message: string }));
          const close = closeEvent(err);
          if (close?.code === CLOSE_FORBIDDEN) {
            return fail(new ApiError('FORBIDDEN', close.reason || 'the API refused live updates'));
          }
          // 4401 (token expired), a dropped socket or a server restart: connect again.
          retry();
        },
        // The API never ends a subscription by itself; if it does, pick it up again.
        complete: () => {
          if (current()) retry();
        },
      },
    );
  }

  connect();
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    teardown();
  };
}
