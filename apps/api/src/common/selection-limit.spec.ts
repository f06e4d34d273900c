import { buildSchema, parse, validate, type OperationDefinitionNode } from 'graphql';
import { countSelections, selectionLimitRule } from './selection-limit.js';

const schema = buildSchema('type Query { a: A } type A { x: Int y: Int a: A }');

describe('selection limit', () => {
  it('counts fields with fragments expanded', () => {
    const doc = parse('{ a { x ...F } } fragment F on A { y a { ...G } } fragment G on A { x y }');
    const op = doc.definitions[0] as OperationDefinitionNode;
    const fragments = new Map(
      doc.definitions.flatMap((d) => (d.kind === 'FragmentDefinition' ? [[d.name.value, d] as const] : [])),
    );
    expect(countSelections(op.selectionSet, fragments)).toBe(6);
  });

  it('refuses an operation over the limit with BAD_USER_INPUT', () => {
    const aliases = Array.from({ length: 20 }, (_, i) => `x${i}: x`).join(' ');
    const errors = validate(schema, parse(`{ a { ${aliases} } }`), [selectionLimitRule(10)]);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toBe(
      'the operation selects 21 fields, more than the 10 allowed; ask for less or split it up',
    );
    expect(errors[0]!.extensions).toEqual({ code: 'BAD_USER_INPUT', limit: 10 });
    expect(validate(schema, parse('{ a { x y } }'), [selectionLimitRule(10)])).toEqual([]);
  });
});
