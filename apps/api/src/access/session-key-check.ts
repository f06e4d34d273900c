/**
 * Whether this API and the operator derive desktop passwords from the same VDI_SESSION_KEY.
 * Forward-auth hands each desktop the password the API derives; with another key than the
 * operator's, no desktop opens (Selkies refuses every connection) and nothing else says why.
 *
 * The operator's leader writes its key's fingerprint on its Lease (never the key). This compares
 * it with the API's own, at start and every minute: an error naming the fix while they differ,
 * `vdi_api_session_key_mismatch` 1, and a line when they agree again. No fingerprint (no operator
 * yet, or one from before fingerprints) is not a verdict; a Lease the API may not read is said once.
 */
import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { KubeJsonClient } from '@vdi/kube-client';
import { ANNOTATION_LEASE_KEY_ID, poolKeyId } from '@vdi/session-spec';
import { API_CONFIG, type ApiConfig } from '../config.js';
import { KUBE_CLIENT } from '../kube/tokens.js';
import { ApiMetrics } from '../metrics/metrics.js';

const CHECK_MS = 60_000;

export type KeyVerdict = 'same' | 'different' | 'unknown';

@Injectable()
export class SessionKeyCheck implements OnModuleInit, OnModuleDestroy {
  private readonly log = new Logger('SessionKeyCheck');
  private timer: NodeJS.Timeout | undefined;
  /** What was said last (a verdict or a read failure), so each is said once, not every minute. */
  private said = '';

  constructor(
    @Inject(KUBE_CLIENT) private readonly kube: Pick<KubeJsonClient, 'get'>,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
    private readonly metrics: ApiMetrics,
  ) {}

  onModuleInit(): void {
    void this.check();
    this.timer = setInterval(() => void this.check(), CHECK_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** One comparison with the operator's Lease. */
  async check(): Promise<KeyVerdict> {
    const { namespace, name } = this.config.access.operatorLease;
    const lease = `${namespace}/${name}`;
    let theirs: string | undefined;
    try {
      const l = await this.kube.get<{ metadata?: { annotations?: Record<string, string> } }>({
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name, namespace },
      });
      theirs = l?.metadata?.annotations?.[ANNOTATION_LEASE_KEY_ID];
    } catch (err) {
      this.once('unreadable', () =>
        this.log.warn({
          msg: `cannot read the operator's Lease ${lease} to compare session keys (grant the API get on it, or set VDI_OPERATOR_LEASE)`,
          error: (err as Error).message,
        }),
      );
      return 'unknown';
    }
    if (!theirs) {
      this.metrics.sessionKeyMismatch.set(0);
      return 'unknown';
    }
    const ours = poolKeyId(this.config.access.sessionKey);
    const same = theirs === ours;
    this.metrics.sessionKeyMismatch.set(same ? 0 : 1);
    if (!same)
      this.once(`different/${theirs}`, () =>
        this.log.error({
          msg:
            `the operator (Lease ${lease}) derives desktop passwords from another VDI_SESSION_KEY than this API: ` +
            'no desktop opens through the portal. Give the API and the operator the same key (the same Secret)',
          operatorKeyId: theirs,
          apiKeyId: ours,
        }),
      );
    else if (this.said.startsWith('different/'))
      this.once('same', () =>
        this.log.log({ msg: 'the operator and this API now use the same VDI_SESSION_KEY' }),
      );
    else this.said = 'same';
    return same ? 'same' : 'different';
  }

  private once(what: string, say: () => void): void {
    if (this.said === what) return;
    this.said = what;
    say();
  }
}
