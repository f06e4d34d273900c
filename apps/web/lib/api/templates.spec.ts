/**
 * The template operations are valid against the API's schema (apps/api/schema.gql): a field
 * renamed or removed in the API fails here, not on the admin page.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { buildSchema, parse, validate } from 'graphql';
import * as operations from './templates';

const schema = buildSchema(
  readFileSync(path.resolve(import.meta.dirname, '../../../api/schema.gql'), 'utf8'),
);
const documents: [string, string][] = Object.entries(operations as Record<string, unknown>).flatMap(
  ([name, value]) =>
    typeof value === 'string' && /^\s*(query|mutation|subscription)\b/.test(value) ? [[name, value]] : [],
);

describe("the portal's template operations", () => {
  it('are all found', () => {
    expect(documents.map(([n]) => n).sort()).toEqual([
      'ADMIN_TEMPLATES',
      'CREATE_TEMPLATE',
      'DELETE_TEMPLATE',
      'RESTORE_TEMPLATE',
      'RETIRE_TEMPLATE',
      'TEMPLATE_GALLERY',
      'UPDATE_TEMPLATE',
    ]);
  });

  it.each(documents)('%s is valid against the API schema', (_name, source) => {
    expect(validate(schema, parse(source)).map((e) => e.message)).toEqual([]);
  });
});
