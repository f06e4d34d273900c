/**
 * The machine-wide lock of the real node. The node is one per machine (its bridge, RUN_DIR and
 * cgroup root are fixed), so whoever starts, stops or cleans it — `cluster up`, a test file that
 * restarts it — holds this lock, and two jest workers never restart it at the same time.
 */
import os from 'node:os';
import path from 'node:path';
import lockfile from 'proper-lockfile';

/** The lock's path (a folder proper-lockfile creates atomically). */
export const NODE_LOCK = path.join(os.tmpdir(), 'vdi-real-node.lock');

export type Release = () => Promise<void>;

/**
 * Takes the lock, waiting up to `waitMs` for another holder. The lock stays fresh while the
 * holder's event loop runs; a holder that died is taken over after `staleMs`.
 */
export async function lockNode(
  opts: { waitMs?: number; staleMs?: number; file?: string } = {},
): Promise<Release> {
  const file = opts.file ?? NODE_LOCK;
  const waitMs = opts.waitMs ?? 15 * 60_000;
  const staleMs = opts.staleMs ?? 60_000;
  const release = await lockfile.lock(file, {
    realpath: false,
    lockfilePath: file,
    stale: staleMs,
    update: Math.floor(staleMs / 6),
    retries: {
      retries: Math.max(0, Math.ceil(waitMs / 1000)),
      minTimeout: 1000,
      maxTimeout: 1000,
      factor: 1,
    },
    // A lock lost to staleness (an event loop blocked for a minute) is reported, not thrown into nowhere.
    onCompromised: (err) => process.stderr.write(`[node] real-node lock compromised: ${err.message}\n`),
  });
  return async () => {
    await release().catch(() => undefined);
  };
}

/** Takes the lock only when it is free now; undefined when someone else holds it. */
export async function tryLockNode(file?: string): Promise<Release | undefined> {
  try {
    return await lockNode({ waitMs: 0, ...(file ? { file } : {}) });
  } catch (err) {
    if ((err as { code?: string }).code === 'ELOCKED') return undefined;
    throw err;
  }
}
