import { CHAR_BOX, boxText, isCharSized } from './keys.js';

describe('a keypress’s change on the stream', () => {
  it.each([
    ['one glyph', { x: 101, y: 102, width: 6, height: 12 }, true],
    ['a glyph and the cursor past it', { x: 100, y: 100, width: 17, height: 17 }, true],
    [
      'at the largest a key makes',
      { x: 0, y: 0, width: CHAR_BOX.maxWidth, height: CHAR_BOX.maxHeight },
      true,
    ],
    ['a line of text', { x: 10, y: 100, width: 300, height: 17 }, false],
    ['a window taking the focus', { x: 0, y: 0, width: 640, height: 400 }, false],
    ['a column (a scrollbar)', { x: 600, y: 0, width: 8, height: 300 }, false],
    [
      'a single row of pixels (an underline cursor’s blink is too flat)',
      { x: 5, y: 5, width: 8, height: 1 },
      false,
    ],
  ])('%s: %s', (_, box, expected) => {
    expect(isCharSized(box)).toBe(expected);
  });

  it('is never a keypress without a box', () => {
    expect(isCharSized(undefined)).toBe(false);
  });

  it('names a box for the log', () => {
    expect(boxText({ x: 3, y: 4, width: 16, height: 17 })).toBe('16×17 at 3,4');
  });
});
