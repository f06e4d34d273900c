import { phaseLabel } from '../../lib/progress';

/** A session's phase as a coloured label (the colour is never the only cue: the word is there). */
export function PhaseBadge({ phase }: { phase: string }) {
  return <span className={`badge phase-${phase.toLowerCase()}`}>{phaseLabel(phase)}</span>;
}
