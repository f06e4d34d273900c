import { readFileSync } from 'node:fs';
import path from 'node:path';
import { buildSchema, parse, validate } from 'graphql';
import {
  ADMIN_POOLS,
  CREATE_POOL,
  DELETE_POOL,
  SCALE_POOL,
  UPDATE_POOL_SCHEDULE,
  formatWindows,
  parseWindows,
} from './pools-view';

const schema = buildSchema(
  readFileSync(path.resolve(import.meta.dirname, '../../../../api/schema.gql'), 'utf8'),
);

describe('the pools page', () => {
  it('sends only operations the API schema accepts', () => {
    for (const op of [ADMIN_POOLS, CREATE_POOL, SCALE_POOL, DELETE_POOL, UPDATE_POOL_SCHEDULE])
      expect(validate(schema, parse(op)).map((e) => e.message)).toEqual([]);
  });

  it('reads and writes windows as lines like "Mon-Fri 09:00-17:00 5"', () => {
    const windows = parseWindows('Mon-Fri 09:00-17:00 5\n\n Sat,Sun 10:00-14:00 1\nFri 22:00-06:00 2');
    expect(windows).toEqual([
      { days: ['Mon', 'Tue', 'Wed', 'Thu', 'Fri'], start: '09:00', end: '17:00', size: 5 },
      { days: ['Sat', 'Sun'], start: '10:00', end: '14:00', size: 1 },
      { days: ['Fri'], start: '22:00', end: '06:00', size: 2 },
    ]);
    expect(formatWindows(windows)).toBe('Mon-Fri 09:00-17:00 5\nSat,Sun 10:00-14:00 1\nFri 22:00-06:00 2');
    expect(parseWindows('')).toEqual([]);
    expect(() => parseWindows('weekdays 9-5')).toThrow(/line 1 .*Mon-Fri 09:00-17:00 5/);
    expect(() => parseWindows('Mon 09:00-17:00 1\nMonday 09:00-17:00 1')).toThrow(/line 2: 'Monday'/);
  });
});
