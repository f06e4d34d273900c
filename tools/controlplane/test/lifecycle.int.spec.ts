/**
 * `up` and `down` of a second, throw-away cluster (own state directory, own ports): it starts,
 * is reused by a second `up`, reports its processes, restarts one component (as chaos tests do),
 * and `down` leaves no process or port behind.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { down, restartComponent, status, up } from '../src/cluster.js';
import { loadConfig } from '../src/config.js';
import { isAlive, portInUse } from '../src/processes.js';
import { freePort } from '@vdi/testing';

describe('cluster lifecycle', () => {
  const stateDir = mkdtempSync(path.join(os.tmpdir(), 'vdi-cluster-'));

  afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

  it('starts, is reused, and stops without leaving a process or a port', async () => {
    const ports = await Promise.all(Array.from({ length: 6 }, freePort));
    const cfg = loadConfig({
      VDI_STATE_DIR: stateDir,
      VDI_GPU_NODES: 'Tesla-T4:2',
      VDI_APISERVER_PORT: String(ports[0]),
      VDI_ETCD_PORT: String(ports[1]),
      VDI_ETCD_PEER_PORT: String(ports[2]),
      VDI_KCM_PORT: String(ports[3]),
      VDI_SCHEDULER_PORT: String(ports[4]),
      VDI_KWOK_PORT: String(ports[5]),
    });
    const lines: string[] = [];
    try {
      const first = await up(cfg, (m) => lines.push(m));
      expect(first.reused).toBe(false);
      expect(first.startedInMs).toBeLessThan(90_000);
      expect(lines.join('\n')).toMatch(
        /etcd healthy[\s\S]*kube-apiserver healthy[\s\S]*kube-scheduler healthy[\s\S]*kwok healthy/,
      );
      expect(lines.join('\n')).toContain('vdi-gpu-tesla-t4-0 (Tesla-T4-SHARED, nvidia.com/gpu=16)');
      const running = await status(cfg);
      expect(running.running).toBe(true);
      expect(running.processes.map((p) => p.name)).toEqual(
        expect.arrayContaining([
          'etcd',
          'kube-apiserver',
          'kube-controller-manager',
          'kube-scheduler',
          'kwok',
          'local-path-provisioner',
        ]),
      );
      expect((await up(cfg, () => undefined)).reused).toBe(true);

      // A crashed API server comes back with the same command line, and the cluster is whole again.
      const apiserver = running.processes.find((p) => p.name === 'kube-apiserver')!;
      const restarted = await restartComponent(cfg, 'kube-apiserver', {
        signal: 'SIGKILL',
        log: () => undefined,
      });
      expect(restarted.pid).not.toBe(apiserver.pid);
      expect(isAlive(apiserver.pid)).toBe(false);
      expect(restarted.downMs).toBeLessThan(90_000);
      expect((await status(cfg)).running).toBe(true);

      await down(cfg, () => undefined);
      for (const p of running.processes) expect(isAlive(p.pid)).toBe(false);
      expect(isAlive(restarted.pid)).toBe(false);
      for (const port of ports) expect(await portInUse(port)).toBe(false);
      expect((await status(cfg)).running).toBe(false);
    } finally {
      await down(cfg, () => undefined).catch(() => undefined);
    }
  }, 300_000);
});
