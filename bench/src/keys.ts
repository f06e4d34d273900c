/**
 * When a change on the stream is a keypress reaching the desktop's terminal: the probe reports
 * where the picture changed (a box, @vdi/testing keyToPixels); a typed character or a Backspace
 * changes about one character cell — the glyph and the cursor moving past it — while a click's
 * focus change, a window redrawing or the panel's clock change something else. Pure.
 */
import type { Box } from '@vdi/testing';

/**
 * The largest change one key makes in the desktop's terminal: xfce4-terminal's default monospace
 * font at 96 DPI has cells of about 7–9 × 15–19 px; a key changes its cell and the cursor's next
 * one (two cells across, one row), and codec noise at the glyph's edges adds a few pixels. Kept
 * generous so a slightly larger font still counts, small enough that a window or a line does not.
 */
export const CHAR_BOX = { maxWidth: 40, maxHeight: 32, minHeight: 3 } as const;

/** Whether a change of `box` is about the size of one character (see CHAR_BOX). */
export function isCharSized(box: Box | undefined, limits: typeof CHAR_BOX = CHAR_BOX): boolean {
  return (
    box !== undefined &&
    box.width >= 1 &&
    box.width <= limits.maxWidth &&
    box.height >= limits.minHeight &&
    box.height <= limits.maxHeight
  );
}

/** `w×h at x,y`, for logs. */
export const boxText = (b: Box) => `${b.width}×${b.height} at ${b.x},${b.y}`;
