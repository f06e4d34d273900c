import { SessionSpecError } from './errors.js';
import { resolveSession } from './resolve.js';
import { sampleSession, sampleTemplate } from './testing.js';

const resolve = (session: Record<string, unknown>, idle?: Record<string, unknown>) =>
  resolveSession(
    sampleSession('alice-1', session).spec,
    sampleTemplate('t', idle ? { lifetime: { idle } as never } : {}).spec,
  );

describe('the idle timeout a session gets', () => {
  it('is none when the template culls nothing, and Stop is the default action', () => {
    const e = resolve({});
    expect(e.idleTimeoutSeconds).toBeUndefined();
    expect(e.idleAction).toBe('Stop');
  });

  it("is the session's own, the template's default, else its max", () => {
    expect(resolve({ idleTimeout: '10m' }, { default: '30m', max: '2h' }).idleTimeoutSeconds).toBe(600);
    expect(resolve({}, { default: '30m', max: '2h' }).idleTimeoutSeconds).toBe(1800);
    expect(resolve({}, { max: '2h' }).idleTimeoutSeconds).toBe(7200);
    expect(resolve({}, { default: '30m', action: 'Delete' }).idleAction).toBe('Delete');
  });

  it("refuses one longer than the template's max, naming it", () => {
    let err: unknown;
    try {
      resolve({ idleTimeout: '3h' }, { max: '2h' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SessionSpecError);
    expect((err as SessionSpecError).reason).toBe('ResourcesOutOfBounds');
    expect((err as Error).message).toMatch(/3h is longer than the template allows \(lifetime.idle.max 2h\)/);
  });
});
