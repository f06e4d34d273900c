/**
 * The owner migration: gives the sessions and home volumes of 0.1.x, keyed by e-mail, to the
 * identity (issuer + subject) an admin names for each e-mail, as pure planning over what the
 * cluster holds. ./cli.ts reads the cluster, prints the plan and, with --apply, carries it out.
 *
 * Why an admin and a mapping, not the API on first login: an e-mail address proves nothing about
 * who had it before. Adopting "the home of alice@example.com" for whoever logs in first with that
 * verified address would hand a departed user's home to the person who was given the address
 * next, or to an account of a second identity provider vouching for it: the very hole owners
 * close. The admin, who can check the identity provider's records at the time of the upgrade,
 * decides once; until then 0.1.x objects keep running and stay admin-only.
 *
 * What a step does:
 * - a 0.1.x home (a per-user claim named homePvcName(e-mail), no owner annotations) mapped to an
 *   owner is annotated and labelled for that owner; it keeps its name (the operator finds it by
 *   the annotations, session-spec userHomeClaimName), so no data moves and a desktop using it
 *   keeps running. Refused when the owner already has a home (one home per owner);
 * - a 0.1.x session (no spec.owner) mapped to an owner gets spec.owner (allowed once by the CRD)
 *   and the owner's label, so the owner sees, opens and counts it. Homes go first, so the
 *   operator re-rendering the session finds the home its pod already mounts. A session whose
 *   e-mail-keyed home could not be handed over is left unclaimed.
 */
import type { V1PersistentVolumeClaim } from '@kubernetes/client-node';
import type { SessionOwner, VDISession } from '@vdi/crd-types';
import { ANNOTATION_USER, annotatedOwner, homePvcName, ownerKey } from '@vdi/session-spec';

export class MappingError extends Error {
  override name = 'MappingError';
}

/**
 * Parses the admin's mapping: one line per 0.1.x identity, `<e-mail (or 0.1.x user)> <subject>`,
 * separated by white space or a comma; `#` starts a comment. Every subject is of `issuer` (the
 * API's VDI_OIDC_ISSUER: 0.1.x accepted tokens of that issuer only).
 */
export function parseOwnerMapping(text: string, issuer: string): Map<string, SessionOwner> {
  if (!issuer || /\s/.test(issuer)) {
    throw new MappingError(`the issuer '${issuer}' is not valid: give the API's VDI_OIDC_ISSUER`);
  }
  const out = new Map<string, SessionOwner>();
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/#.*/, '').trim();
    if (!line) return;
    const fields = line.split(/[\s,]+/).filter(Boolean);
    const where = `line ${i + 1}`;
    if (fields.length !== 2) {
      throw new MappingError(
        `${where}: expected '<e-mail> <subject>', got ${fields.length} field(s): '${line}'`,
      );
    }
    const [user, subject] = fields as [string, string];
    if (subject.length > 255) throw new MappingError(`${where}: the subject is over 255 characters`);
    if (out.has(user)) {
      throw new MappingError(
        `${where}: '${user}' is mapped twice; an e-mail's objects go to exactly one subject`,
      );
    }
    out.set(user, { issuer, subject });
  });
  return out;
}

export type MigrationStep =
  | { kind: 'home'; name: string; user: string; owner: SessionOwner; resourceVersion: string }
  | {
      kind: 'session';
      name: string;
      uid: string;
      user: string;
      owner: SessionOwner;
      resourceVersion: string;
    };

export interface MigrationPlan {
  /** In the order to apply: homes first. */
  steps: MigrationStep[];
  /** 0.1.x objects the mapping does not name, by their e-mail. */
  unmapped: { user: string; sessions: string[]; homes: string[] }[];
  /** Objects the mapping names but that are left as they are, and why. */
  refused: { kind: 'home' | 'session'; name: string; user: string; why: string }[];
}

/** A per-user home: a home claim no session owns. */
const isUserHome = (c: V1PersistentVolumeClaim) =>
  c.metadata?.labels?.['app.kubernetes.io/component'] === 'home' && !c.metadata.ownerReferences?.length;

