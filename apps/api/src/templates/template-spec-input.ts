/**
 * From TemplateInput to a VDITemplate spec, checked before anything is written: the CRD's own
 * schema (the TypeBox schema the CRD is generated from, with its defaults), the rules the CRD
 * states in CEL between fields (a minimum above its default, a default above its maximum), and
 * the operator's own usability check (a session with the template's defaults must resolve). The
 * API server checks the CRD again on the write; its answer is mapped to the same field names.
 *
 * Messages name the input field the admin sent (`defaultMemory`, `lifetimeMax`), not the
 * CRD's path, and say what a valid value looks like. Pure: unit-tested beside it.
 */
import {
  DNS1123_SUBDOMAIN,
  ENCODERS,
  IDLE_ACTIONS,
  PERSISTENCE_MODES,
  STREAM_MODES,
  templateSpecErrors,
  withTemplateDefaults,
  type VDITemplate,
  type VDITemplateSpec,
} from '@vdi/crd-types';
import { durationSeconds, parseQuantity, templateProblems } from '@vdi/session-spec';
import { badInput } from '../common/errors.js';
import type { CreateTemplateInput, TemplateInput } from './template.input.js';

/** Template names are label values on their sessions (vdi.kasm.io/template): at most 63 characters. */
export const TEMPLATE_NAME_MAX = 63;

/** Why `name` cannot name a template; undefined when it can. */
export function templateNameProblem(name: string): string | undefined {
  if (!name) return 'is empty';
  if (name.length > TEMPLATE_NAME_MAX) {
    return `is ${name.length} characters long; a template name has at most ${TEMPLATE_NAME_MAX} (its sessions carry it as a label)`;
  }
  if (!new RegExp(DNS1123_SUBDOMAIN).test(name)) {
    return "is not a valid template name: use lower-case letters, digits, '-' and '.', starting and ending with a letter or digit (e.g. ubuntu-desktop)";
  }
  return undefined;
}

type Kind = 'string' | 'int';

interface FieldDef {
  /** The TemplateInput field. */
  input: keyof CreateTemplateInput;
  /** Where it lives in VDITemplate.spec. */
  path: readonly string[];
  kind: Kind;
  /** Settable on create only (createTemplate). */
  createOnly?: true;
  /** Cannot be removed (no default, required by the CRD). */
  required?: true;
  /** What a valid value looks like. */
  hint?: string;
}

const QUANTITY_MEM = 'a Kubernetes quantity such as 4Gi or 4096Mi';
const QUANTITY_CPU = 'a Kubernetes quantity such as 2 or 500m';
const DURATION = 'a duration between 1m and 720h such as 8h, 90m or 1h30m';
const oneOf = (values: readonly string[]) => `one of ${values.join(', ')}`;

