import type { VDISession } from '@vdi/crd-types';
import { GraphQLError } from 'graphql';
import { checkQuota, TooManyWaitingError, usageOf, UserLocks } from './quota.js';

const session = (gpu: number, deleting = false): VDISession => ({
  apiVersion: 'vdi.kasm.io/v1alpha1',
  kind: 'VDISession',
  metadata: { name: 'x', ...(deleting ? { deletionTimestamp: new Date() } : {}) },
  spec: { user: 'u', template: 't', resources: { gpu } },
});

describe('quotas', () => {
  const limits = { maxSessionsPerUser: 2, maxGpusPerUser: 1 };
  const gpuOf = (s: VDISession) => s.spec.resources?.gpu ?? 0;

  it('counts sessions and GPUs, not those being deleted', () => {
    expect(usageOf([session(1), session(0), session(1, true)], gpuOf)).toEqual({ sessions: 2, gpus: 1 });
  });

  it('counts a stopped session as a session holding no GPU time-slice', () => {
    const stopped = session(1);
    stopped.spec.state = 'Stopped';
    expect(usageOf([session(1), stopped], gpuOf)).toEqual({ sessions: 2, gpus: 1 });
  });

  it('lets a stopped session resume at the session limit, not past the GPU limit', () => {
    expect(() => checkQuota({ sessions: 2, gpus: 0 }, 1, limits, true)).not.toThrow();
    expect(() => checkQuota({ sessions: 2, gpus: 1 }, 1, limits, true)).toThrow(
      /stop or delete another GPU session first/,
    );
    expect(() => checkQuota({ sessions: 2, gpus: 1 }, 0, limits, true)).not.toThrow();
  });

  it('allows up to the limits and refuses beyond with QUOTA_EXCEEDED', () => {
    expect(() => checkQuota({ sessions: 1, gpus: 0 }, 1, limits)).not.toThrow();
    const codeOf = (fn: () => void) => {
      try {
        fn();
      } catch (e) {
        return [(e as GraphQLError).extensions.code, (e as GraphQLError).extensions.quota];
      }
      return undefined;
    };
    expect(codeOf(() => checkQuota({ sessions: 2, gpus: 0 }, 0, limits))).toEqual([
      'QUOTA_EXCEEDED',
      'sessionsPerUser',
    ]);
    expect(codeOf(() => checkQuota({ sessions: 1, gpus: 1 }, 1, limits))).toEqual([
      'QUOTA_EXCEEDED',
      'gpusPerUser',
    ]);
    expect(codeOf(() => checkQuota({ sessions: 1, gpus: 1 }, 0, limits))).toBeUndefined();
  });

  it('serialises work per user and survives failures', async () => {
    const locks = new UserLocks();
    const order: string[] = [];
    const step =
      (tag: string, ms: number, fail = false) =>
      async () => {
        order.push(`${tag}+`);
        await new Promise((r) => setTimeout(r, ms));
        order.push(`${tag}-`);
        if (fail) throw new Error(tag);
        return tag;
      };
    const results = await Promise.allSettled([
      locks.run('a', step('a1', 20, true)),
      locks.run('a', step('a2', 1)),
      locks.run('b', step('b1', 5)),
    ]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'fulfilled', 'fulfilled']);
    expect(order.indexOf('a2+')).toBeGreaterThan(order.indexOf('a1-'));
    expect(order.indexOf('b1+')).toBeLessThan(order.indexOf('a1-'));
  });

  it('holds at most maxQueued calls of one user, refuses more, and forgets users with nothing in flight', async () => {
    const locks = new UserLocks(3);
    const gates: (() => void)[] = [];
    const held = () => new Promise<void>((r) => gates.push(r));
    const calls = [locks.run('a', held), locks.run('a', held), locks.run('a', held)];
    await expect(locks.run('a', held)).rejects.toThrow(TooManyWaitingError);
    await expect(locks.run('a', held)).rejects.toThrow(/3 session changes of yours are already waiting/);
    // Another user is not held up by a's queue.
    const b = locks.run('b', async () => 'b');
    await expect(b).resolves.toBe('b');
    // One of a's finishes: there is room for exactly one more.
    await new Promise((r) => setImmediate(r));
    gates.shift()!();
    await calls[0];
    const fourth = locks.run('a', async () => 'fourth');
    await expect(locks.run('a', held)).rejects.toThrow(TooManyWaitingError);
    // The rest run one after the other: open each gate as its call reaches it.
    for (let open = 0; open < 2; open++) {
      while (gates.length === 0) await new Promise((r) => setImmediate(r));
      gates.shift()!();
    }
    await Promise.all(calls);
    await expect(fourth).resolves.toBe('fourth');
    expect(locks.size).toBe(0);
  });
});
