import { formatAfter, queueWords, sessionTimeline } from './timeline';

describe('sessionTimeline', () => {
  it('lists the recorded steps of a queued launch with the time after the launch', () => {
    expect(
      sessionTimeline({
        createdAt: '2026-12-04T10:00:00Z',
        queuedAt: '2026-12-04T10:00:01Z',
        scheduledAt: '2026-12-04T10:05:00Z',
        imageReadyAt: '2026-12-04T10:05:04Z',
        startedAt: '2026-12-04T10:05:04Z',
        readyAt: '2026-12-04T10:05:06Z',
      }).map((e) => [e.id, e.label, e.after]),
    ).toEqual([
      ['start', 'Launched', 0],
      ['queued', 'Queued for a GPU time-slice', 1],
      ['scheduled', 'Placed on a node', 300],
      ['imageReady', 'Desktop image ready', 304],
      ['started', 'Desktop started', 304],
      ['ready', 'Ready', 306],
    ]);
  });

  it('counts from the resume, and leaves out steps not reached', () => {
    expect(
      sessionTimeline({
        createdAt: '2026-12-01T10:00:00Z',
        resumedAt: '2026-12-04T10:00:00Z',
        scheduledAt: '2026-12-04T10:00:02Z',
      }).map((e) => [e.label, e.after]),
    ).toEqual([
      ['Resumed', 0],
      ['Placed on a node', 2],
    ]);
  });

  it('is empty without a start time', () => {
    expect(sessionTimeline({})).toEqual([]);
  });
});

describe('formatAfter', () => {
  it.each([
    [0, '+0 s'],
    [42, '+42 s'],
    [185, '+3 min 5 s'],
    [120, '+2 min'],
    [3_900, '+1 h 5 min'],
  ])('%d → %s', (s, text) => expect(formatAfter(s)).toBe(text));
});

describe('queueWords', () => {
  it('says the place in the queue, or nothing when the session does not wait', () => {
    expect(queueWords(1)).toMatch(/^You are next in the queue/);
    expect(queueWords(2)).toBe('You are number 2 in the queue: 1 desktop is ahead of you.');
    expect(queueWords(4)).toBe('You are number 4 in the queue: 3 desktops are ahead of you.');
    expect(queueWords(null)).toBeUndefined();
    expect(queueWords(undefined)).toBeUndefined();
  });
});
