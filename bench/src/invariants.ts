/**
 * The chaos run's end state, checked from what the API server holds (pure: lists in, problems
 * out). Zero problems means: no child outlived or was orphaned from its session, no session has
 * two desktop pods, no deleted session is held by its finalizer, every live session is Running,
 * and the sessions that exist are exactly those the churn left alive.
 */

export interface SessionView {
  name: string;
  uid: string;
  deletionTimestamp?: string;
  finalizers: string[];
  phase?: string;
}

export interface ChildView {
  /** Plural, e.g. `pods`. */
  kind: string;
  name: string;
  /** The `vdi.kasm.io/session` label. */
  session: string;
  deletionTimestamp?: string;
  ownerReferences: { kind: string; name: string; uid: string; controller?: boolean }[];
}

export interface InvariantReport {
  /** Children whose session is gone, or whose controller is not that session (by uid). */
  leakedChildren: string[];
  /** Sessions with more than one desktop pod. */
  duplicatePods: string[];
  /** Sessions being deleted that still exist (their finalizer not released). */
  stuckFinalizers: string[];
  /** Live sessions that are not Running. */
  notRunning: string[];
  /** Sessions the churn left alive that do not exist, and deleted ones that still do. */
  unexpected: string[];
}

export function checkInvariants(
  sessions: readonly SessionView[],
  children: readonly ChildView[],
  expectedLive?: ReadonlySet<string>,
): InvariantReport {
  const byName = new Map(sessions.map((s) => [s.name, s]));
  const leakedChildren: string[] = [];
  const pods = new Map<string, string[]>();
  for (const c of children) {
    const id = `${c.kind}/${c.name}`;
    const owner = byName.get(c.session);
    const controller = c.ownerReferences.find((o) => o.controller);
    if (!owner) leakedChildren.push(`${id}: session ${c.session} does not exist`);
    else if (!controller || controller.kind !== 'VDISession' || controller.uid !== owner.uid)
      leakedChildren.push(
        `${id}: controller ${controller ? `${controller.name} (${controller.uid})` : 'none'}, not ${c.session} (${owner.uid})`,
      );
    else if (c.deletionTimestamp && !owner.deletionTimestamp)
      leakedChildren.push(`${id}: being deleted while session ${c.session} lives`);
    if (c.kind === 'pods') pods.set(c.session, [...(pods.get(c.session) ?? []), c.name]);
  }
  const duplicatePods = [...pods]
    .filter(([, names]) => names.length > 1)
    .map(([session, names]) => `${session}: ${names.join(', ')}`);
  const stuckFinalizers = sessions
    .filter((s) => s.deletionTimestamp)
    .map(
      (s) => `${s.name}: deleted at ${s.deletionTimestamp}, finalizers ${s.finalizers.join(', ') || 'none'}`,
    );
  const notRunning = sessions
    .filter((s) => !s.deletionTimestamp && s.phase !== 'Running')
    .map((s) => `${s.name}: ${s.phase ?? 'no status'}`);
  const unexpected: string[] = [];
  if (expectedLive) {
    for (const name of expectedLive) if (!byName.has(name)) unexpected.push(`${name}: missing`);
    for (const s of sessions)
      if (!expectedLive.has(s.name) && !s.deletionTimestamp)
        unexpected.push(`${s.name}: deleted but still there`);
  }
  return { leakedChildren, duplicatePods, stuckFinalizers, notRunning, unexpected };
}

/** Number of problems of every kind. */
export function problemCount(r: InvariantReport): number {
  return (
    r.leakedChildren.length +
    r.duplicatePods.length +
    r.stuckFinalizers.length +
    r.notRunning.length +
    r.unexpected.length
  );
}
