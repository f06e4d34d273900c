import type { Session } from './api/types';
import { IDLE_WARNING_MS, sessionWarnings } from './warnings';

const now = Date.parse('2026-12-04T12:00:00Z');
const at = (ms: number) => new Date(now + ms).toISOString();
const session = (s: Partial<Session>): Session => ({
  name: 'alice-1',
  user: 'alice@example.com',
  template: 't',
  phase: 'Running',
  deleting: false,
  conditions: [],
  ...s,
});

describe('sessionWarnings', () => {
  it('warns of a session within a lifetime warning, saying when it ends', () => {
    const w = sessionWarnings(
      [
        session({
          expiresAt: at(12 * 60_000),
          conditions: [{ type: 'ExpiringSoon', status: 'True', reason: 'LifetimeEnding', message: '' }],
        }),
      ],
      now,
    );
    expect(w).toEqual([
      expect.objectContaining({
        session: 'alice-1',
        kind: 'ending',
        key: `ending:alice-1:${at(12 * 60_000)}`,
      }),
    ]);
    expect(w[0]!.text).toMatch(/ends in 12 min and is then deleted: extend it/);
  });

  it('warns of a desktop nobody watches only within the last minutes before it is stopped', () => {
    expect(sessionWarnings([session({ idleUntil: at(IDLE_WARNING_MS + 60_000) })], now)).toEqual([]);
    const w = sessionWarnings([session({ idleUntil: at(4 * 60_000) })], now);
    expect(w.map((x) => x.kind)).toEqual(['idle']);
    expect(w[0]!.text).toMatch(
      /Nobody is watching your desktop alice-1: it is stopped in 4 min unless you open it/,
    );
  });

  it('says nothing of sessions being deleted, stopped, or without a warning', () => {
    const ending = [{ type: 'ExpiringSoon', status: 'True', reason: 'LifetimeEnding', message: '' }];
    expect(
      sessionWarnings(
        [
          session({ deleting: true, expiresAt: at(60_000), conditions: ending }),
          session({ name: 'b', phase: 'Stopped', idleUntil: at(60_000) }),
          session({ name: 'c', expiresAt: at(60_000) }),
        ],
        now,
      ),
    ).toEqual([]);
  });
});