/** The e-mail of a 0.1.x home: claims named after their annotation, with no owner yet. */
function legacyHomeUser(c: V1PersistentVolumeClaim): string | undefined {
  if (!isUserHome(c) || annotatedOwner(c.metadata)) return undefined;
  const user = c.metadata?.annotations?.[ANNOTATION_USER];
  return user && c.metadata?.name === homePvcName(user) ? user : undefined;
}

/** What to change so that the mapped 0.1.x objects belong to their owners. */
export function planOwnerMigration(
  sessions: readonly VDISession[],
  claims: readonly V1PersistentVolumeClaim[],
  mapping: ReadonlyMap<string, SessionOwner>,
): MigrationPlan {
  const steps: MigrationStep[] = [];
  const refused: MigrationPlan['refused'] = [];
  const unmapped = new Map<string, { user: string; sessions: string[]; homes: string[] }>();
  const miss = (user: string) => {
    const m = unmapped.get(user) ?? { user, sessions: [], homes: [] };
    unmapped.set(user, m);
    return m;
  };

  // One home per owner: the homes owners have now, by owner key.
  const homeOf = new Map<string, string>();
  for (const c of claims) {
    const o = isUserHome(c) ? annotatedOwner(c.metadata) : undefined;
    if (o) homeOf.set(ownerKey(o), c.metadata!.name!);
  }

  /** E-mails whose home could not be handed over: their sessions stay unclaimed too. */
  const blocked = new Set<string>();
  const legacyHomes = claims
    .map((c) => ({ c, user: legacyHomeUser(c) }))
    .filter((x): x is { c: V1PersistentVolumeClaim; user: string } => x.user !== undefined)
    .sort((a, b) => a.c.metadata!.name!.localeCompare(b.c.metadata!.name!));
  for (const { c, user } of legacyHomes) {
    const name = c.metadata!.name!;
    const owner = mapping.get(user);
    if (!owner) {
      miss(user).homes.push(name);
      continue;
    }
    const existing = homeOf.get(ownerKey(owner));
    if (existing) {
      blocked.add(user);
      refused.push({
        kind: 'home',
        name,
        user,
        why: `subject ${owner.subject} already has the home ${existing}; one home per owner: delete or empty one of them (copy what is needed), then run again`,
      });
      continue;
    }
    homeOf.set(ownerKey(owner), name);
    steps.push({ kind: 'home', name, user, owner, resourceVersion: c.metadata!.resourceVersion! });
  }

  const legacySessions = sessions
    .filter((s) => !s.spec.owner && !s.metadata.deletionTimestamp)
    .sort((a, b) => a.metadata.name!.localeCompare(b.metadata.name!));
  for (const s of legacySessions) {
    const name = s.metadata.name!;
    const user = s.spec.user;
    const owner = mapping.get(user);
    if (!owner) {
      miss(user).sessions.push(name);
      continue;
    }
    if (blocked.has(user)) {
      refused.push({
        kind: 'session',
        name,
        user,
        why: 'its e-mail-keyed home was not handed over (see above); it stays unclaimed (admins only) so that it never moves to another home',
      });
      continue;
    }
    steps.push({
      kind: 'session',
      name,
      uid: s.metadata.uid!,
      user,
      owner,
      resourceVersion: s.metadata.resourceVersion!,
    });
  }
  return {
    steps,
    unmapped: [...unmapped.values()].sort((a, b) => a.user.localeCompare(b.user)),
    refused,
  };
}

/** The plan in words, one line per step, for the admin to read before --apply. */
export function describePlan(plan: MigrationPlan): string[] {
  const who = (o: SessionOwner) => `subject ${o.subject} (${o.issuer})`;
  const lines = plan.steps.map((s) =>
    s.kind === 'home'
      ? `home     ${s.name} of ${s.user} -> ${who(s.owner)}`
      : `session  ${s.name} of ${s.user} -> ${who(s.owner)}`,
  );
  for (const r of plan.refused) lines.push(`refused  ${r.kind} ${r.name} of ${r.user}: ${r.why}`);
  for (const u of plan.unmapped) {
    const what = [...u.sessions.map((n) => `session ${n}`), ...u.homes.map((n) => `home ${n}`)].join(', ');
    lines.push(`unmapped ${u.user}: ${what} (add '${u.user} <subject>' to the mapping to hand them over)`);
  }
  return lines;
}
