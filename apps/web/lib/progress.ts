/**
 * A session's status as launch progress: four steps (queued, scheduled on a node, starting,
 * ready), which of them are done, and a headline and explanation in words. Pure, so the session
 * page only renders what this returns.
 */
import type { Condition, Session, SessionPhase, SessionReason } from './api/types';
import { sentence } from './errors';

export const PROGRESS_STEPS = [
  { id: 'queued', label: 'Queued' },
  { id: 'scheduled', label: 'Scheduled on a node' },
  { id: 'starting', label: 'Starting' },
  { id: 'ready', label: 'Ready' },
] as const;
export type StepId = (typeof PROGRESS_STEPS)[number]['id'];

/**
 * done: passed; current: happening now; waiting: held up (the reason says why); failed: where the
 * start failed; todo: not reached.
 */
export type StepState = 'done' | 'current' | 'waiting' | 'failed' | 'todo';

/** How the page should present the whole: moving along, held up, ready, failed, or going away. */
export type Tone = 'progress' | 'waiting' | 'ready' | 'failed' | 'ending';

export interface Progress {
  steps: { id: StepId; label: string; state: StepState }[];
  tone: Tone;
  headline: string;
  /** Why, in the portal's words (undefined when the headline says it all). */
  explanation?: string;
  /** The operator's own message, as a sentence. */
  detail?: string;
}

/** Each reason the operator writes, in words a user understands (and what happens next). */
export const REASON_WORDS: Record<SessionReason, string> = {
  TemplateFound: 'The desktop template was found.',
  TemplateNotFound:
    'The desktop template of this session does not exist (any more). Delete the session and launch another template.',
  TemplateInvalid:
    'The desktop template is not valid, so the platform cannot build this desktop. An admin has to fix the template.',
  ResourcesOutOfBounds:
    'The session asks for more (or less) than its template allows. Delete it and launch again with other settings.',
  InvalidSpec:
    'The session’s settings cannot become a desktop. Delete it and launch again with other settings.',
  InvalidPlatformOptions:
    'The platform is configured wrongly, so it cannot build desktops right now. An admin has to fix the operator’s settings.',
  Applied: 'The platform has prepared everything your desktop needs.',
  ApplyFailed: 'The platform could not prepare your desktop yet; it keeps trying.',
  PodScheduled: 'A node has been picked to run your desktop.',
  WaitingForScheduler: 'The cluster is picking a node for your desktop.',
  WaitingForGPU:
    'Every GPU time-slice is in use right now. Your desktop waits in the queue and starts by itself as soon as one frees up; waiting in the queue never makes it fail.',
  Unschedulable: 'No node can run your desktop at the moment. It starts by itself when one can.',
  ContainersStarting: 'Your desktop is starting up.',
  DesktopReady: 'Your desktop is ready.',
  ImagePullFailed:
    'The desktop’s software image could not be downloaded. An admin has to check the template’s image.',
  CrashLooping:
    'The desktop keeps crashing while it starts. Delete the session and try again; tell an admin if it happens again.',
  PodFailed: 'The desktop stopped unexpectedly. Delete the session and launch a new one.',
  StartDeadlineExceeded:
    'The desktop did not become ready in time. Stop and resume the session to try again, or ask an admin to check the GPU nodes.',
  Stopped:
    'This session is stopped: no desktop runs and it holds no GPU time-slice. Your home folder and the session are kept; resume it to start the desktop again.',
  HomeNotOwned:
    'The home folder this desktop would use is registered to another account, so the platform will not open it. An admin has to check whose it is.',
  WaitingForHomeNode:
    'Your home folder lives on one GPU node, which cannot take your desktop right now. It starts by itself there as soon as that node has room.',
  LifetimeEnding:
    'This desktop reaches the end of its lifetime soon and will then be deleted. Extend it, or save your work.',
  Deleting: 'The session is being deleted.',
};

/** Words for a reason; an unknown reason (a newer operator) is shown as it is. */
export function reasonWords(reason: string | null | undefined): string | undefined {
  if (!reason) return undefined;
  return (REASON_WORDS as Record<string, string>)[reason] ?? undefined;
}

/** Short names of the phases for badges and tables (every phase of the CRD: a new one must get a label). */
export const PHASE_LABELS: Record<SessionPhase, string> = {
  Pending: 'Queued',
  Scheduling: 'Scheduling',
  Starting: 'Starting',
  Running: 'Running',
  Stopped: 'Stopped',
  Failed: 'Failed',
  Terminating: 'Deleting',
};
/** The label of a phase; one this portal does not know (a newer API) as it is. */
export const phaseLabel = (phase: string) => (PHASE_LABELS as Record<string, string>)[phase] ?? phase;

