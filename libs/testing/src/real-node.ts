import { lockNode, type Release } from '@vdi/node';

/**
 * Holds the machine-wide lock of the real node (`vdi-worker-1`) for a test file: every test file
 * that uses the real node takes it in `beforeAll` and releases it in `afterAll`, so two jest
 * workers never restart or clean the node at the same time (and `cluster up` in another process
 * leaves a node being restarted to its holder). Waits up to `waitMs` (default 15 min) for it.
 */
export async function holdRealNode(opts: { waitMs?: number } = {}): Promise<Release> {
  return lockNode(opts);
}
