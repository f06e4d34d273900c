/**
 * Lease-based leader election (coordination.k8s.io/v1), as client-go's leaderelection does it:
 * a replica works only while it holds the Lease, renews it every `renewSeconds`, and takes it
 * over when the holder has not renewed for `leaseSeconds`. Updates carry the resourceVersion they
 * read, so two replicas can never both believe they won. A holder that cannot renew in time
 * gives up (onLost) rather than risk two writers; on shutdown it releases the Lease at once so a
 * standby takes over without waiting.
 *
 * The holder also writes its session key's fingerprint on the Lease (never the key). Replicas with
 * different keys would each derive other desktop passwords, so after a change of leader the
 * desktops already running would no longer open: a replica that finds the Lease held, or taken
 * over, with another fingerprint says so (a warning, and `keyMismatch`).
 */
import { KubeApiError, type KubeJsonClient } from '@vdi/kube-client';
import { ANNOTATION_LEASE_KEY_ID } from '@vdi/session-spec';
import type { Logger } from 'pino';

interface Lease {
  apiVersion: 'coordination.k8s.io/v1';
  kind: 'Lease';
  metadata: {
    name: string;
    namespace: string;
    resourceVersion?: string;
    annotations?: Record<string, string>;
  };
  spec: {
    holderIdentity?: string | null;
    leaseDurationSeconds?: number;
    acquireTime?: string | null;
    renewTime?: string | null;
    leaseTransitions?: number;
  };
}

export interface LeaderOptions {
  namespace: string;
  name: string;
  identity: string;
  leaseSeconds: number;
  renewSeconds: number;
  retrySeconds: number;
  /** The fingerprint of this replica's session key (poolKeyId), written on the Lease it holds. */
  keyId?: string;
  /** Called after each look at the Lease: whether its holder's key fingerprint differs from ours. */
  keyMismatch?(mismatch: boolean): void;
}

const microTime = (d: Date) => d.toISOString().replace('Z', '000Z');

export class LeaderElector {
  private leading = false;
  private stopped = false;
  private timer?: NodeJS.Timeout;
  private lastRenew = 0;
  /** The holder + fingerprint last warned about (a warning once per other key, not every round). */
  private warnedKey?: string;

  constructor(
    private readonly client: KubeJsonClient,
    private readonly o: LeaderOptions,
    private readonly log: Logger,
  ) {}

  get isLeader(): boolean {
    return this.leading;
  }

