import { GraphQLError } from 'graphql';
import { decodeCursor, DEFAULT_PAGE_SIZE, encodeCursor, MAX_PAGE_SIZE, pageSize } from './session-page.js';

const refusal = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    const err = e as GraphQLError;
    return { code: err.extensions.code, field: err.extensions.field, message: err.message };
  }
  throw new Error('not refused');
};

describe('page cursors', () => {
  it('round-trip a position and are opaque, URL-safe strings', () => {
    const pos = { created: Date.UTC(2026, 11, 4, 10), name: 'alice-abc123' };
    const cursor = encodeCursor(pos);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(cursor).not.toContain('alice');
    expect(decodeCursor(cursor)).toEqual(pos);
  });

  it.each([
    ['not base64url', 'a cursor!'],
    ['not JSON', Buffer.from('nope').toString('base64url')],
    ['the wrong shape', Buffer.from('{"created":1,"name":"x"}').toString('base64url')],
    ['a non-integer time', Buffer.from('[1.5,"x"]').toString('base64url')],
    ['an empty name', Buffer.from('[1,""]').toString('base64url')],
    ['far too long', 'A'.repeat(5000)],
  ])('refuse %s with BAD_USER_INPUT naming after', (_what, cursor) => {
    const r = refusal(() => decodeCursor(cursor));
    expect(r).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
    expect(r.message).toMatch(
      /^after: '.*' (\(\d+ characters\) )?is not a cursor from sessionPage; pass a nextCursor/,
    );
    expect(r.message.length).toBeLessThan(300); // never echoes a huge value
  });
});

describe('page size', () => {
  it('defaults and accepts 1 to the maximum', () => {
    expect(pageSize(undefined)).toBe(DEFAULT_PAGE_SIZE);
    expect(pageSize(null)).toBe(DEFAULT_PAGE_SIZE);
    expect(pageSize(1)).toBe(1);
    expect(pageSize(MAX_PAGE_SIZE)).toBe(MAX_PAGE_SIZE);
  });

  it.each([0, -1, MAX_PAGE_SIZE + 1])('refuses %i with BAD_USER_INPUT naming first and the range', (n) => {
    expect(refusal(() => pageSize(n))).toEqual({
      code: 'BAD_USER_INPUT',
      field: 'first',
      message: `first: ${n} is not a page size; ask for 1 to ${MAX_PAGE_SIZE} sessions per page (default ${DEFAULT_PAGE_SIZE}) and follow nextCursor for more`,
    });
  });
});
