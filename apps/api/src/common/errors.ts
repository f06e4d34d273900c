/**
 * The API's error contract: every failure a client can act on is a GraphQLError with a stable
 * `extensions.code`. The codes are part of the API; the messages are for people.
 */
import { GraphQLError } from 'graphql';
import { KubeApiError } from '@vdi/kube-client';
import { SessionSpecError } from '@vdi/session-spec';

export const ErrorCode = {
  BadUserInput: 'BAD_USER_INPUT',
  Forbidden: 'FORBIDDEN',
  NotFound: 'NOT_FOUND',
  QuotaExceeded: 'QUOTA_EXCEEDED',
  /** The owner's GPU-hour budget for the period is used up (createSession/resumeSession with a GPU). */
  BudgetExhausted: 'BUDGET_EXHAUSTED',
  Unauthenticated: 'UNAUTHENTICATED',
  Internal: 'INTERNAL_SERVER_ERROR',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export function apiError(
  code: ErrorCode,
  message: string,
  extra: Record<string, unknown> = {},
): GraphQLError {
  return new GraphQLError(message, { extensions: { code, ...extra } });
}

export const badInput = (message: string, field?: string) =>
  apiError(ErrorCode.BadUserInput, message, field ? { field } : {});
export const forbidden = (message: string) => apiError(ErrorCode.Forbidden, message);
export const notFound = (message: string) => apiError(ErrorCode.NotFound, message);
export const quotaExceeded = (message: string, quota: string, limit: number) =>
  apiError(ErrorCode.QuotaExceeded, message, { quota, limit });

/** A value the client sent, quoted for a message: long values are cut, so an error never echoes kilobytes. */
export function quoted(value: string, max = 60): string {
  return value.length <= max ? `'${value}'` : `'${value.slice(0, max)}…' (${value.length} characters)`;
}

/**
 * Renames the CRD's field paths (`spec.resources.memory`, `/resources/memory`) to the names of
 * CreateSessionInput, so a message points at what the client actually sent.
 */
export function inputField(path: string): string {
  const p = path
    .replace(/^\//, '')
    .replace(/\//g, '.')
    .replace(/^spec\./, '');
  const map: Record<string, string> = {
    'resources.gpu': 'gpu',
    'resources.memory': 'memory',
    'resources.cpu': 'cpu',
    'display.width': 'width',
    'display.height': 'height',
    'display.framerate': 'framerate',
  };
  return map[p] ?? p;
}

/**
 * A SessionSpecError (from resolveSession) as BAD_USER_INPUT. Errors about the template's own
 * fields are not the caller's fault, but the caller still has to pick another template.
 */
export function fromSessionSpecError(err: SessionSpecError, template: string): GraphQLError {
  if (err.field.startsWith('template.')) {
    return badInput(
      `template '${template}' cannot be used: ${err.message}; pick another template`,
      'template',
    );
  }
  const field = inputField(err.field);
  const detail = err.message.slice(err.field.length + 2);
  return badInput(`${field}: ${detail}`, field);
}

/** Errors of the API server on a session write, as the client should see them. */
export function fromKubeApiError(err: KubeApiError, name: string): GraphQLError {
  if (err.status === 409 && err.reason === 'AlreadyExists') {
    return badInput(`a session named '${name}' already exists; choose another name or leave it out`, 'name');
  }
  if (err.status === 422 || err.status === 400) {
    const details = (err.body.details as { causes?: { message?: string; field?: string }[] } | undefined)
      ?.causes;
    const text = details?.length
      ? details.map((c) => `${c.field ? `${inputField(c.field)}: ` : ''}${c.message ?? ''}`).join('; ')
      : err.message;
    return badInput(`the session was refused: ${text}`);
  }
  if (err.status === 403) {
    // The API's own service account lacks a permission: not the caller's doing.
    return apiError(ErrorCode.Internal, 'the API is not allowed to change sessions; tell the platform admin');
  }
  return apiError(
    ErrorCode.Internal,
    `the cluster did not accept the change (HTTP ${err.status}); try again`,
  );
}

/** Any error thrown from a session write or validation, mapped to the contract. */
export function toApiError(err: unknown, context: { template: string; name: string }): GraphQLError {
  if (err instanceof GraphQLError) return err;
  if (err instanceof SessionSpecError) return fromSessionSpecError(err, context.template);
  if (err instanceof KubeApiError) return fromKubeApiError(err, context.name);
  return apiError(ErrorCode.Internal, 'unexpected error; try again or tell the platform admin');
}

/**
 * What a client sees of an error that is not one of the API's answers (no `extensions.code`):
 * never the API server's own text (it names internal objects, service accounts and URLs), but a
 * stable code and a message a person can act on. `undefined` for errors that already have a code.
 */
export function publicErrorOf(
  err: unknown,
): { message: string; extensions: { code: ErrorCode } } | undefined {
  const original = err instanceof GraphQLError ? (err.originalError ?? err) : err;
  if (original instanceof GraphQLError && original.extensions?.code !== undefined) return undefined;
  if (original instanceof KubeApiError) {
    if (original.status === 404)
      return {
        message: 'not found (it may have just been deleted)',
        extensions: { code: ErrorCode.NotFound },
      };
    if (original.status === 409)
      return {
        message: 'it changed while the API was working on it; try again',
        extensions: { code: ErrorCode.Internal },
      };
    if (original.status === 429 || original.status >= 500)
      return {
        message: 'the cluster is busy; try again in a few seconds',
        extensions: { code: ErrorCode.Internal },
      };
    if (original.status === 401 || original.status === 403)
      return {
        message: 'the API is not allowed to do this in the cluster; tell the platform admin',
        extensions: { code: ErrorCode.Internal },
      };
  }
  return {
    message: 'unexpected error; try again or tell the platform admin',
    extensions: { code: ErrorCode.Internal },
  };
}