  private ref() {
    return {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: this.o.name, namespace: this.o.namespace },
    };
  }

  /** One attempt to acquire or renew; true when this replica holds the Lease afterwards. */
  async tryAcquireOrRenew(now = new Date()): Promise<boolean> {
    const current = await this.client.get<Lease>(this.ref());
    if (current) this.checkKey(current);
    const annotations = this.o.keyId ? { [ANNOTATION_LEASE_KEY_ID]: this.o.keyId } : undefined;
    const desired: Lease['spec'] = {
      holderIdentity: this.o.identity,
      leaseDurationSeconds: this.o.leaseSeconds,
      renewTime: microTime(now),
    };
    if (!current) {
      const created = await this.client
        .call('POST', `/apis/coordination.k8s.io/v1/namespaces/${this.o.namespace}/leases`, {
          ...this.ref(),
          metadata: { ...this.ref().metadata, ...(annotations ? { annotations } : {}) },
          spec: { ...desired, acquireTime: microTime(now), leaseTransitions: 0 },
        })
        .then(() => true)
        .catch((err: unknown) => {
          if (err instanceof KubeApiError && err.conflict) return false;
          throw err;
        });
      return created;
    }
    const spec = current.spec ?? {};
    const held = spec.holderIdentity && spec.holderIdentity !== this.o.identity;
    const renewedAt = spec.renewTime ? new Date(spec.renewTime).getTime() : 0;
    const expired = now.getTime() > renewedAt + (spec.leaseDurationSeconds ?? this.o.leaseSeconds) * 1000;
    if (held && !expired) return false;
    const next: Lease = {
      ...current,
      metadata: {
        ...current.metadata,
        ...(annotations ? { annotations: { ...current.metadata.annotations, ...annotations } } : {}),
      },
      spec: {
        ...spec,
        ...desired,
        ...(spec.holderIdentity !== this.o.identity
          ? { acquireTime: microTime(now), leaseTransitions: (spec.leaseTransitions ?? 0) + 1 }
          : {}),
      },
    };
    try {
      // PUT with the resourceVersion we read: if anyone wrote in between, we lose this round.
      await this.client.call(
        'PUT',
        `/apis/coordination.k8s.io/v1/namespaces/${this.o.namespace}/leases/${this.o.name}`,
        next,
      );
      return true;
    } catch (err) {
      if (err instanceof KubeApiError && err.conflict) return false;
      throw err;
    }
  }

  /**
   * Warns when the Lease was last written by another replica with another session key: while it
   * leads, or until this replica has taken over, the two derive different desktop passwords.
   */
  private checkKey(lease: Lease): void {
    if (!this.o.keyId) return;
    const theirs = lease.metadata.annotations?.[ANNOTATION_LEASE_KEY_ID];
    const holder = lease.spec?.holderIdentity;
    // Our own Lease (we lead), or one without a fingerprint, is no mismatch.
    const mismatch = !!theirs && holder !== this.o.identity && theirs !== this.o.keyId;
    this.o.keyMismatch?.(mismatch);
    if (!mismatch || this.warnedKey === `${holder}/${theirs}`) return;
    this.warnedKey = `${holder}/${theirs}`;
    this.log.warn(
      {
        lease: `${this.o.namespace}/${this.o.name}`,
        holder: holder ?? '(released)',
        holderKeyId: theirs,
        keyId: this.o.keyId,
      },
      `the operator lease was written by ${holder ? `replica ${holder}` : 'a replica'} with another session key: ` +
        'desktops started by one replica do not open with the passwords the other derives, and warm pool pods ' +
        'are replaced whenever the leader changes. Give every operator replica the same VDI_SESSION_KEY',
    );
  }

  /** Runs the election until stop(): onStarted when leadership is won, onLost when it is lost. */
  run(onStarted: () => void, onLost: () => void): void {
    this.callbacks = { onStarted, onLost };
    void this.tick();
  }

  private callbacks?: { onStarted: () => void; onLost: () => void };
  /** The round in progress, so stop() can wait for it instead of racing it. */
  private inflight?: Promise<void>;

  private tick(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.inflight = this.round();
    return this.inflight;
  }

  private async round(): Promise<void> {
    const { onStarted, onLost } = this.callbacks!;
    try {
      const ok = await this.tryAcquireOrRenew();
      if (ok) this.lastRenew = Date.now();
      if (ok && !this.leading) {
        this.leading = true;
        this.log.info(
          { lease: `${this.o.namespace}/${this.o.name}`, identity: this.o.identity },
          'became leader',
        );
        onStarted();
      }
    } catch (err) {
      this.log.warn({ err: String(err) }, 'leader election round failed');
    }
    if (
      this.leading &&
      Date.now() - this.lastRenew > this.o.renewSeconds * 1000 + this.o.retrySeconds * 1000
    ) {
      this.leading = false;
      this.log.error({ identity: this.o.identity }, 'lost the lease; stopping work');
      onLost();
      return;
    }
    if (!this.stopped) {
      const delay = (this.leading ? this.o.renewSeconds / 2 : this.o.retrySeconds) * 1000;
      this.timer = setTimeout(() => void this.tick(), delay);
    }
  }

  /** Stops campaigning and, when leading, releases the Lease so a standby takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    // A renewal in flight would race the release (and win with a conflict): let it finish.
    await this.inflight;
    if (!this.leading) return;
    this.leading = false;
    for (let attempt = 1; attempt <= 3; attempt++) {
      if (await this.release(attempt === 3)) return;
    }
  }

  /** One attempt to hand the Lease back; false after a conflict (someone wrote it meanwhile). */
  private async release(last: boolean): Promise<boolean> {
    try {
      const current = await this.client.get<Lease>(this.ref());
      if (current?.spec?.holderIdentity === this.o.identity) {
        await this.client.call(
          'PUT',
          `/apis/coordination.k8s.io/v1/namespaces/${this.o.namespace}/leases/${this.o.name}`,
          {
            ...current,
            spec: {
              ...current.spec,
              holderIdentity: null,
              leaseDurationSeconds: 1,
              renewTime: microTime(new Date()),
            },
          },
        );
        this.log.info({ identity: this.o.identity }, 'released the lease');
      }
      return true;
    } catch (err) {
      if (err instanceof KubeApiError && err.conflict && !last) return false;
      this.log.warn({ err: String(err) }, 'could not release the lease (it expires by itself)');
      return true;
    }
  }
}
