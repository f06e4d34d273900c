/**
 * Schema building blocks that yield both a TypeScript type and a Kubernetes structural OpenAPI v3
 * schema (TypeBox), restricted to what the API server accepts: `enum` instead of `const`/`anyOf`,
 * `additionalProperties` for maps, CEL rules as `x-kubernetes-validations`.
 */
import { Kind, Type, TypeRegistry, type SchemaOptions, type TSchema, type TUnsafe } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { Value } from '@sinclair/typebox/value';

// Kinds the TypeBox value checker does not know: register how to check them, so specs built in
// code (tests, the API) are validated by the same schemas the API server gets.
TypeRegistry.Set<{ enum: string[] }>(
  'VdiStringEnum',
  (schema, value) => typeof value === 'string' && schema.enum.includes(value),
);
TypeRegistry.Set(
  'VdiStringMap',
  (_schema, value) =>
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.values(value).every((v) => typeof v === 'string'),
);
TypeRegistry.Set<{ pattern: string; maxLength: number }>(
  'VdiPatternString',
  (schema, value) =>
    typeof value === 'string' && value.length <= schema.maxLength && new RegExp(schema.pattern).test(value),
);

/**
 * Schema errors of a value, as `path: message` lines (none when it is valid). A valid value is
 * recognised by the schema compiled once (TypeCompiler, on first use): the operator checks its
 * template on every reconcile, and TypeBox's error walk cost more than the rest of rendering the
 * desktop's objects (0.15 ms a reconcile, in a profile of the 500-session burst). The walk runs
 * only for a value that fails, to say why.
 */
export function schemaErrors<T extends TSchema>(schema: T): (value: unknown) => string[] {
  let compiled: TypeCheck<T> | undefined;
  return (value) => {
    compiled ??= TypeCompiler.Compile(schema);
    if (compiled.Check(value)) return [];
    return [...Value.Errors(schema, value)].map((e) => `${e.path || '/'}: ${e.message}`);
  };
}

/** A CEL validation rule (apiextensions.k8s.io/v1 ValidationRule). */
export interface CelRule {
  rule: string;
  message?: string;
  messageExpression?: string;
  reason?: 'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired' | 'FieldValueDuplicate';
  fieldPath?: string;
  optionalOldSelf?: boolean;
}

export interface K8sSchemaOptions extends SchemaOptions {
  'x-kubernetes-validations'?: CelRule[];
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-preserve-unknown-fields'?: boolean;
}

/** A string limited to `values` (schema `enum`). */
export function StringEnum<const T extends readonly string[]>(
  values: T,
  opts: K8sSchemaOptions = {},
): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({ [Kind]: 'VdiStringEnum', type: 'string', enum: [...values], ...opts });
}

/** A map of string to string (`additionalProperties`, as labels and node selectors are). */
export function StringMap(opts: K8sSchemaOptions = {}): TUnsafe<Record<string, string>> {
  return Type.Unsafe<Record<string, string>>({
    [Kind]: 'VdiStringMap',
    type: 'object',
    additionalProperties: { type: 'string' },
    ...opts,
  });
}

/** The quantity grammar of k8s.io/apimachinery (e.g. `4Gi`, `500m`, `1.5`). */
export const QUANTITY_PATTERN =
  '^[+]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)(([KMGTPE]i)|[numkMGTPE]|([eE][-+]?[0-9]+))?$';

/**
 * A Kubernetes resource quantity written as a string. The pattern gives a readable error
 * early; the CEL rule is the API server's own parser.
 */
export function Quantity(opts: K8sSchemaOptions = {}, rules: CelRule[] = []): TUnsafe<string> {
  return Type.Unsafe<string>({
    [Kind]: 'VdiPatternString',
    type: 'string',
    maxLength: 32,
    pattern: QUANTITY_PATTERN,
    ...opts,
    'x-kubernetes-validations': [
      { rule: 'isQuantity(self)', message: 'must be a Kubernetes quantity such as 4Gi or 500m' },
      ...rules,
    ],
  });
}

/** A Go duration such as `8h`, `30m` or `1h30m`. */
export function Duration(opts: K8sSchemaOptions = {}): TUnsafe<string> {
  return Type.Unsafe<string>({
    [Kind]: 'VdiPatternString',
    type: 'string',
    maxLength: 32,
    pattern: '^([0-9]+(h|m|s))+$',
    ...opts,
    'x-kubernetes-validations': [
      { rule: "duration(self) >= duration('1m')", message: 'must be at least 1m' },
      { rule: "duration(self) <= duration('720h')", message: 'must be at most 720h (30 days)' },
    ],
  });
}

export const DNS1123_SUBDOMAIN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';
