import { LOAD_MARKER, coresByRole, parseStat, processRole, type ProcSample } from './desktop-cpu.js';

describe('process roles', () => {
  it.each([
    ['Xvfb', 'Xvfb -displayfd 5 -auth /run/user/1000/x', 'xvfb'],
    ['pulseaudio', 'pulseaudio --daemonize=no --exit-idle-time=-1', 'sound'],
    ['python3', '/usr/bin/python3 -I /usr/local/lib/vdi-desktop/launcher.py', 'launcher'],
    ['python3', '/opt/selkies/bin/python3 -u /usr/local/lib/vdi/launcher.py --width 1280', 'launcher'],
    ['selkies-session', '/opt/selkies/bin/python3 /opt/selkies/bin/selkies-session', 'launcher'],
    ['python3', '/opt/selkies/bin/python3 -m selkies', 'selkies'],
    ['python3', '/opt/selkies/bin/python3 -m selkies --audio-enabled=false', 'selkies'],
    ['xfce4-terminal', 'xfce4-terminal', 'terminal'],
    ['python3', `python3 -c import time ${LOAD_MARKER}`, 'load'],
    ['xfwm4', 'xfwm4 --display :0', 'desktop'],
    ['bash', 'bash', 'desktop'],
  ])('%s (%s) is %s', (comm, cmdline, role) => {
    expect(processRole(comm, cmdline)).toBe(role);
  });
});

describe('/proc/<pid>/stat', () => {
  it('splits after the command name, which may hold spaces and parentheses', () => {
    const { comm, fields } = parseStat(
      '42 (Web Content (x)) S 1 42 42 0 -1 4194560 1 0 0 0 150 30 2 3 20 0 1 0 9000',
    );
    expect(comm).toBe('Web Content (x)');
    expect(fields[0]).toBe('S');
    expect(fields.slice(11, 15)).toEqual(['150', '30', '2', '3']);
    expect(fields[19]).toBe('9000');
  });
});

describe('cores by role', () => {
  const p = (
    pid: number,
    comm: string,
    cpuSeconds: number,
    startedAt = 1000,
    cmdline = comm,
  ): ProcSample => ({
    pid,
    comm,
    cmdline,
    cpuSeconds,
    startedAt,
  });

  it('divides each process’s CPU in the window by the window', () => {
    const a = [p(1, 'Xvfb', 10), p(2, 'python3', 20, 1000, 'python3 -m selkies')];
    const b = [p(1, 'Xvfb', 11), p(2, 'python3', 24, 1000, 'python3 -m selkies')];
    const c = coresByRole(a, b, 10);
    expect(c.xvfb).toBeCloseTo(0.1);
    expect(c.selkies).toBeCloseTo(0.4);
    expect(c.desktop).toBe(0);
  });

  it('counts a new process from zero and a reused pid as new', () => {
    const a = [p(7, 'bash', 50, 1000)];
    const b = [p(7, 'xfwm4', 2, 5000), p(8, 'python3', 1, 6000, `python3 ${LOAD_MARKER}`)];
    const c = coresByRole(a, b, 10);
    expect(c.load).toBeCloseTo(0.1);
    // The old bash (pid 7) exited: its CPU before the window is taken back; the new pid 7 counts 2 s.
    expect(c.desktop).toBeCloseTo((2 - 50) / 10);
  });

  it('keeps the total right when a process exits and its parent reaps it', () => {
    // The load (3 s so far) runs 1 s more and exits; bash reaps it: bash's reaped time grows by 4 s.
    const a = [p(1, 'bash', 1), p(2, 'python3', 3, 1000, `python3 ${LOAD_MARKER}`)];
    const b = [p(1, 'bash', 1 + 4)];
    const c = coresByRole(a, b, 10);
    const total = Object.values(c).reduce((x, y) => x + y, 0);
    expect(total).toBeCloseTo(0.1);
  });
});
