import { readFileSync } from 'node:fs';
import path from 'node:path';
import { chooseEncoder, renderSession } from '@vdi/session-spec';
import {
  samplePassword,
  sampleOptions,
  sampleSession,
  sampleTemplate,
  sampleTurnRestKey,
} from '@vdi/session-spec/testing';
import { desktopEnv, launcherEvents, parseLauncherLine } from './index.js';

describe('desktopEnv (the process the image test and the benchmark run)', () => {
  it('gives Selkies the settings the platform’s pod gives a CPU desktop', () => {
    const t = sampleTemplate('cpu', {
      resources: { defaultGPU: 0, maxGPU: 0, defaultMemory: '4Gi', defaultCPU: '1' } as never,
      display: { width: 1280, height: 720, framerate: 60, dpi: 96, bitrateKbps: 8000 },
    });
    const { pod } = renderSession(sampleSession('s', { resources: { gpu: 0 } }), t, sampleOptions(), {
      encoderPlan: chooseEncoder('auto', 0, { products: [] }),
      turnRestKey: sampleTurnRestKey,
      sessionPassword: samplePassword,
    });
    const podEnv = Object.fromEntries(
      pod
        .spec!.containers[0]!.env!.filter((e) => e.name.startsWith('SELKIES_') && e.value !== undefined)
        .map((e) => [e.name, e.value]),
    );
    const ours: Record<string, string> = desktopEnv({
      port: 8080,
      width: 1280,
      height: 720,
      framerate: 60,
      password: 'x',
    });
    // Where it listens differs (the pod: every address; the process: loopback); the rest must not.
    delete podEnv.SELKIES_PUBLIC;
    delete ours.SELKIES_ADDR;
    delete ours.SELKIES_BASIC_AUTH_PASSWORD;
    delete podEnv.SELKIES_VIDEO_BITRATE;
    expect(ours).toEqual(podEnv);
  });

  it('is built from one package list, setup, entrypoint and launcher for both the Dockerfile and build.sh', () => {
    const dir = path.resolve(import.meta.dirname, '..');
    const docker = readFileSync(path.join(dir, 'Dockerfile'), 'utf8');
    const build = readFileSync(path.join(dir, 'build.sh'), 'utf8');
    const versions = readFileSync(path.join(dir, 'versions.env'), 'utf8');
    for (const f of ['packages.txt', 'setup.sh', 'entrypoint.sh', 'launcher.py']) {
      expect(docker).toContain(f);
      expect(build).toContain(f);
    }
    const selkies = /^SELKIES_VERSION=(\S+)$/m.exec(versions)![1];
    expect(docker).toContain(`ARG SELKIES_VERSION=${selkies}`);
    expect(docker).toMatch(/^FROM \$\{DEBIAN_IMAGE\} AS desktop$/m);
    expect(docker).toMatch(/^FROM desktop AS desktop-gpu$/m);
    expect(docker).toMatch(/^ARG DEBIAN_IMAGE=debian:bookworm-slim$/m);
  });
});

describe("the launcher's log lines (launcher.py; the image test and the benchmark read them)", () => {
  it('reads the time, the event and its fields', () => {
    expect(parseLauncherLine('[vdi-launcher] t_ms=212 event=x-up display=:0 size=1280x720 pid=7')).toEqual({
      tMs: 212,
      event: 'x-up',
      fields: { display: ':0', size: '1280x720', pid: '7' },
    });
  });

  it('unquotes quoted values, escapes included', () => {
    const e = parseLauncherLine(
      String.raw`[vdi-launcher] t_ms=5 event=error reason="Xvfb said \"no\" = bad\nend" what=x`,
    );
    expect(e?.fields).toEqual({ reason: 'Xvfb said "no" = bad\nend', what: 'x' });
  });

  it("finds a line behind a prefix (a container runtime's), and ignores every other line", () => {
    expect(
      parseLauncherLine('2026-12-05T22:00:00Z stderr F [vdi-launcher] t_ms=0 event=start pid=1')?.event,
    ).toBe('start');
    expect(parseLauncherLine('[selkies-session] Xvfb serves display :0')).toBeUndefined();
    expect(parseLauncherLine('[vdi-launcher] event=start')).toBeUndefined();
    expect(parseLauncherLine('[vdi-launcher] t_ms=abc event=start')).toBeUndefined();
  });

  it('keeps the events of a log in the order they were printed', () => {
    const lines = [
      'INFO selkies: starting',
      '[vdi-launcher] t_ms=0 event=start pid=1',
      '[vdi-launcher] t_ms=180 event=x-up display=:0 size=1280x720',
      '[vdi-launcher] t_ms=181 event=selkies-spawned pid=9',
    ];
    expect(launcherEvents(lines).map((e) => e.event)).toEqual(['start', 'x-up', 'selkies-spawned']);
  });
});

describe("the launcher's events (launcher.py) and their documentation", () => {
  it('documents in the README every event the launcher logs, and no other', () => {
    const dir = path.resolve(import.meta.dirname, '..');
    const source = readFileSync(path.join(dir, 'launcher.py'), 'utf8');
    const readme = readFileSync(path.join(dir, 'README.md'), 'utf8');
    const logged = new Set([...source.matchAll(/\blog\("([a-z-]+)"/g)].map((m) => m[1]));
    const documented = new Set([...readme.matchAll(/^\| `([a-z-]+)` +\|/gm)].map((m) => m[1]));
    // What the benchmark maps (launcherUp, soundUp, xUp, selkiesSpawned, desktopSpawned) and the stop.
    for (const e of [
      'start',
      'sound-up',
      'x-up',
      'selkies-spawned',
      'desktop-spawned',
      'restart',
      'stopping',
      'stopped',
    ])
      expect(logged).toContain(e);
    expect([...documented].sort()).toEqual([...logged].sort());
  });
});
