/**
 * The shapes the portal reads from the API (apps/api/schema.gql), limited to the fields it asks
 * for. Phases and reasons are the CRD's own types, imported as types only so that nothing of the
 * CRD library reaches the browser bundle.
 */
import type { SessionPhase, SessionReason } from '@vdi/crd-types';

export type { SessionPhase, SessionReason };

export interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
}

/** Who owns a session: issuer + subject (the e-mail in `Session.user` is only shown). */
export interface SessionOwner {
  issuer: string;
  subject: string;
}

export interface Session {
  name: string;
  /** Shown only: the owner's e-mail when the session was made. */
  user: string;
  /** Null for a session from before owners existed (unclaimed until an admin migrates it). */
  owner?: SessionOwner | null;
  template: string;
  /** schema.gql's SessionPhase enum, which the API builds from the CRD's SESSION_PHASES. */
  phase: SessionPhase;
  /** What the owner wants: Running, or Stopped (no desktop, no GPU time-slice; home and name kept). */
  state?: string | null;
  /** schema.gql's SessionReason enum (the CRD's SessionReason); null when the operator gave none. */
  reason?: SessionReason | null;
  message?: string | null;
  nodeName?: string | null;
  gpu?: number | null;
  createdAt?: string | null;
  /** When the current start began waiting for a GPU time-slice (null when it never waited). */
  queuedAt?: string | null;
  /** When the desktop was placed on a node. */
  scheduledAt?: string | null;
  /** When the desktop's container was first created (its image was on the node). */
  imageReadyAt?: string | null;
  /** When the desktop's container started. */
  startedAt?: string | null;
  readyAt?: string | null;
  /** How the desktop started: Pool (claimed from a warm pool) or Cold. */
  startPath?: string | null;
  /** Place in the queue for a GPU time-slice while it waits for one (1 = next); null otherwise. */
  queuePosition?: number | null;
  /** When it was stopped, while it is Stopped. */
  stoppedAt?: string | null;
  /** When it last left Stopped: the phase timings count from here. */
  resumedAt?: string | null;
  /** When idle culling stops the session if nobody opens it (set while nobody watches it). */
  idleUntil?: string | null;
  /** When the platform deletes the session (its lifetime); null when it has none. */
  expiresAt?: string | null;
  deleting: boolean;
  conditions: Condition[];
}

/** One page of sessions (schema.gql's SessionPage): newest first; nextCursor is null on the last page. */
export interface SessionPage {
  items: Session[];
  nextCursor?: string | null;
  totalCount: number;
}

export interface Template {
  name: string;
  displayName: string;
  description?: string | null;
  icon?: string | null;
  defaultGPU: number;
  maxGPU: number;
  usable: boolean;
  message?: string | null;
}

export interface NodeCapacity {
  name: string;
  product: string;
  nvenc: boolean;
  total: number;
  free: number;
  ready: boolean;
  schedulable: boolean;
}

export interface Capacity {
  gpuSlicesTotal: number;
  gpuSlicesFree: number;
  nvencSlicesFree: number;
  sessionsWaiting: number;
  nodes?: NodeCapacity[] | null;
}

/** GPU time-slice hours used this budget period, and the budget (schema.gql's GpuUsage). */
export interface GpuUsage {
  user: string;
  /** Day, Week or Month. */
  period: string;
  periodStart: string;
  renewsAt: string;
  gpuHoursUsed: number;
  /** Null: no budget. */
  gpuHoursBudget?: number | null;
  gpuHoursLeft?: number | null;
  rule?: string | null;
  exhausted: boolean;
  slicesHeld: number;
}

/** What openSession returns: the desktop's URL with a one-time ticket. */
export interface SessionAccess {
  url: string;
  expiresAt: string;
}

/** CURRENT: not a change, the session as it was when the subscription started (current: true). */
export type SessionChangeType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'CURRENT';

export interface SessionUpdate {
  type: SessionChangeType;
  session: Session;
}
