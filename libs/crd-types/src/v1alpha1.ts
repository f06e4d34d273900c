/** API group of every platform resource. */
export const GROUP = 'vdi.kasm.io';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}` as const;

export const KIND_SESSION = 'VDISession';
export const KIND_TEMPLATE = 'VDITemplate';
export const PLURAL_SESSION = 'vdisessions';
export const PLURAL_TEMPLATE = 'vditemplates';

/** The namespace sessions live in unless configured otherwise. */
export const DEFAULT_SESSIONS_NAMESPACE = 'vdi-sessions';

/** Lifecycle phases of a session, in the order a healthy session passes them. */
export const SESSION_PHASES = [
  'Pending',
  'Scheduling',
  'Starting',
  'Running',
  'Failed',
  'Terminating',
] as const;
export type SessionPhase = (typeof SESSION_PHASES)[number];

/** True for phases a session does not leave by itself. */
export function isTerminalPhase(phase: SessionPhase): boolean {
  return phase === 'Failed' || phase === 'Terminating';
}
