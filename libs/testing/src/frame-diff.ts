/**
 * Where two pictures of a stream differ, as a box: the pure part of the keypress probe
 * (stream.ts). The functions here also run inside the page — they are sent there as source text —
 * so each is self-contained: no imports, no helpers, no closures over this module.
 */

/** A rectangle of the picture, in pixels of the stream's own size. */
export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** The pixels of `region` that differ between two pictures, and the box around them. */
export interface RegionChange {
  /** Pixels whose colour moved by more than the threshold (sum over R, G, B). */
  changed: number;
  /** Around the changed pixels; undefined when none changed. */
  box?: Box;
}

/**
 * Compares `region` of the current picture (`current`: RGBA of the region alone, as
 * `getImageData(region)` gives it) with the same pixels of the picture before (`base`: RGBA of the
 * whole frame, `baseWidth` pixels wide). A pixel counts as changed when |ΔR|+|ΔG|+|ΔB| exceeds
 * `threshold` — more than a still picture's codec noise. The box is in frame coordinates.
 */
export function changedBox(
  base: ArrayLike<number>,
  baseWidth: number,
  current: ArrayLike<number>,
  region: Box,
  threshold = 96,
): RegionChange {
  let changed = 0;
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  for (let ry = 0; ry < region.height; ry++) {
    const y = region.y + ry;
    for (let rx = 0; rx < region.width; rx++) {
      const x = region.x + rx;
      const c = (ry * region.width + rx) * 4;
      const b = (y * baseWidth + x) * 4;
      const d =
        Math.abs(current[c]! - base[b]!) +
        Math.abs(current[c + 1]! - base[b + 1]!) +
        Math.abs(current[c + 2]! - base[b + 2]!);
      if (d > threshold) {
        changed++;
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
    }
  }
  return changed === 0
    ? { changed }
    : { changed, box: { x: x0, y: y0, width: x1 - x0 + 1, height: y1 - y0 + 1 } };
}

/**
 * `box` grown by `marginX`/`marginY` on every side and cut to the frame (`width` × `height`):
 * the region searched first for the next key's change (the area the last key changed).
 */
export function expandBox(box: Box, marginX: number, marginY: number, width: number, height: number): Box {
  const x = Math.max(0, Math.min(width, box.x - marginX));
  const y = Math.max(0, Math.min(height, box.y - marginY));
  const right = Math.max(x, Math.min(width, box.x + box.width + marginX));
  const bottom = Math.max(y, Math.min(height, box.y + box.height + marginY));
  return { x, y, width: right - x, height: bottom - y };
}

/**
 * Whether `box` (found inside `region`) reaches an edge of the region that is not an edge of the
 * frame: the change may go on outside the region, so the whole frame must be searched for its
 * true extent.
 */
export function touchesInnerEdge(box: Box, region: Box, width: number, height: number): boolean {
  return (
    (box.x <= region.x && region.x > 0) ||
    (box.y <= region.y && region.y > 0) ||
    (box.x + box.width >= region.x + region.width && region.x + region.width < width) ||
    (box.y + box.height >= region.y + region.height && region.y + region.height < height)
  );
}
