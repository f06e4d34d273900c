/**
 * One GraphQL request over HTTP to the API. Every way it can fail becomes an ApiError with a code:
 * the API's own `extensions.code`, or NETWORK / HTTP / BAD_RESPONSE for failures before the API
 * answered in GraphQL. `lib/errors.ts` turns those into sentences.
 */

export type ApiErrorCode =
  | 'BAD_USER_INPUT'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'QUOTA_EXCEEDED'
  /** The user's GPU-hour budget for the period is used up. */
  | 'BUDGET_EXHAUSTED'
  | 'UNAUTHENTICATED'
  | 'INTERNAL_SERVER_ERROR'
  /** The API could not be reached at all (offline, DNS, CORS, refused connection). */
  | 'NETWORK'
  /** The API (or a proxy in front of it) answered with an HTTP error and no GraphQL body. */
  | 'HTTP'
  /** The answer was not a GraphQL response. */
  | 'BAD_RESPONSE'
  /** A code this portal does not know yet. */
  | 'UNKNOWN';

const KNOWN: ReadonlySet<string> = new Set([
  'BAD_USER_INPUT',
  'FORBIDDEN',
  'NOT_FOUND',
  'QUOTA_EXCEEDED',
  'BUDGET_EXHAUSTED',
  'UNAUTHENTICATED',
  'INTERNAL_SERVER_ERROR',
  // Mercurius' own codes for malformed operations are the portal's fault, shown as "unexpected".
]);

export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly code: ApiErrorCode,
    message: string,
    readonly detail: { status?: number; extensions?: Record<string, unknown> } = {},
  ) {
    super(message);
  }
}

interface GraphQLResponse<T> {
  data?: T | null;
  errors?: { message: string; extensions?: { code?: string; [k: string]: unknown } }[];
}

/** The first error of a GraphQL response as an ApiError. */
export function toApiError(first: { message: string; extensions?: { code?: string } }, status?: number) {
  const code = first.extensions?.code;
  return new ApiError(code && KNOWN.has(code) ? (code as ApiErrorCode) : 'UNKNOWN', first.message, {
    ...(status !== undefined ? { status } : {}),
    ...(first.extensions ? { extensions: first.extensions } : {}),
  });
}

export interface RequestOptions {
  /** The API's GraphQL endpoint, e.g. https://vdi.example.com/api/graphql. */
  endpoint: string;
  token?: string;
  query: string;
  variables?: Record<string, unknown>;
  signal?: AbortSignal;
  fetch?: typeof fetch;
}

export async function graphqlRequest<T>(opts: RequestOptions): Promise<T> {
  const doFetch = opts.fetch ?? fetch;
  let res: Response;
  try {
    res = await doFetch(opts.endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json',
        ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
      },
      body: JSON.stringify({ query: opts.query, variables: opts.variables ?? {} }),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new ApiError('NETWORK', (err as Error).message);
  }
  let body: GraphQLResponse<T> | undefined;
  try {
    body = (await res.json()) as GraphQLResponse<T>;
  } catch {
    body = undefined;
  }
  if (body?.errors?.length) throw toApiError(body.errors[0]!, res.status);
  if (!res.ok) throw new ApiError('HTTP', res.statusText, { status: res.status });
  if (!body || body.data === undefined || body.data === null) {
    throw new ApiError('BAD_RESPONSE', 'no data in the response', { status: res.status });
  }
  return body.data;
}

/** The GraphQL endpoints of an API base URL (which may carry a path, e.g. /api). */
export function endpoints(apiUrl: string): { http: string; ws: string } {
  const http = `${apiUrl.replace(/\/+$/, '')}/graphql`;
  return { http, ws: http.replace(/^http/, 'ws') };
}
