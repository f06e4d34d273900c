/**
 * Every GraphQL operation the portal sends is valid against the API's schema (apps/api/schema.gql,
 * written by the API's own schema test): a field renamed or removed in the API fails here, not in
 * a user's browser.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { buildSchema, parse, validate } from 'graphql';
import * as operations from './operations';

const schema = buildSchema(
  readFileSync(path.resolve(import.meta.dirname, '../../../api/schema.gql'), 'utf8'),
);
const documents: [string, string][] = Object.entries(operations as Record<string, unknown>).flatMap(
  ([name, value]) =>
    typeof value === 'string' && /^\s*(query|mutation|subscription)\b/.test(value) ? [[name, value]] : [],
);

describe("the portal's GraphQL operations", () => {
  it('are all found', () => {
    expect(documents.length).toBeGreaterThanOrEqual(12);
  });

  it.each(documents)('%s is valid against the API schema', (_name, source) => {
    const errors = validate(schema, parse(source)).map((e) => e.message);
    expect(errors).toEqual([]);
  });

  it('would catch a field the API does not have', () => {
    const errors = validate(schema, parse('query { sessions { name noSuchField } }'));
    expect(errors.map((e) => e.message)).toEqual([expect.stringMatching(/noSuchField/)]);
  });
});
