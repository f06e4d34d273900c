/**
 * API errors as sentences for people: what happened and what to do. The API's codes are stable,
 * its messages are already written for people (lower case, no full stop), so most sentences are
 * the message with a lead-in that says what kind of problem it is. A code is never shown alone.
 */
import { ApiError } from './api/graphql';

/** What the user was doing, so the sentence can name it. */
export interface ErrorContext {
  /** e.g. "launch the desktop", "delete the session". */
  action?: string;
  /** The session the request was about. */
  session?: string;
}

/** "a session named 'x' already exists" → "A session named 'x' already exists." */
export function sentence(text: string): string {
  const t = text.trim();
  if (!t) return t;
  const first = t[0]!.toUpperCase() + t.slice(1);
  return /[.!?]$/.test(first) ? first : `${first}.`;
}

function body(err: unknown, ctx: ErrorContext): string {
  if (!(err instanceof ApiError)) {
    return 'Something unexpected went wrong in the portal. Reload the page and try again.';
  }
  const msg = err.message.trim();
  switch (err.code) {
    case 'UNAUTHENTICATED':
      return 'Your login has expired or is no longer valid. Log in again to continue.';
    case 'FORBIDDEN':
      return msg ? `You are not allowed to do this: ${sentence(msg)}` : 'You are not allowed to do this.';
    case 'NOT_FOUND':
      return ctx.session
        ? `You have no session named “${ctx.session}”. It may have been deleted, or it belongs to someone else.`
        : sentence(msg || 'it does not exist any more');
    case 'QUOTA_EXCEEDED':
      return `You have reached your limit: ${sentence(msg)} Delete one of your sessions to start another.`;
    case 'BUDGET_EXHAUSTED':
      // The API says what is spent, the budget and when it renews.
      return sentence(msg || 'your GPU budget is used up');
    case 'BAD_USER_INPUT':
      return sentence(msg || 'the request was refused');
    case 'INTERNAL_SERVER_ERROR':
      return `The platform had a problem: ${sentence(msg || 'unexpected error')} If it persists, tell the platform admin.`;
    case 'NETWORK':
      return 'The portal cannot reach the platform’s API. Check your network connection, then try again.';
    case 'HTTP':
      return `The platform’s API did not answer properly${err.detail.status ? ` (HTTP status ${err.detail.status})` : ''}. Try again in a moment.`;
    case 'BAD_RESPONSE':
      return 'The platform’s API sent an answer the portal does not understand. Try again in a moment.';
    default:
      return msg ? sentence(msg) : 'Something went wrong. Try again in a moment.';
  }
}

/** The error as one or two sentences; with an action, led by "Could not <action>." */
export function explainError(err: unknown, ctx: ErrorContext = {}): string {
  const text = body(err, ctx);
  // "You have no session named …" says all there is to say; a lead-in would only repeat the name.
  const selfContained = err instanceof ApiError && err.code === 'NOT_FOUND' && ctx.session;
  return ctx.action && !selfContained ? `Could not ${ctx.action}. ${text}` : text;
}
