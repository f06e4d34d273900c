import { changedBox, expandBox, touchesInnerEdge, type Box } from './frame-diff.js';

/** A width × height RGBA picture of one grey, with `paint` boxes in white. */
function picture(width: number, height: number, paint: Box[] = []): Uint8ClampedArray {
  const px = new Uint8ClampedArray(width * height * 4).fill(40);
  for (const b of paint)
    for (let y = b.y; y < b.y + b.height; y++)
      for (let x = b.x; x < b.x + b.width; x++) px.set([255, 255, 255, 255], (y * width + x) * 4);
  return px;
}

/** The pixels of `region` of a whole picture, as getImageData(region) returns them. */
function crop(px: Uint8ClampedArray, width: number, r: Box): Uint8ClampedArray {
  const out = new Uint8ClampedArray(r.width * r.height * 4);
  for (let y = 0; y < r.height; y++)
    out.set(
      px.subarray(((r.y + y) * width + r.x) * 4, ((r.y + y) * width + r.x + r.width) * 4),
      y * r.width * 4,
    );
  return out;
}

const W = 64;
const H = 48;
const whole: Box = { x: 0, y: 0, width: W, height: H };

describe('changedBox', () => {
  it('finds the box around the changed pixels, in frame coordinates', () => {
    const before = picture(W, H);
    const after = picture(W, H, [
      { x: 10, y: 20, width: 3, height: 5 },
      { x: 16, y: 22, width: 2, height: 6 },
    ]);
    expect(changedBox(before, W, after, whole)).toEqual({
      changed: 15 + 12,
      box: { x: 10, y: 20, width: 8, height: 8 },
    });
  });

  it('searches only the region it is given, read as the region alone', () => {
    const before = picture(W, H);
    const after = picture(W, H, [
      { x: 10, y: 20, width: 3, height: 5 },
      { x: 50, y: 2, width: 4, height: 4 },
    ]);
    const region: Box = { x: 8, y: 16, width: 12, height: 12 };
    expect(changedBox(before, W, crop(after, W, region), region)).toEqual({
      changed: 15,
      box: { x: 10, y: 20, width: 3, height: 5 },
    });
    const elsewhere: Box = { x: 30, y: 30, width: 10, height: 10 };
    expect(changedBox(before, W, crop(after, W, elsewhere), elsewhere)).toEqual({ changed: 0 });
  });

  it('ignores changes no larger than the threshold (codec noise of a still picture)', () => {
    const before = picture(W, H);
    const after = before.map((v, i) => (i % 4 === 3 ? v : v + 30));
    expect(changedBox(before, W, after, whole)).toEqual({ changed: 0 });
    expect(changedBox(before, W, after, whole, 80).changed).toBe(W * H);
  });
});

describe('expandBox', () => {
  it('grows the box by the margins and cuts it to the frame', () => {
    expect(expandBox({ x: 20, y: 20, width: 8, height: 16 }, 10, 5, W, H)).toEqual({
      x: 10,
      y: 15,
      width: 28,
      height: 26,
    });
    expect(expandBox({ x: 2, y: 40, width: 8, height: 8 }, 10, 5, W, H)).toEqual({
      x: 0,
      y: 35,
      width: 20,
      height: 13,
    });
  });

  it('stays inside the frame for a box outside it (a hint from a larger stream)', () => {
    expect(expandBox({ x: 200, y: 100, width: 8, height: 8 }, 4, 4, W, H)).toEqual({
      x: 64,
      y: 48,
      width: 0,
      height: 0,
    });
  });
});

describe('touchesInnerEdge', () => {
  const region: Box = { x: 10, y: 10, width: 20, height: 20 };

  it('is false for a box well inside the region', () => {
    expect(touchesInnerEdge({ x: 15, y: 15, width: 4, height: 4 }, region, W, H)).toBe(false);
  });

  it.each([
    ['left', { x: 10, y: 15, width: 4, height: 4 }],
    ['top', { x: 15, y: 10, width: 4, height: 4 }],
    ['right', { x: 26, y: 15, width: 4, height: 4 }],
    ['bottom', { x: 15, y: 26, width: 4, height: 4 }],
  ])('is true for a box at the region’s %s edge', (_, box) => {
    expect(touchesInnerEdge(box, region, W, H)).toBe(true);
  });

  it('is false at an edge the region shares with the frame', () => {
    const corner: Box = { x: 0, y: 0, width: 20, height: 20 };
    expect(touchesInnerEdge({ x: 0, y: 0, width: 4, height: 4 }, corner, W, H)).toBe(false);
    expect(touchesInnerEdge({ x: 16, y: 0, width: 4, height: 4 }, corner, W, H)).toBe(true);
  });
});
