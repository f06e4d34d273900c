/**
 * `sessionPage`: sessions a page at a time, newest first (ties by name), with an opaque cursor.
 *
 * The cursor is the position of the last session of a page (its creation time and name), not an
 * offset: sessions created while a client walks the pages sort before it (they are newer) and
 * sessions deleted meanwhile leave no gap, so a walk neither repeats nor skips a session that
 * existed when it began. Opaque to clients (base64url of a small JSON array, versioned by its
 * shape): they pass back what they were given.
 */
import { Field, Int, ObjectType } from '@nestjs/graphql';
import { badInput, quoted } from '../common/errors.js';
import type { PagePosition } from '../kube/indexes.js';
import { SessionModel } from './session.model.js';

/** Page size when `first` is not given. */
export const DEFAULT_PAGE_SIZE = 100;
/** Largest page: a page is built and sent in one answer; larger ones cost every client latency. */
export const MAX_PAGE_SIZE = 500;

@ObjectType('SessionPage', {
  description:
    'One page of sessions, newest first (ties by name). Pass nextCursor as `after` for the next page.',
})
export class SessionPageModel {
  @Field(() => [SessionModel]) items!: SessionModel[];
  @Field(() => String, {
    nullable: true,
    description: 'Give this as `after` to get the next page; null on the last page.',
  })
  nextCursor!: string | null;
  @Field(() => Int, { description: 'Sessions in the whole list (every page) at the time of this answer.' })
  totalCount!: number;
}

/** The opaque cursor of a position. */
export function encodeCursor(p: PagePosition): string {
  return Buffer.from(JSON.stringify([p.created, p.name]), 'utf8').toString('base64url');
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;
/** Longest cursor this API gives out: a 253-character name and a timestamp, encoded. */
const MAX_CURSOR_LENGTH = 400;

/** The position a cursor names; BAD_USER_INPUT (field `after`) for anything this API did not give out. */
export function decodeCursor(cursor: string): PagePosition {
  const refuse = () =>
    badInput(
      `after: ${quoted(cursor)} is not a cursor from sessionPage; pass a nextCursor exactly as it was returned, or leave after out to start from the first page`,
      'after',
    );
  if (cursor.length > MAX_CURSOR_LENGTH || !BASE64URL.test(cursor)) throw refuse();
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw refuse();
  }
  if (
    !Array.isArray(v) ||
    v.length !== 2 ||
    typeof v[0] !== 'number' ||
    !Number.isSafeInteger(v[0]) ||
    typeof v[1] !== 'string' ||
    v[1].length === 0 ||
    v[1].length > 253
  )
    throw refuse();
  return { created: v[0], name: v[1] };
}

/** `first` checked: a whole number from 1 to MAX_PAGE_SIZE. */
export function pageSize(first: number | null | undefined): number {
  if (first == null) return DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE_SIZE) {
    throw badInput(
      `first: ${first} is not a page size; ask for 1 to ${MAX_PAGE_SIZE} sessions per page (default ${DEFAULT_PAGE_SIZE}) and follow nextCursor for more`,
      'first',
    );
  }
  return first;
}
