import { segmentText } from './route-params';

describe('segmentText', () => {
  it.each([
    ['alice-abc12', 'alice-abc12'],
    ['a%20b', 'a b'],
    ['100%', '100%'],
  ])('%s → %s', (raw, text) => expect(segmentText(raw)).toBe(text));
});
