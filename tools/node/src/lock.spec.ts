import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { lockNode, tryLockNode } from './lock.js';

describe('real-node lock', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vdi-node-lock-'));
  const file = path.join(dir, 'node.lock');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is held by one holder at a time; a waiter gets it once it is released', async () => {
    const first = await lockNode({ file });
    expect(await tryLockNode(file)).toBeUndefined();
    let second: (() => Promise<void>) | undefined;
    const waiting = lockNode({ file, waitMs: 10_000 }).then((r) => (second = r));
    await new Promise((r) => setTimeout(r, 300));
    expect(second).toBeUndefined();
    await first();
    await waiting;
    expect(second).toBeDefined();
    await second!();
    const third = await tryLockNode(file);
    expect(third).toBeDefined();
    await third!();
  }, 20_000);
});
