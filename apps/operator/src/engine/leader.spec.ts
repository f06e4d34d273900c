import { pino } from 'pino';
import { ANNOTATION_LEASE_KEY_ID } from '@vdi/session-spec';
import { LeaderElector, type LeaderOptions } from './leader.js';
import { asClient, FakeKubeClient } from './testing.js';

const LEASE = {
  apiVersion: 'coordination.k8s.io/v1',
  kind: 'Lease',
  metadata: { name: 'vdi-operator', namespace: 'vdi-system' },
};

describe('LeaderElector and the session key', () => {
  let client: FakeKubeClient;
  let warnings: { msg: string; holder?: string; holderKeyId?: string; keyId?: string }[];
  const log = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(JSON.parse(line)) });

  function replica(identity: string, keyId: string, mismatches: boolean[] = []) {
    const o: LeaderOptions = {
      namespace: 'vdi-system',
      name: 'vdi-operator',
      identity,
      leaseSeconds: 15,
      renewSeconds: 10,
      retrySeconds: 3,
      keyId,
      keyMismatch: (m) => mismatches.push(m),
    };
    return new LeaderElector(asClient(client), o, log);
  }
  const keyOnLease = async () =>
    (await client.get<{ metadata: { annotations?: Record<string, string> } }>(LEASE))?.metadata.annotations?.[
      ANNOTATION_LEASE_KEY_ID
    ];

  beforeEach(() => {
    client = new FakeKubeClient();
    warnings = [];
  });

  it('the holder writes its key fingerprint on the Lease, and a replica with the same key says nothing', async () => {
    const a = replica('op-a', 'key-1');
    expect(await a.tryAcquireOrRenew()).toBe(true);
    expect(await keyOnLease()).toBe('key-1');
    expect(await a.tryAcquireOrRenew()).toBe(true); // a renewal keeps it
    expect(await keyOnLease()).toBe('key-1');

    const seen: boolean[] = [];
    const b = replica('op-b', 'key-1', seen);
    expect(await b.tryAcquireOrRenew()).toBe(false);
    expect(seen).toEqual([false]);
    expect(warnings).toEqual([]);
  });

  it('a standby with another key warns once while that holder leads, and again for another holder', async () => {
    const a = replica('op-a', 'key-1');
    await a.tryAcquireOrRenew();
    const seen: boolean[] = [];
    const b = replica('op-b', 'key-2', seen);
    for (let i = 0; i < 3; i++) expect(await b.tryAcquireOrRenew()).toBe(false);
    expect(seen).toEqual([true, true, true]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ holder: 'op-a', holderKeyId: 'key-1', keyId: 'key-2' });
    expect(warnings[0]!.msg).toContain('Give every operator replica the same VDI_SESSION_KEY');
    // The fingerprint only: nothing of the key itself is on the Lease or in the log.
    expect(JSON.stringify(await client.get(LEASE))).not.toContain('key-2');

    // The holder leaves; the standby takes over, says so, and its own fingerprint is on the Lease.
    a.run(
      () => undefined,
      () => undefined,
    );
    await a.stop();
    expect(await b.tryAcquireOrRenew()).toBe(true);
    expect(warnings).toHaveLength(2);
    expect(warnings[1]).toMatchObject({ holder: '(released)', holderKeyId: 'key-1' });
    expect(await keyOnLease()).toBe('key-2');
    // Leading itself, it no longer compares with its own writes, and reports no mismatch.
    expect(await b.tryAcquireOrRenew()).toBe(true);
    expect(warnings).toHaveLength(2);
    expect(seen.at(-1)).toBe(false);
  });
});
