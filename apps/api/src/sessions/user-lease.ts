/**
 * A per-owner lock shared by every API replica: a coordination.k8s.io Lease named after the
 * owner (issuer + subject, never the e-mail), in the sessions namespace. The API server is the only state the replicas share, and its
 * create (409 when the Lease exists) and resourceVersion-checked update/delete are the atomic
 * steps: whoever creates the Lease holds it; a Lease older than its duration (a replica that
 * died holding it) may be taken over with an update that fails if anyone else got there first.
 *
 * Within one process the same user's calls are queued first (UserLocks), so a replica never
 * races itself for the Lease.
 */
import { randomBytes } from 'node:crypto';
import { KubeApiError, type KubeJsonClient } from '@vdi/kube-client';
import { ownerHash, ownerKey, type SessionOwner } from '@vdi/session-spec';
import { UserLocks } from './quota.js';

export interface LeaseObject {
  apiVersion: 'coordination.k8s.io/v1';
  kind: 'Lease';
  metadata: {
    name: string;
    namespace: string;
    resourceVersion?: string;
    uid?: string;
    labels?: Record<string, string>;
  };
  spec: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
  };
}

export class LockBusyError extends Error {
  override name = 'LockBusyError';
}

export interface UserLeaseOptions {
  namespace: string;
  /** Who holds the Lease (pod name + random), for people reading it with kubectl. */
  identity?: string;
  /** A holder that died is assumed gone after this long. */
  leaseDurationSeconds?: number;
  /** Give up waiting for another replica after this long. */
  waitMs?: number;
}

/** The Lease name of an owner: stable, a DNS label, reveals nothing about the owner. */
export const userLeaseName = (owner: SessionOwner) => `vdi-quota-${ownerHash(owner)}`;

/** Kubernetes MicroTime (RFC 3339 with microseconds). */
const microTime = (ms: number) => new Date(ms).toISOString().replace(/Z$/, '000Z');

/** True when a Lease's holder has not renewed it within its duration. */
export function leaseExpired(lease: LeaseObject, now: number): boolean {
  const renewed = Date.parse(lease.spec.renewTime ?? lease.spec.acquireTime ?? '');
  if (Number.isNaN(renewed)) return true;
  return renewed + (lease.spec.leaseDurationSeconds ?? 0) * 1000 < now;
}

export class UserLease {
  private readonly local = new UserLocks();
  private readonly identity: string;
  private readonly duration: number;
  private readonly waitMs: number;

  constructor(
    private readonly kube: KubeJsonClient,
    private readonly opts: UserLeaseOptions,
  ) {
    this.identity = `${opts.identity ?? 'vdi-api'}-${randomBytes(4).toString('hex')}`;
    this.duration = opts.leaseDurationSeconds ?? 15;
    this.waitMs = opts.waitMs ?? 10_000;
  }

  /** Runs `fn` while holding the owner's Lease (no other replica runs one for this owner meanwhile). */
  run<T>(owner: SessionOwner, fn: () => Promise<T>): Promise<T> {
    return this.local.run(ownerKey(owner), async () => {
      const held = await this.acquire(owner);
      try {
        return await fn();
      } finally {
        await this.release(held).catch(() => undefined); // expires by itself if this fails
      }
    });
  }

  private collection() {
    return `/apis/coordination.k8s.io/v1/namespaces/${this.opts.namespace}/leases`;
  }

  private async acquire(owner: SessionOwner): Promise<LeaseObject> {
    const name = userLeaseName(owner);
    const deadline = Date.now() + this.waitMs;
    for (let attempt = 0; ; attempt++) {
      const now = Date.now();
      const body: LeaseObject = {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: {
          name,
          namespace: this.opts.namespace,
          labels: {
            'app.kubernetes.io/part-of': 'vdi-platform',
            'app.kubernetes.io/component': 'quota-lock',
          },
        },
        spec: {
          holderIdentity: this.identity,
          leaseDurationSeconds: this.duration,
          acquireTime: microTime(now),
          renewTime: microTime(now),
        },
      };
      try {
        return await this.kube.call<LeaseObject>('POST', this.collection(), body);
      } catch (err) {
        if (!(err instanceof KubeApiError) || err.status !== 409) throw err;
      }
      // Someone holds it: take it over only if the holder stopped renewing (died mid-create).
      const current = await this.kube
        .call<LeaseObject>('GET', `${this.collection()}/${name}`)
        .catch((err: unknown) => {
          if (err instanceof KubeApiError && err.status === 404) return undefined;
          throw err;
        });
      if (current && leaseExpired(current, now)) {
        try {
          return await this.kube.call<LeaseObject>('PUT', `${this.collection()}/${name}`, {
            ...body,
            metadata: { ...body.metadata, resourceVersion: current.metadata.resourceVersion },
          });
        } catch (err) {
          if (!(err instanceof KubeApiError) || (err.status !== 409 && err.status !== 404)) throw err;
        }
      }
      if (Date.now() > deadline) {
        throw new LockBusyError(
          `another request of this user has been creating a session for ${this.waitMs / 1000}s`,
        );
      }
      // Creates take tens of milliseconds; back off a little more each time, with jitter.
      await new Promise((r) => setTimeout(r, Math.min(200, 5 + attempt * 10) * (0.5 + Math.random())));
    }
  }

  private async release(lease: LeaseObject): Promise<void> {
    // Only our own version: if it was taken over (we were too slow), the new holder keeps it.
    await this.kube.call('DELETE', `${this.collection()}/${lease.metadata.name}`, {
      apiVersion: 'v1',
      kind: 'DeleteOptions',
      preconditions: { uid: lease.metadata.uid, resourceVersion: lease.metadata.resourceVersion },
    });
  }
}
