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
import { desktopEnv } from './index.js';

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

  it('is built from one package list, setup and entrypoint for both the Dockerfile and build.sh', () => {
    const dir = path.resolve(import.meta.dirname, '..');
    const docker = readFileSync(path.join(dir, 'Dockerfile'), 'utf8');
    const build = readFileSync(path.join(dir, 'build.sh'), 'utf8');
    const versions = readFileSync(path.join(dir, 'versions.env'), 'utf8');
    for (const f of ['packages.txt', 'setup.sh', 'entrypoint.sh']) {
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
