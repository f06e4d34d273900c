import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isAlive, loadConfig, statePaths, writeState } from '@vdi/controlplane';
import { freePort } from '@vdi/testing';
import { purgeOwnCluster } from './cluster.js';

async function config(stateDir: string) {
  const ports = await Promise.all(Array.from({ length: 6 }, () => freePort()));
  return loadConfig({
    ...process.env,
    VDI_STATE_DIR: stateDir,
    VDI_GPU_NODES: 'none',
    VDI_APISERVER_PORT: String(ports[0]),
    VDI_ETCD_PORT: String(ports[1]),
    VDI_ETCD_PEER_PORT: String(ports[2]),
    VDI_KCM_PORT: String(ports[3]),
    VDI_SCHEDULER_PORT: String(ports[4]),
    VDI_KWOK_PORT: String(ports[5]),
  });
}

const scratch: string[] = [];
const scratchDir = () => {
  const d = mkdtempSync(path.join(tmpdir(), 'bench-purge-'));
  scratch.push(d);
  return d;
};
afterAll(() => {
  for (const d of scratch) rmSync(d, { recursive: true, force: true });
});

describe('the benchmark’s own cluster starts from nothing', () => {
  it('stops what a killed run left running and deletes its etcd data before the start', async () => {
    const stateDir = path.join(scratchDir(), 'main');
    const cfg = await config(stateDir);
    const p = statePaths(cfg);
    mkdirSync(path.join(p.etcdData, 'member'), { recursive: true });
    writeFileSync(path.join(p.etcdData, 'member', 'snap'), 'thousands of old sessions');
    // A process of the killed run, in its own group as the control plane starts them.
    const left = spawn('sleep', ['300'], { detached: true, stdio: 'ignore' });
    writeState(p.state, {
      processes: [{ name: 'etcd', pid: left.pid!, log: path.join(p.logs, 'etcd.log') }],
    });
    const lines: string[] = [];
    await purgeOwnCluster(cfg, (m) => lines.push(m));
    expect(isAlive(left.pid!)).toBe(false);
    expect(existsSync(p.dir)).toBe(false);
    expect(existsSync(stateDir)).toBe(true);
    expect(lines[0]).toBe(
      `cluster: purging the previous cluster state in ${p.dir}; stopping what it left: etcd (pid ${left.pid})`,
    );
  }, 30_000);

  it('leaves a new or empty state folder alone', async () => {
    const empty = scratchDir();
    mkdirSync(statePaths(await config(empty)).dir);
    const lines: string[] = [];
    await purgeOwnCluster(await config(empty), (m) => lines.push(m));
    await purgeOwnCluster(await config(path.join(empty, 'absent')), (m) => lines.push(m));
    expect(existsSync(statePaths(await config(empty)).dir)).toBe(true);
    expect(lines).toEqual([]);
  });
});
