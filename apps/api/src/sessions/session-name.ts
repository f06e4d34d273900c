/**
 * Names of new sessions. A session name becomes a host name and a Service name, so it must be a
 * DNS-1035 label of at most SESSION_NAME_MAX (50) characters — the CRD enforces the same rule.
 */
import { randomBytes } from 'node:crypto';
import { SESSION_NAME_MAX } from '@vdi/crd-types';
import { slugify } from '@vdi/session-spec';

const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
export const RANDOM_SUFFIX_LEN = 6;

/** Why `name` cannot be a session name, or undefined when it can. */
export function sessionNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'must not be empty';
  if (name.length > SESSION_NAME_MAX)
    return `must be at most ${SESSION_NAME_MAX} characters (it becomes a host name)`;
  if (!DNS1035_LABEL.test(name)) {
    return "must be lower-case letters, digits and '-', start with a letter and not end with '-' (it becomes a host name)";
  }
  return undefined;
}

/** `RANDOM_SUFFIX_LEN` characters of [a-z0-9] from a CSPRNG (rejection sampling keeps them uniform). */
export function randomSuffix(bytes: (n: number) => Uint8Array = randomBytes): string {
  let out = '';
  while (out.length < RANDOM_SUFFIX_LEN) {
    for (const b of bytes(16)) {
      if (b < 252 && out.length < RANDOM_SUFFIX_LEN) out += ALPHABET[b % 36];
    }
  }
  return out;
}

/**
 * `<user-slug>-<random>` for a user name such as `alice` or `Zoë.O'Brien@example.com`: always a
 * valid session name. The slug is cut to leave room for the suffix; a slug that is empty or does
 * not start with a letter gets the prefix `s-`.
 */
export function generateSessionName(username: string, suffix: string = randomSuffix()): string {
  let slug = slugify(username.split('@', 1)[0] ?? '');
  if (!/^[a-z]/.test(slug)) slug = slug ? `s-${slug}` : 's';
  const room = SESSION_NAME_MAX - suffix.length - 1;
  slug = slug.slice(0, room).replace(/-+$/, '');
  return `${slug}-${suffix}`;
}
