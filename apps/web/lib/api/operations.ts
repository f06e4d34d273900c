/**
 * The GraphQL operations of the portal, in one place, so each page asks for exactly what it shows.
 */
import type {
  Capacity,
  GpuUsage,
  Session,
  SessionAccess,
  SessionPage,
  SessionUpdate,
  Template,
} from './types';

const SESSION_FIELDS = `name user owner { issuer subject } template phase state reason message nodeName gpu
  createdAt queuedAt scheduledAt imageReadyAt startedAt readyAt queuePosition stoppedAt resumedAt expiresAt idleUntil startPath deleting conditions { type status reason message }`;

export const ME = `query Me { me { user issuer subject username name isAdmin } }`;
export interface MeData {
  me: {
    user: string;
    issuer: string;
    subject: string;
    username: string;
    name?: string | null;
    isAdmin: boolean;
  };
}

const USAGE_FIELDS =
  'user period periodStart renewsAt gpuHoursUsed gpuHoursBudget gpuHoursLeft rule exhausted slicesHeld';

export const GALLERY = `query Gallery {
  templates { name displayName description icon defaultGPU maxGPU usable message }
  capacity { gpuSlicesTotal gpuSlicesFree nvencSlicesFree sessionsWaiting }
}`;
export interface GalleryData {
  templates: Template[];
  capacity: Capacity;
}

export const USAGE = `query Usage { usage { ${USAGE_FIELDS} } }`;
export interface UsageData {
  usage: GpuUsage;
}

export const ADMIN_USAGES = `query AdminUsages { usages { ${USAGE_FIELDS} } }`;
export interface UsagesData {
  usages: GpuUsage[];
}

export const CAPACITY = `query Capacity {
  capacity { gpuSlicesTotal gpuSlicesFree nvencSlicesFree sessionsWaiting }
}`;
export interface CapacityData {
  capacity: Capacity;
}

export const CREATE_SESSION = `mutation CreateSession($input: CreateSessionInput!) {
  createSession(input: $input) { ${SESSION_FIELDS} }
}`;
export interface CreateSessionData {
  createSession: Session;
}

export const SESSION = `query Session($name: String!) { session(name: $name) { ${SESSION_FIELDS} } }`;
export interface SessionData {
  session: Session;
}

export const MY_SESSIONS = `query MySessions { sessions { ${SESSION_FIELDS} } }`;
export interface SessionsData {
  sessions: Session[];
}

/** Sessions per page of the admin page's list (the API allows 1–500). */
export const ADMIN_PAGE_SIZE = 100;

const SESSION_PAGE_FIELDS = `items { ${SESSION_FIELDS} } nextCursor totalCount`;

/** The admin page's first answer: the newest page of everyone's sessions and the capacity. */
export const ADMIN = `query Admin($first: Int) {
  sessionPage(all: true, first: $first) { ${SESSION_PAGE_FIELDS} }
  capacity {
    gpuSlicesTotal gpuSlicesFree nvencSlicesFree sessionsWaiting
    nodes { name product nvenc total free ready schedulable }
  }
}`;
export interface AdminData {
  sessionPage: SessionPage;
  capacity: Capacity;
}

/** The next page of everyone's sessions (after: the previous page's nextCursor). */
export const ALL_SESSIONS_PAGE = `query AllSessionsPage($first: Int, $after: String) {
  sessionPage(all: true, first: $first, after: $after) { ${SESSION_PAGE_FIELDS} }
}`;
export interface SessionPageData {
  sessionPage: SessionPage;
}

export const ADMIN_CAPACITY = `query AdminCapacity {
  capacity {
    gpuSlicesTotal gpuSlicesFree nvencSlicesFree sessionsWaiting
    nodes { name product nvenc total free ready schedulable }
  }
}`;

export const EXTEND_SESSION = `mutation ExtendSession($name: String!, $by: String!) {
  extendSession(name: $name, by: $by) { ${SESSION_FIELDS} }
}`;

export const STOP_SESSION = `mutation StopSession($name: String!) {
  stopSession(name: $name) { ${SESSION_FIELDS} }
}`;

export const RESUME_SESSION = `mutation ResumeSession($name: String!) {
  resumeSession(name: $name) { ${SESSION_FIELDS} }
}`;

export const DELETE_SESSION = `mutation DeleteSession($name: String!) { deleteSession(name: $name) }`;
export interface DeleteSessionData {
  deleteSession: boolean;
}

export const OPEN_SESSION = `mutation OpenSession($name: String!) {
  openSession(name: $name) { url expiresAt }
}`;
export interface OpenSessionData {
  openSession: SessionAccess;
}

/**
 * Always with current: true: the subscription starts with each session as it is then (CURRENT),
 * so a change made after the page's read and before the subscription started is not missed.
 */
export const SESSION_UPDATED = `subscription SessionUpdated($name: String, $all: Boolean) {
  sessionUpdated(name: $name, all: $all, current: true) { type session { ${SESSION_FIELDS} } }
}`;
export interface SessionUpdatedData {
  sessionUpdated: SessionUpdate;
}
