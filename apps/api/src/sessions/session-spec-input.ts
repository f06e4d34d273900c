/**
 * From CreateSessionInput to a VDISessionSpec, checked against the CRD's schema (the same
 * TypeBox schema the CRD is generated from), with messages that name the input fields.
 */
import { sessionSpecErrors, type SessionOwner, type VDISessionSpec } from '@vdi/crd-types';
import { badInput, inputField } from '../common/errors.js';
import type { CreateSessionInput } from './create-session.input.js';

const HINTS: Record<string, string> = {
  memory: 'a Kubernetes quantity such as 8Gi or 4096Mi',
  cpu: 'a Kubernetes quantity such as 2 or 1500m',
  maxLifetime: 'a duration such as 8h, 90m or 1h30m',
  idleTimeout: 'a duration such as 30m or 2h',
};

/**
 * The spec the input asks for, owned by `who.owner` and shown as `who.user`: only the fields the
 * user set (the template fills in the rest at run time), except `display`, which the CRD takes whole: a partial display is completed from the
 * template's.
 */
export function specFromInput(
  input: CreateSessionInput,
  who: { user: string; owner: SessionOwner },
  templateDisplay: { width: number; height: number; framerate: number },
): VDISessionSpec {
  const resources = {
    ...(input.gpu != null ? { gpu: input.gpu } : {}),
    ...(input.memory != null ? { memory: input.memory } : {}),
    ...(input.cpu != null ? { cpu: input.cpu } : {}),
  };
  const askedDisplay = input.width != null || input.height != null || input.framerate != null;
  const display = {
    width: input.width ?? templateDisplay.width,
    height: input.height ?? templateDisplay.height,
    framerate: input.framerate ?? templateDisplay.framerate,
  };
  return {
    user: who.user,
    owner: { issuer: who.owner.issuer, subject: who.owner.subject },
    template: input.template,
    ...(Object.keys(resources).length ? { resources } : {}),
    ...(askedDisplay ? { display } : {}),
    ...(input.maxLifetime != null ? { maxLifetime: input.maxLifetime } : {}),
    ...(input.idleTimeout != null ? { idleTimeout: input.idleTimeout } : {}),
  };
}

/** Throws BAD_USER_INPUT naming the first offending input field (and listing the others). */
export function assertValidSpec(spec: VDISessionSpec): void {
  const errors = sessionSpecErrors(spec);
  if (!errors.length) return;
  const parts = errors.map((line) => {
    const [path, ...rest] = line.split(': ');
    const field = inputField(path ?? '');
    const hint = HINTS[field];
    // TypeBox names its own kinds for pattern strings ("Expected kind 'VdiPatternString'"): say it plainly.
    const detail = rest.join(': ').replace(/^Expected kind '\w+'$/, 'is not valid');
    return { field, text: `${field}: ${detail}${hint ? ` (expected ${hint})` : ''}` };
  });
  const unique = [...new Map(parts.map((p) => [p.field, p])).values()];
  throw badInput(unique.map((p) => p.text).join('; '), unique[0]!.field);
}