/** Reasons that hold a session up (it is not just moving along). */
const HELD_UP = new Set<string>([
  'TemplateNotFound',
  'TemplateInvalid',
  'ResourcesOutOfBounds',
  'ApplyFailed',
  'HomeNotOwned',
  'WaitingForGPU',
  'WaitingForHomeNode',
  'Unschedulable',
]);

const conditionTrue = (conds: Condition[], type: string) =>
  conds.some((c) => c.type === type && c.status === 'True');

function steps(states: StepState[]): Progress['steps'] {
  return PROGRESS_STEPS.map((s, i) => ({ id: s.id, label: s.label, state: states[i] ?? 'todo' }));
}

/** The step at which a failed session stopped: the first one its conditions do not show as done. */
function failedAt(conds: Condition[]): number {
  if (conditionTrue(conds, 'Scheduled')) return 2;
  if (conditionTrue(conds, 'ResourcesApplied')) return 1;
  return 0;
}

type SessionStatus = Pick<Session, 'phase' | 'reason' | 'message' | 'nodeName' | 'conditions'>;

export function sessionProgress(s: SessionStatus): Progress {
  const heldUp = !!s.reason && HELD_UP.has(s.reason);
  const explanation = reasonWords(s.reason);
  const detail = s.message ? sentence(s.message) : undefined;
  const extra = {
    ...(explanation ? { explanation } : {}),
    ...(detail && detail !== explanation ? { detail } : {}),
  };
  switch (s.phase) {
    case 'Pending':
      return {
        steps: steps([heldUp ? 'waiting' : 'current']),
        tone: heldUp ? 'waiting' : 'progress',
        headline: heldUp ? 'Your desktop cannot be prepared yet' : 'Your desktop is queued',
        ...extra,
      };
    case 'Scheduling':
      return {
        steps: steps(['done', heldUp ? 'waiting' : 'current']),
        tone: heldUp ? 'waiting' : 'progress',
        headline:
          s.reason === 'WaitingForGPU'
            ? 'Waiting for a free GPU time-slice'
            : s.reason === 'WaitingForHomeNode'
              ? 'Waiting for the node that holds your home folder'
              : s.reason === 'Unschedulable'
                ? 'Waiting for a node that can run your desktop'
                : 'Finding a node for your desktop',
        ...extra,
      };
    case 'Starting':
      return {
        steps: steps(['done', 'done', 'current']),
        tone: 'progress',
        headline: s.nodeName ? `Starting your desktop on node ${s.nodeName}` : 'Starting your desktop',
        ...extra,
      };
    case 'Running':
      return {
        steps: steps(['done', 'done', 'done', 'done']),
        tone: 'ready',
        // The operator's message says the same ("the desktop is ready"): nothing to add.
        headline: 'Your desktop is ready',
      };
    case 'Failed': {
      const at = failedAt(s.conditions);
      return {
        steps: steps(PROGRESS_STEPS.map((_, i) => (i < at ? 'done' : i === at ? 'failed' : 'todo'))),
        tone: 'failed',
        headline: 'Your desktop could not start',
        ...extra,
      };
    }
    case 'Stopped':
      return {
        steps: steps([]),
        tone: 'ending',
        headline: 'This session is stopped',
        explanation: REASON_WORDS.Stopped,
      };
    case 'Terminating':
      return {
        steps: steps([]),
        tone: 'ending',
        headline: 'This session is being deleted',
        explanation: REASON_WORDS.Deleting,
      };
    default:
      return { steps: steps([]), tone: 'progress', headline: `The session is ${s.phase}`, ...extra };
  }
}

/**
 * Whether the session page reads the session again every few seconds besides its live updates:
 * while it waits in the GPU queue (its place moves when other sessions start or leave, which
 * sends no event for this one), and while it is on its way (Pending, Scheduling, Starting). A
 * change made between the page's first read and the moment its subscription is registered on the
 * API comes with the subscription's first event (current: true, the session as it is then); the
 * rereads stay as a second line for the steps that matter most, as a queued session may not
 * change again for a long time and the page would show an old state until it did.
 */
export function rereadsWhileOpen(
  s: Pick<Session, 'phase' | 'queuePosition' | 'deleting'> | undefined,
): boolean {
  if (!s || s.deleting) return false;
  return (
    s.queuePosition != null || s.phase === 'Pending' || s.phase === 'Scheduling' || s.phase === 'Starting'
  );
}