/** Every field the API offers, and where it goes in the spec. */
export const TEMPLATE_FIELDS: readonly FieldDef[] = [
  { input: 'displayName', path: ['displayName'], kind: 'string', required: true },
  { input: 'description', path: ['description'], kind: 'string' },
  { input: 'icon', path: ['icon'], kind: 'string', hint: 'a URL starting with https:// or data:image/' },
  {
    input: 'image',
    path: ['image'],
    kind: 'string',
    required: true,
    hint: 'an image reference without spaces, e.g. ghcr.io/selkies-project/nvidia-egl-desktop:24.04',
  },
  {
    input: 'imagePullPolicy',
    path: ['imagePullPolicy'],
    kind: 'string',
    hint: oneOf(['Always', 'IfNotPresent', 'Never']),
  },
  { input: 'defaultGPU', path: ['resources', 'defaultGPU'], kind: 'int', hint: '0 or 1' },
  { input: 'maxGPU', path: ['resources', 'maxGPU'], kind: 'int', hint: '0 or 1' },
  { input: 'defaultMemory', path: ['resources', 'defaultMemory'], kind: 'string', hint: QUANTITY_MEM },
  { input: 'defaultCPU', path: ['resources', 'defaultCPU'], kind: 'string', hint: QUANTITY_CPU },
  { input: 'minMemory', path: ['resources', 'minMemory'], kind: 'string', hint: QUANTITY_MEM },
  { input: 'minCPU', path: ['resources', 'minCPU'], kind: 'string', hint: QUANTITY_CPU },
  { input: 'maxMemory', path: ['resources', 'maxMemory'], kind: 'string', hint: QUANTITY_MEM },
  { input: 'maxCPU', path: ['resources', 'maxCPU'], kind: 'string', hint: QUANTITY_CPU },
  { input: 'encoder', path: ['encoder'], kind: 'string', hint: oneOf(ENCODERS) },
  { input: 'width', path: ['display', 'width'], kind: 'int', hint: '640 to 7680 pixels' },
  { input: 'height', path: ['display', 'height'], kind: 'int', hint: '480 to 4320 pixels' },
  { input: 'framerate', path: ['display', 'framerate'], kind: 'int', hint: '1 to 120 frames a second' },
  { input: 'dpi', path: ['display', 'dpi'], kind: 'int', hint: '72 to 480' },
  { input: 'bitrateKbps', path: ['display', 'bitrateKbps'], kind: 'int', hint: '500 to 100000 kbit/s' },
  { input: 'streamingMode', path: ['streaming', 'mode'], kind: 'string', hint: oneOf(STREAM_MODES) },
  { input: 'lifetimeDefault', path: ['lifetime', 'default'], kind: 'string', hint: DURATION },
  { input: 'lifetimeMax', path: ['lifetime', 'max'], kind: 'string', hint: DURATION },
  { input: 'idleDefault', path: ['lifetime', 'idle', 'default'], kind: 'string', hint: DURATION },
  { input: 'idleMax', path: ['lifetime', 'idle', 'max'], kind: 'string', hint: DURATION },
  { input: 'idleAction', path: ['lifetime', 'idle', 'action'], kind: 'string', hint: oneOf(IDLE_ACTIONS) },
  { input: 'shmSize', path: ['shmSize'], kind: 'string', hint: QUANTITY_MEM },
  {
    input: 'persistence',
    path: ['persistence'],
    kind: 'string',
    createOnly: true,
    hint: oneOf(PERSISTENCE_MODES),
  },
  { input: 'homeSize', path: ['homeSize'], kind: 'string', createOnly: true, hint: QUANTITY_MEM },
];

const BY_PATH = new Map(TEMPLATE_FIELDS.map((f) => [f.path.join('.'), f]));

/**
 * The input field a spec path belongs to (`/resources/defaultMemory`, `spec.resources.minCPU`
 * → defaultMemory, minCPU); a field the API does not offer keeps its spec path (`spec.env[0].name`).
 */
