import { ApiError } from './api/graphql';
import { explainError, sentence } from './errors';

describe('sentence', () => {
  it.each([
    ['a session named x already exists', 'A session named x already exists.'],
    ['Done!', 'Done!'],
    ['  spaced  ', 'Spaced.'],
    ['', ''],
  ])('%j → %j', (input, out) => expect(sentence(input)).toBe(out));
});

describe('explainError', () => {
  it.each([
    ['UNAUTHENTICATED', 'missing bearer token', /Log in again/],
    ['FORBIDDEN', 'admins only', /^You are not allowed to do this: Admins only\.$/],
    [
      'QUOTA_EXCEEDED',
      'you hold 1 GPU time-slice of 1 allowed',
      /^You have reached your limit: You hold 1 GPU/,
    ],
    ['BAD_USER_INPUT', 'memory: must be at most 16Gi', /^Memory: must be at most 16Gi\.$/],
    [
      'INTERNAL_SERVER_ERROR',
      'the cluster did not accept the change',
      /^The platform had a problem: The cluster/,
    ],
    ['NOT_FOUND', "session 'x' not found", /^Session 'x' not found\.$/],
  ] as const)('%s: explains the API message in words', (code, message, expected) => {
    expect(explainError(new ApiError(code, message))).toMatch(expected);
  });

  it('never shows a bare code', () => {
    for (const code of [
      'BAD_USER_INPUT',
      'FORBIDDEN',
      'NOT_FOUND',
      'QUOTA_EXCEEDED',
      'UNAUTHENTICATED',
      'INTERNAL_SERVER_ERROR',
      'NETWORK',
      'HTTP',
      'BAD_RESPONSE',
      'UNKNOWN',
    ] as const) {
      const text = explainError(new ApiError(code, ''), { action: 'launch the desktop', session: 's' });
      // HTTP is a word people know; the API's identifiers are not.
      if (code !== 'HTTP') expect(text).not.toContain(code);
      expect(text).toMatch(
        code === 'NOT_FOUND'
          ? /^You have no session named “s”/
          : /^Could not launch the desktop\. [A-Z].*[.!?]$/,
      );
    }
  });

  it('names the session that does not exist', () => {
    const text =
      'You have no session named “ghost”. It may have been deleted, or it belongs to someone else.';
    const err = new ApiError('NOT_FOUND', "session 'ghost' not found");
    expect(explainError(err, { session: 'ghost' })).toBe(text);
    expect(explainError(err, { session: 'ghost', action: 'open ghost' })).toBe(text);
  });

  it('says the API cannot be reached on network errors, and gives the HTTP status otherwise', () => {
    expect(explainError(new ApiError('NETWORK', 'Failed to fetch'))).toMatch(
      /cannot reach the platform’s API/,
    );
    expect(explainError(new ApiError('HTTP', 'Bad Gateway', { status: 502 }))).toMatch(/HTTP status 502/);
  });

  it('explains errors that are not API errors without their internals', () => {
    expect(explainError(new TypeError('x is undefined'))).toBe(
      'Something unexpected went wrong in the portal. Reload the page and try again.',
    );
  });
});
