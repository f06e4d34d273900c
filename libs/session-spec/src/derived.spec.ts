import { createHmac } from 'node:crypto';
import { derivedOnce } from './derived.js';
import { sessionPassword, turnRestKey } from './secrets.js';

const hmac = (key: string, input: string) => createHmac('sha256', key).update(input).digest('base64url');

describe('derivedOnce: hashes kept per session, never across secrets', () => {
  const uid = '3f6c1d2e-0000-4000-8000-000000000001';
  const a = 'a'.repeat(40);
  const b = 'b'.repeat(40);

  it('derives once while the same secret asks', () => {
    let calls = 0;
    const derive = () => `v${++calls}`;
    expect(derivedOnce(a, 'test:once', derive)).toBe('v1');
    expect(derivedOnce(a, 'test:once', derive)).toBe('v1');
    expect(calls).toBe(1);
  });

  it('another secret derives again and never gets the value kept for the first', () => {
    expect(derivedOnce(a, 'test:secret', () => 'under a')).toBe('under a');
    expect(derivedOnce(b, 'test:secret', () => 'under b')).toBe('under b');
    expect(derivedOnce(a, 'test:secret', () => 'under a again')).toBe('under a again');
  });

  it("a session's password and TURN key are their HMACs under each session key, asked in turn", () => {
    for (const key of [a, b, a, b]) {
      expect(sessionPassword(key, uid)).toBe(hmac(key, `vdi-session-password:${uid}`).slice(0, 32));
      expect(turnRestKey(key, uid)).toBe(hmac(key, `vdi-turn-rest:${uid}`));
    }
    expect(sessionPassword(a, uid)).not.toBe(sessionPassword(b, uid));
  });
});
