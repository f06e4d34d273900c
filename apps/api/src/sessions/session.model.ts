import { Logger } from '@nestjs/common';
import { Field, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import { SESSION_PHASES, SessionReason, type SessionPhase, type VDISession } from '@vdi/crd-types';
import { ConditionModel, toConditionModel } from '../common/condition.model.js';

/**
 * The GraphQL enums of a session's phase and reason are the CRD library's own lists
 * (SESSION_PHASES, SessionReason): a phase or reason added there is in the schema with the next
 * schema.gql, and nothing here repeats them.
 */
export const SessionPhaseEnum = Object.fromEntries(SESSION_PHASES.map((p) => [p, p])) as {
  readonly [P in SessionPhase]: P;
};
registerEnumType(SessionPhaseEnum, {
  name: 'SessionPhase',
  description:
    'Where a session is in its life: Pending (accepted, not yet prepared), Scheduling (waiting for a node or a GPU time-slice), Starting, Running, Stopped (by its owner), Failed, or Terminating (being deleted).',
});
registerEnumType(SessionReason, {
  name: 'SessionReason',
  description: "Why a session is in its phase: the operator's reason on the session's status.",
});

const REASONS: ReadonlySet<string> = new Set(Object.values(SessionReason));
const log = new Logger('SessionModel');
/** Unknown reasons already logged; bounded, as a misbehaving writer could invent any number. */
const reported = new Set<string>();

/**
 * The status reason as the enum has it. A reason the CRD library does not list (an operator newer
 * than this API, or a writer other than the operator; status.reason is a free string in the CRD)
 * cannot be sent as an enum value — the whole answer would fail — so it is null, logged once, and
 * the status message still says what is going on.
 */
export function knownReason(reason: string | undefined): SessionReason | undefined {
  if (reason === undefined || REASONS.has(reason)) return reason as SessionReason | undefined;
  if (!reported.has(reason) && reported.size < 100) {
    reported.add(reason);
    log.warn(`session status reason '${reason}' is not in @vdi/crd-types' SessionReason; answered as null`);
  }
  return undefined;
}

@ObjectType('SessionOwner', {
  description: 'The identity that owns a session, its home volume and its quota: issuer + subject.',
})
export class SessionOwnerModel {
  @Field(() => String, { description: "The owner's token issuer (iss)." }) issuer!: string;
  @Field(() => String, { description: "The owner's token subject (sub)." }) subject!: string;
}

@ObjectType('Session', { description: 'A desktop session (a VDISession).' })
export class SessionModel {
  @Field(() => String) name!: string;
  @Field(() => String) namespace!: string;
  @Field(() => String, {
    description:
      "Who it is for, as shown (spec.user): the owner's verified e-mail when it was created, else the subject. Decides nothing; see owner.",
  })
  user!: string;
  @Field(() => SessionOwnerModel, {
    nullable: true,
    description:
      'Who owns it (spec.owner). Null for a session made before owners existed: it belongs to no user until an admin migrates it.',
  })
  owner?: SessionOwnerModel | null;
  @Field(() => String) template!: string;
  @Field(() => SessionPhaseEnum, {
    description:
      "The operator's phase (status.phase; Pending before it wrote one), Terminating once deletion has started.",
  })
  phase!: SessionPhase;
  @Field(() => String, {
    description:
      'What the owner wants (spec.state): Running, or Stopped (no desktop, no GPU time-slice; home, name and end kept). See stopSession / resumeSession.',
  })
  state!: string;
  @Field(() => String, { nullable: true, description: 'Where the desktop is, once Running.' }) url?: string;
  @Field(() => SessionReason, { nullable: true }) reason?: SessionReason;
  @Field(() => String, { nullable: true }) message?: string;
  @Field(() => Int, { nullable: true, description: 'GPU time-slices asked for or granted.' }) gpu?: number;
  @Field(() => String, { nullable: true }) memory?: string;
  @Field(() => String, { nullable: true }) cpu?: string;
  @Field(() => String, { nullable: true }) nodeName?: string;
  @Field(() => String, { nullable: true, description: 'The Selkies encoder (e.g. h264enc).' })
  encoder?: string;
  @Field(() => String, { nullable: true, description: 'Where the desktop encodes: nvenc (its GPU) or cpu.' })
  encoderDevice?: string;
  @Field(() => String, {
    nullable: true,
    description:
      "How the desktop started: Pool (a warm desktop claimed from the template's pool, ready at once) or Cold (started for this session).",
  })
  startPath?: string;
  @Field(() => String, { nullable: true }) maxLifetime?: string;
  @Field(() => String, { nullable: true }) idleTimeout?: string;
  @Field(() => String, { nullable: true }) createdAt?: string;
  @Field(() => String, {
    nullable: true,
    description: 'When the current start began waiting for a GPU time-slice (null when it never waited).',
  })
  queuedAt?: string;
  @Field(() => String, { nullable: true, description: 'When the desktop was placed on a node.' })
  scheduledAt?: string;
  @Field(() => String, {
    nullable: true,
    description: "When the desktop's container was first created (its image was on the node).",
  })
  imageReadyAt?: string;
  @Field(() => String, {
    nullable: true,
    description: "When the desktop's container (its current run) started.",
  })
  startedAt?: string;
  @Field(() => String, { nullable: true, description: 'When the desktop became ready.' }) readyAt?: string;
  @Field(() => String, {
    nullable: true,
    description:
      'When the current start fails (StartDeadlineExceeded) unless the desktop is ready: counted from when its pod was made and placed on a node, so unset while it waits in the queue for a GPU (queue time never counts) and once it is ready.',
  })
  startDeadlineAt?: string;
  @Field(() => Int, {
    nullable: true,
    description:
      'Place in the queue for a GPU time-slice while the desktop waits for one (1 = served next; null when not waiting): waiting sessions in the order their desktop pods entered the scheduler’s queue. The scheduler has the final say (a desktop that can use only some nodes, e.g. one whose home is on one node, may be passed). It starts by itself when a slice frees.',
  })
  queuePosition?: number | null;
  @Field(() => String, { nullable: true, description: 'When it was stopped, while it is Stopped.' })
  stoppedAt?: string;
  @Field(() => String, {
    nullable: true,
    description:
      'When it last left Stopped (a resume): the start deadline and the phase timings count from here.',
  })
  resumedAt?: string;
  @Field(() => Int, {
    nullable: true,
    description: 'Pages streaming the running desktop at the last look (sessions with an idle timeout).',
  })
  viewers?: number;
  @Field(() => String, {
    nullable: true,
    description: 'Since when nobody has watched the running desktop (unset while someone does).',
  })
  idleSince?: string;
  @Field(() => String, {
    nullable: true,
    description:
      'When idle culling stops (or deletes) the session if nobody opens it: idleSince + its idleTimeout.',
  })
  idleUntil?: string;
  @Field(() => String, {
    nullable: true,
    description: 'When the operator deletes the session (its lifetime: maxLifetime or the template’s).',
  })
  expiresAt?: string;
  @Field(() => Boolean, { description: 'True once deletion has started.' }) deleting!: boolean;
  @Field(() => [ConditionModel]) conditions!: ConditionModel[];
}

const iso = (t: unknown): string | undefined =>
  t instanceof Date ? t.toISOString() : typeof t === 'string' && t ? t : undefined;

const opt = <K extends string, V>(key: K, v: V | undefined): { [P in K]?: V } =>
  (v === undefined ? {} : { [key]: v }) as { [P in K]?: V };

const models = new WeakMap<VDISession, SessionModel>();

/**
 * The model of a cached session, made once per version of it: the caches replace a session's
 * object whenever it changes (informer events), so a model kept by the object cannot go stale,
 * and lists and pages (100 sessions per admin page, 50 clients asking at once) stop converting
 * the same unchanged sessions on every request. Frozen: every answer shares it.
 */
export function sessionModelOf(s: VDISession): SessionModel {
  let m = models.get(s);
  if (!m) {
    m = Object.freeze(toSessionModel(s));
    models.set(s, m);
  }
  return m;
}

export function toSessionModel(s: VDISession): SessionModel {
  const st = s.status ?? {};
  const deleting = Boolean(s.metadata.deletionTimestamp);
  return {
    name: s.metadata.name!,
    namespace: s.metadata.namespace!,
    user: s.spec.user,
    owner: s.spec.owner ? { issuer: s.spec.owner.issuer, subject: s.spec.owner.subject } : null,
    template: s.spec.template,
    phase: deleting ? 'Terminating' : (st.phase ?? 'Pending'),
    state: s.spec.state ?? 'Running',
    ...opt('url', st.url),
    ...opt('reason', knownReason(st.reason)),
    ...opt('message', st.message),
    ...opt('gpu', st.gpu ?? s.spec.resources?.gpu),
    ...opt('memory', s.spec.resources?.memory),
    ...opt('cpu', s.spec.resources?.cpu),
    ...opt('nodeName', st.nodeName),
    ...opt('encoder', st.encoder),
    ...opt('encoderDevice', st.encoderDevice),
    ...opt('startPath', st.startPath),
    ...opt('maxLifetime', s.spec.maxLifetime),
    ...opt('idleTimeout', s.spec.idleTimeout),
    ...opt('createdAt', iso(st.createdAt) ?? iso(s.metadata.creationTimestamp)),
    ...opt('queuedAt', iso(st.queuedAt)),
    ...opt('scheduledAt', iso(st.scheduledAt)),
    ...opt('imageReadyAt', iso(st.imageReadyAt)),
    ...opt('startedAt', iso(st.startedAt)),
    ...opt('readyAt', iso(st.readyAt)),
    ...opt('startDeadlineAt', iso(st.startDeadlineAt)),
    ...opt('stoppedAt', st.phase === 'Stopped' ? iso(st.stoppedAt) : undefined),
    ...opt('resumedAt', iso(st.resumedAt)),
    ...opt('viewers', st.viewers),
    ...opt('idleSince', iso(st.idleSince)),
    ...opt('idleUntil', iso(st.idleUntil)),
    ...opt('expiresAt', iso(st.expiresAt)),
    deleting,
    conditions: (st.conditions ?? []).map(toConditionModel),
  };
}