export function templateInputField(path: string): string {
  const dotted = path
    .replace(/^\//, '')
    .replace(/\//g, '.')
    .replace(/^spec\./, '');
  return BY_PATH.get(dotted)?.input ?? `spec.${dotted}`;
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The JSON merge patch (RFC 7386) of `spec` the input asks for: each field given is set, each
 * `null` removes it (update) or is ignored (create, where it means "not set"). Refuses fields of
 * the wrong type, fields only a create may set, and the removal of a required field.
 */
export function specPatchFromInput(
  input: TemplateInput | CreateTemplateInput,
  mode: 'create' | 'update',
  template: string,
): JsonObject {
  const patch: JsonObject = {};
  const given = input as Record<string, unknown>;
  for (const f of TEMPLATE_FIELDS) {
    const value = given[f.input];
    if (value === undefined) continue;
    if (value === null && mode === 'create') continue;
    if (f.createOnly && mode === 'update') {
      throw badInput(
        `${f.input} of template '${template}' cannot change: the homes of its sessions were made with it; create a new template instead`,
        f.input,
      );
    }
    if (value === null && f.required) {
      throw badInput(`${f.input} of template '${template}' cannot be removed; give a new value`, f.input);
    }
    if (value !== null && (f.kind === 'int' ? !Number.isInteger(value) : typeof value !== 'string')) {
      throw badInput(`${f.input}: must be ${f.kind === 'int' ? 'a whole number' : 'text'}`, f.input);
    }
    let node = patch;
    for (const key of f.path.slice(0, -1)) {
      const next = node[key];
      node = isObject(next) ? next : (node[key] = {});
    }
    node[f.path[f.path.length - 1]!] = value as Json;
  }
  return patch;
}

/** `target` with the merge patch applied (RFC 7386): what the API server will store. */
export function applyMergePatch(target: Json | undefined, patch: Json): Json {
  if (!isObject(patch)) return patch;
  const out: JsonObject = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = applyMergePatch(out[k], v);
  }
  return out;
}

/**
 * Removes lifetime.idle when it no longer bounds anything (no default, no max: culling is off)
 * and lifetime when it is empty, adding their removal to the patch, so an admin who clears
 * every lifetime field gets a template without a lifetime, not an empty object.
 */
export function pruneEmptyLifetime(spec: JsonObject, patch: JsonObject): void {
  const lifetime = spec.lifetime;
  if (!isObject(lifetime)) return;
  const idle = lifetime.idle;
  if (isObject(idle) && idle.default === undefined && idle.max === undefined) {
    delete lifetime.idle;
    const pl = isObject(patch.lifetime) ? patch.lifetime : (patch.lifetime = {});
    pl.idle = null;
  }
  if (Object.keys(lifetime).length === 0) {
    delete spec.lifetime;
    patch.lifetime = null;
  }
}

/** TypeBox's words for its own kinds, and the CRD's "Invalid value: …:" lead-in, said plainly. */
function plain(detail: string): string {
  return detail
    .replace(/^Expected kind '\w+'$/, 'is not valid')
    .replace(/^Expected required property$/, 'is required')
    .replace(/^Expected string length greater or equal to 1$/, 'must not be empty')
    .replace(/^Expected string to match .*$/, 'is not valid')
    .replace(/^Expected integer to be greater or equal to (\d+)$/, 'must be at least $1')
    .replace(/^Expected integer to be less or equal to (\d+)$/, 'must be at most $1');
}

function describe(field: string, detail: string, withHint = true): string {
  const hint = withHint ? TEMPLATE_FIELDS.find((f) => f.input === field)?.hint : undefined;
  const text = plain(detail);
  return `${field}: ${text}${hint && !text.includes(hint) ? ` (expected ${hint})` : ''}`;
}

/** One BAD_USER_INPUT naming the template and the first field, listing every problem once. */
function refuse(template: string, problems: { field: string; text: string }[]) {
  // The first problem of each field: the most basic one (missing before malformed).
  const unique: typeof problems = [];
  for (const p of problems) if (!unique.some((u) => u.field === p.field)) unique.push(p);
  return badInput(
    `template '${template}' was not saved: ${unique.map((p) => p.text).join('; ')}; fix ${unique.length === 1 ? 'it' : 'them'} and try again`,
    unique[0]!.field,
  );
}

/** Problems of the CEL rules between fields (the CRD's x-kubernetes-validations), by input field. */
export function crossFieldProblems(spec: VDITemplateSpec): { field: string; text: string }[] {
  const out: { field: string; text: string }[] = [];
  const r = spec.resources;
  const q = (field: string, v: string | undefined): number | undefined => {
    if (v === undefined) return undefined;
    try {
      return parseQuantity(v);
    } catch {
      return undefined; // the schema check names it
    }
  };
  for (const [field, v] of [
    ['defaultMemory', r.defaultMemory],
    ['minMemory', r.minMemory],
    ['maxMemory', r.maxMemory],
    ['shmSize', spec.shmSize],
    ['homeSize', spec.homeSize],
  ] as const) {
    const n = q(field, v);
    if (n !== undefined && n <= 0) out.push({ field, text: `${field}: must be greater than zero, not ${v}` });
  }
  for (const [field, v] of [
    ['defaultCPU', r.defaultCPU],
    ['minCPU', r.minCPU],
    ['maxCPU', r.maxCPU],
  ] as const) {
    const n = q(field, v);
    if (n !== undefined && n < 0.001) {
      out.push({ field, text: `${field}: must be at least 1m (one thousandth of a CPU), not ${v}` });
    }
  }
  const order = (lowField: string, low: string | undefined, highField: string, high: string | undefined) => {
    const a = q(lowField, low);
    const b = q(highField, high);
    if (a !== undefined && b !== undefined && a > b) {
      out.push({ field: lowField, text: `${lowField} (${low}) must not exceed ${highField} (${high})` });
    }
  };
  order('minMemory', r.minMemory, 'maxMemory', r.maxMemory);
  order('minMemory', r.minMemory, 'defaultMemory', r.defaultMemory);
  order('defaultMemory', r.defaultMemory, 'maxMemory', r.maxMemory);
  order('minCPU', r.minCPU, 'maxCPU', r.maxCPU);
  order('minCPU', r.minCPU, 'defaultCPU', r.defaultCPU);
  order('defaultCPU', r.defaultCPU, 'maxCPU', r.maxCPU);
  if (r.defaultGPU > r.maxGPU) {
    out.push({
      field: 'defaultGPU',
      text: `defaultGPU (${r.defaultGPU}) must not exceed maxGPU (${r.maxGPU})`,
    });
  }
  const secs = (field: string, v: string | undefined): number | undefined => {
    if (v === undefined) return undefined;
    try {
      const s = durationSeconds(v);
      if (s < 60 || s > 720 * 3600) {
        out.push({ field, text: `${field}: ${v} must be between 1m and 720h` });
        return undefined;
      }
      return s;
    } catch {
      return undefined; // the schema check names it
    }
  };
  const l = spec.lifetime;
  const [ld, lm] = [secs('lifetimeDefault', l?.default), secs('lifetimeMax', l?.max)];
  if (ld !== undefined && lm !== undefined && ld > lm) {
    out.push({
      field: 'lifetimeDefault',
      text: `lifetimeDefault (${l!.default}) must not be longer than lifetimeMax (${l!.max})`,
    });
  }
  const [id, im] = [secs('idleDefault', l?.idle?.default), secs('idleMax', l?.idle?.max)];
  if (id !== undefined && im !== undefined && id > im) {
    out.push({
      field: 'idleDefault',
      text: `idleDefault (${l!.idle!.default}) must not be longer than idleMax (${l!.idle!.max})`,
    });
  }
  return out;
}

/**
 * Throws BAD_USER_INPUT naming the template and every offending field when `spec` (as it will be
 * stored, defaults filled in) would be refused by the CRD or could not become a desktop.
 */
export function assertValidTemplateSpec(template: string, spec: unknown): VDITemplateSpec {
  const withDefaults = withTemplateDefaults(spec as VDITemplateSpec);
  const schema = templateSpecErrors(withDefaults).map((line) => {
    const [path, ...rest] = line.split(': ');
    const field = templateInputField(path ?? '');
    return { field, text: describe(field, rest.join(': ')) };
  });
  if (schema.length) throw refuse(template, schema);
  const cross = crossFieldProblems(withDefaults);
  if (cross.length) throw refuse(template, cross);
  // The operator's own check (it would mark the template not Ready): a session with the
  // template's defaults must resolve, e.g. /dev/shm must leave room in defaultMemory.
  const problems = templateProblems({
    apiVersion: 'vdi.kasm.io/v1alpha1',
    kind: 'VDITemplate',
    metadata: { name: template },
    spec: withDefaults,
  } satisfies VDITemplate);
  if (problems.length) {
    throw badInput(
      `template '${template}' was not saved: a session with its defaults could not start: ${problems.join('; ')}; fix the defaults and try again`,
    );
  }
  return withDefaults;
}

/** The causes of a 422 from the API server (the CRD's schema and CEL rules), by input field. */
export function kubeCauses(body: Record<string, unknown>): { field: string; text: string }[] {
  const causes = (body.details as { causes?: { message?: string; field?: string }[] } | undefined)?.causes;
  return (causes ?? []).map((c) => {
    const field = c.field ? templateInputField(c.field) : 'spec';
    // "Invalid value: \"0\": defaultCPU must be …", or without the value: "Invalid value: minMemory must …".
    const detail = (c.message ?? '').replace(/^Invalid value: (?:"(?:[^"\\]|\\.)*": )?/, '');
    // The API server's words say what is wrong with the value: no hint about its format.
    return { field, text: describe(field, detail, false) };
  });
}

export { refuse as refuseTemplate };
