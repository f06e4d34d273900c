import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { KubeApiError } from '@vdi/kube-client';
import { ANNOTATION_LEASE_KEY_ID, poolKeyId } from '@vdi/session-spec';
import type { ApiConfig } from '../config.js';
import { ApiMetrics } from '../metrics/metrics.js';
import { SessionKeyCheck } from './session-key-check.js';

const KEY = 'k'.repeat(64);
const config = {
  access: { sessionKey: KEY, operatorLease: { namespace: 'vdi-system', name: 'vdi-operator' } },
} as ApiConfig;

describe('SessionKeyCheck', () => {
  let lease: { metadata: { annotations?: Record<string, string> } } | undefined | Error;
  let asked: unknown[];
  let said: { level: string; msg: string }[];
  const kube = {
    get: async <T>(obj: unknown): Promise<T | undefined> => {
      asked.push(obj);
      if (lease instanceof Error) throw lease;
      return lease as T | undefined;
    },
  };
  const holding = (keyId: string) => ({ metadata: { annotations: { [ANNOTATION_LEASE_KEY_ID]: keyId } } });

  beforeEach(() => {
    asked = [];
    said = [];
    for (const level of ['log', 'warn', 'error'] as const)
      jest
        .spyOn(Logger.prototype, level)
        .mockImplementation((m: unknown) => void said.push({ level, msg: (m as { msg: string }).msg }));
  });
  afterEach(() => jest.restoreAllMocks());

  const gauge = async (m: ApiMetrics) => (await m.sessionKeyMismatch.get()).values[0]?.value;

  it('agrees when the Lease carries the fingerprint of the same key, and says nothing', async () => {
    const m = new ApiMetrics();
    lease = holding(poolKeyId(KEY));
    expect(await new SessionKeyCheck(kube, config, m).check()).toBe('same');
    expect(asked).toEqual([
      {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: 'vdi-operator', namespace: 'vdi-system' },
      },
    ]);
    expect(await gauge(m)).toBe(0);
    expect(said).toEqual([]);
  });

  it('another key: one error naming the fix while it lasts, the gauge at 1, and a line once they agree', async () => {
    const m = new ApiMetrics();
    const check = new SessionKeyCheck(kube, config, m);
    lease = holding(poolKeyId('o'.repeat(64)));
    for (let i = 0; i < 3; i++) expect(await check.check()).toBe('different');
    expect(await gauge(m)).toBe(1);
    expect(said).toHaveLength(1);
    expect(said[0]!.level).toBe('error');
    expect(said[0]!.msg).toContain('Give the API and the operator the same key');
    // Neither key is in what is said: only their fingerprints are compared.
    expect(JSON.stringify(said)).not.toContain(KEY);

    lease = holding(poolKeyId(KEY));
    expect(await check.check()).toBe('same');
    expect(await gauge(m)).toBe(0);
    expect(said.map((s) => s.level)).toEqual(['error', 'log']);
  });

  it('no verdict without a fingerprint; a Lease it may not read is said once', async () => {
    const m = new ApiMetrics();
    const check = new SessionKeyCheck(kube, config, m);
    lease = undefined; // no operator yet
    expect(await check.check()).toBe('unknown');
    lease = { metadata: {} }; // an operator from before fingerprints
    expect(await check.check()).toBe('unknown');
    expect(said).toEqual([]);
    lease = new KubeApiError(403, 'Forbidden', 'leases "vdi-operator" is forbidden', {});
    expect(await check.check()).toBe('unknown');
    expect(await check.check()).toBe('unknown');
    expect(said).toHaveLength(1);
    expect(said[0]).toMatchObject({ level: 'warn' });
    expect(said[0]!.msg).toContain('VDI_OPERATOR_LEASE');
    expect(await gauge(m)).toBe(0);
  });
});
