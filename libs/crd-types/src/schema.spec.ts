import { Value } from '@sinclair/typebox/value';
import { VDITemplateSpecSchema, templateSpecErrors, withTemplateDefaults } from './v1alpha1.js';

/** What TypeBox's error walk alone says about a template spec (the reference for the fast path). */
const walked = (spec: unknown) => [...Value.Errors(VDITemplateSpecSchema, spec)].map((e) => e.path || '/');

describe('schemaErrors: the compiled check recognises exactly the values the error walk accepts', () => {
  const valid = withTemplateDefaults({ image: 'img', displayName: 'D' });

  it('a valid template spec has no errors, twice (the schema is compiled once)', () => {
    expect(templateSpecErrors(valid)).toEqual([]);
    expect(templateSpecErrors(structuredClone(valid))).toEqual([]);
  });

  // One invalid value of each kind the schemas use, custom kinds included (registered checks).
  const invalid: [string, Record<string, unknown>][] = [
    ['a missing required field', { ...valid, image: undefined }],
    ['a string enum outside its values', { ...valid, encoder: 'mpeg2' }],
    ['a quantity that is not one', { ...valid, resources: { ...valid.resources, defaultMemory: 'lots' } }],
    ['a duration that is not one', { ...valid, lifetime: { default: 'a while' } }],
    ['a string map with a number', { ...valid, nodeSelector: { gpu: 1 } }],
    ['a field of the wrong type', { ...valid, displayName: 42 }],
  ];
  it.each(invalid)('%s: errors, where the walk finds them', (_what, spec) => {
    const lines = templateSpecErrors(spec);
    expect(walked(spec).length).toBeGreaterThan(0);
    expect(lines.map((l) => l.slice(0, l.indexOf(':')))).toEqual(walked(spec));
  });
});
