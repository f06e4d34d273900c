import { GraphQLError, parse } from 'graphql';
import { ApiMetrics, outcomeOf, rootFields, rootFieldsOf } from './metrics.js';

describe('metrics labels', () => {
  it('are the root fields of the executed operation, fragments included', () => {
    expect(rootFields(parse('{ me { user } templates { name } me2: me { user } }'))).toEqual({
      type: 'query',
      fields: ['me', 'templates'],
    });
    const doc = parse(
      'query A { me { user } } mutation B { ...F } fragment F on Mutation { deleteSession(name: "x") }',
    );
    expect(rootFields(doc, 'B')).toEqual({ type: 'mutation', fields: ['deleteSession'] });
    expect(rootFields(doc)).toEqual({ type: 'query', fields: ['me'] });
  });

  it('are worked out once per parsed document and operation name', () => {
    const doc = parse('query A { me { user } } mutation B { deleteSession(name: "x") }');
    const a = rootFieldsOf(doc, 'A');
    expect(a).toEqual({ type: 'query', fields: ['me'] });
    expect(rootFieldsOf(doc, 'A')).toBe(a);
    expect(rootFieldsOf(doc, 'B')).toEqual({ type: 'mutation', fields: ['deleteSession'] });
    // Another parse of the same text is another document: its own answer, the same labels.
    expect(rootFieldsOf(parse('query A { me { user } }'), 'A')).not.toBe(a);
    expect(rootFieldsOf(parse('query A { me { user } }'), 'A')).toEqual(a);
  });

  it('outcomes are OK, one of the API codes, or ERROR', () => {
    expect(outcomeOf({})).toBe('OK');
    expect(outcomeOf({ errors: [new GraphQLError('x', { extensions: { code: 'FORBIDDEN' } })] })).toBe(
      'FORBIDDEN',
    );
    expect(outcomeOf({ errors: [new GraphQLError('x', { extensions: { code: 'made-up' } })] })).toBe('ERROR');
  });

  it('hooks count operations per root field', () => {
    const m = new ApiMetrics();
    const hooks = m.graphqlHooks();
    const ctx = {};
    hooks.preExecution(undefined, parse('{ capacity { gpuSlicesFree } me { user } }'), ctx);
    hooks.onResolution({ errors: [new GraphQLError('no', { extensions: { code: 'FORBIDDEN' } })] }, ctx);
    const counts = m.operations as unknown as { hashMap: Record<string, { value: number; labels: object }> };
    expect(Object.values(counts.hashMap).map((v) => [v.labels, v.value])).toEqual([
      [{ type: 'query', field: 'capacity', outcome: 'FORBIDDEN' }, 1],
      [{ type: 'query', field: 'me', outcome: 'FORBIDDEN' }, 1],
    ]);
  });
});
