import { spawn } from 'node:child_process';
import { waitFor } from '@vdi/testing';
import {
  LAUNCHER_ENV,
  launcherId,
  orphansOf,
  parseEnviron,
  parseStat,
  readProcs,
  stopOrphans,
  type ProcFacts,
} from './orphans.js';

/** Still running: present and not a zombie. */
const running = (pid: number) => readProcs().some((p) => p.pid === pid && p.state !== 'Z');

const proc = (o: Partial<ProcFacts>): ProcFacts => ({
  pid: 100,
  state: 'S',
  ppid: 1,
  started: 5000,
  pgid: 100,
  cmdline: ['node', 'apps/operator/src/main.ts'],
  env: {},
  ...o,
});

describe('parseStat', () => {
  it('reads the parent and process group after the command name, whatever that name holds', () => {
    const tail = '0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10';
    expect(parseStat(`4242 (node) S 1 4242 4242 ${tail}`)).toEqual({
      state: 'S',
      ppid: 1,
      pgid: 4242,
      started: 987654,
    });
    expect(parseStat(`77 (a) b (c) R 12 70 70 ${tail}`)).toMatchObject({ state: 'R', ppid: 12, pgid: 70 });
    expect(parseStat('garbage')).toBeUndefined();
  });
});

describe('parseEnviron', () => {
  it('splits NUL-separated pairs and keeps = inside values', () => {
    expect(parseEnviron('A=1\0B=x=y\0\0')).toEqual({ A: '1', B: 'x=y' });
  });
});

describe('orphansOf', () => {
  const match = (p: ProcFacts) => p.env.VDI_LEASE_NAMESPACE === 'e2e-ns';
  const ns = { VDI_LEASE_NAMESPACE: 'e2e-ns' };
  it('takes the processes whose launcher is gone that match, never this process', () => {
    const launcher = proc({ pid: 4000, ppid: 3000, started: 7000, cmdline: ['jest'] });
    const procs = [
      launcher,
      proc({ pid: 10, env: { ...ns, [LAUNCHER_ENV]: '3999:6000' } }),
      // A run in progress: its launcher is alive (adopted by whoever, it does not matter).
      proc({ pid: 11, env: { ...ns, [LAUNCHER_ENV]: '4000:7000' } }),
      // The launcher's pid now holds another process (another start time): gone.
      proc({ pid: 12, ppid: 4000, env: { ...ns, [LAUNCHER_ENV]: '4000:6500' } }),
      // Another namespace's orphan.
      proc({ pid: 13, env: { VDI_LEASE_NAMESPACE: 'other', [LAUNCHER_ENV]: '3999:6000' } }),
      proc({ pid: 14, env: { ...ns, [LAUNCHER_ENV]: '3999:6000' } }),
      // Exited, not reaped yet: nothing to stop.
      proc({ pid: 15, state: 'Z', env: { ...ns, [LAUNCHER_ENV]: '3999:6000' } }),
    ];
    expect(orphansOf(procs, match, 14).map((p) => p.pid)).toEqual([10, 12]);
  });

  it('takes an unmarked process (started before the mark) only once it was re-parented to PID 1', () => {
    const procs = [proc({ pid: 20, ppid: 1, env: ns }), proc({ pid: 21, ppid: 4000, env: ns })];
    expect(orphansOf(procs, match, 1).map((p) => p.pid)).toEqual([20]);
  });
});

describe('stopOrphans on real processes', () => {
  it('stops a matching process whose launcher is gone; leaves one of a live launcher and one that does not match', async () => {
    const marker = `orphan-test-${process.pid}-${Date.now()}`;
    const sleeper = (tag: string, launcher: string) =>
      spawn('sleep', ['300'], {
        env: { ...process.env, ORPHAN_TEST: marker, ORPHAN_TAG: tag, [LAUNCHER_ENV]: launcher },
        detached: true,
        stdio: 'ignore',
      });
    // pid 1 at start time 1 tick: never this machine's init, so that launcher is "gone".
    const gone = '1:1';
    const target = sleeper('mine', gone);
    const bystander = sleeper('someone-else', gone);
    const live = sleeper('mine', launcherId());
    const all = [target, bystander, live];
    try {
      await waitFor('the sleepers started', async () => all.every((c) => c.pid && running(c.pid)), 10_000);
      const ours = (p: ProcFacts) => p.env.ORPHAN_TEST === marker && p.env.ORPHAN_TAG === 'mine';
      const lines: string[] = [];
      expect(stopOrphans('test sleeper', ours, (l) => lines.push(l))).toEqual([target.pid]);
      expect(lines).toEqual([expect.stringContaining(`orphaned test sleeper (pid ${target.pid})`)]);
      await waitFor('the orphan gone', async () => target.signalCode === 'SIGKILL', 10_000);
      expect(running(bystander.pid!)).toBe(true);
      expect(running(live.pid!)).toBe(true);
    } finally {
      for (const c of all) c.kill('SIGKILL');
    }
  });
});
