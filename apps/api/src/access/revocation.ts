/**
 * Closes the open stream connections of desktops whose cookie holders are no longer live
 * (issue #15 item 4). Forward-auth refuses their next request (access.service.ts); this loop
 * ends what is already connected: every TICK_MS it checks the holders (holders.ts) of up to
 * MAX_PER_TICK running sessions, round robin, and for a holder that is not live asks the
 * desktop's Selkies for its connections (`GET /api/sessions`) and ends each
 * (`DELETE /api/sessions/<id>`), with the desktop's basic auth, straight to the pod's port 8080.
 * The automatic reconnect then meets forward-auth's refusal.
 *
 * Idempotent across replicas: each replica may run it; a second DELETE finds nothing, and the
 * holder is removed from the annotation with a JSON patch that tests the value it read.
 */
import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { API_VERSION, KIND_SESSION, type VDISession } from '@vdi/crd-types';
import { KubeApiError, type KubeJsonClient } from '@vdi/kube-client';
import {
  closeDesktopConnection,
  desktopAuthorizationOf,
  desktopBaseUrl,
  desktopPodName,
  desktopConnections,
  parseOwnerKey,
} from '@vdi/session-spec';
import { API_CONFIG, type ApiConfig } from '../config.js';
import { ApiCaches } from '../kube/caches.js';
import { KUBE_CLIENT } from '../kube/tokens.js';
import { sessionEvent } from '../common/session-event.js';
import { ANNOTATION_ACCESS_HOLDERS, decodeHolders, withoutHolders, type Holder } from './holders.js';
import { IdentityLiveness } from './liveness.js';

/** How often the loop runs: with the 15 s verdict cache, open connections close within ~20 s. */
export const TICK_MS = 5_000;
/** Sessions checked per tick, per replica: bounded work whatever the number of desktops. */
export const MAX_PER_TICK = 50;

@Injectable()
export class RevocationLoop implements OnModuleInit, OnModuleDestroy {
  private readonly log = new Logger('Revocation');
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  /** Where the previous tick stopped (round robin over sessions by name). */
  private cursor = '';

  constructor(
    private readonly caches: ApiCaches,
    private readonly liveness: IdentityLiveness,
    @Inject(KUBE_CLIENT) private readonly kube: KubeJsonClient,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
  ) {}

  onModuleInit(): void {
    if (!this.liveness.enabled) return;
    this.timer = setInterval(() => void this.tick(), TICK_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** One pass; a pass still running makes the next tick a no-op. */
  async tick(): Promise<void> {
    if (this.running || !this.caches.synced) return;
    this.running = true;
    try {
      const held = this.caches.sessions
        .list(this.config.sessionsNamespace)
        .filter((s) => !s.metadata.deletionTimestamp && s.metadata.annotations?.[ANNOTATION_ACCESS_HOLDERS])
        .sort((a, b) => a.metadata.name!.localeCompare(b.metadata.name!));
      const after = held.filter((s) => s.metadata.name! > this.cursor);
      const batch = [...after, ...held.filter((s) => s.metadata.name! <= this.cursor)].slice(0, MAX_PER_TICK);
      this.cursor = batch.length < held.length ? (batch.at(-1)?.metadata.name ?? '') : '';
      for (const s of batch) {
        await this.checkSession(s).catch((err: unknown) =>
          this.log.warn({
            msg: 'revocation check failed',
            session: s.metadata.name,
            error: (err as Error).message,
          }),
        );
      }
    } finally {
      this.running = false;
    }
  }

  private async checkSession(s: VDISession): Promise<void> {
    const name = s.metadata.name!;
    const value = s.metadata.annotations?.[ANNOTATION_ACCESS_HOLDERS];
    const gone: { holder: Holder; why: string }[] = [];
    for (const h of decodeHolders(value)) {
      const subject = parseOwnerKey(h.owner)?.subject;
      const v = subject
        ? await this.liveness.check(subject, h.idpSession)
        : ({ live: false, why: 'no owner' } as const);
      if (!v.live) gone.push({ holder: h, why: v.why });
    }
    if (!gone.length) return;
    const closed = await this.disconnect(s);
    for (const g of gone) {
      this.log.log({
        msg: 'desktop access revoked',
        session: name,
        user: g.holder.username,
        why: g.why,
        connectionsClosed: closed,
      });
    }
    await this.event(
      s,
      `access revoked for ${gone.map((g) => `${g.holder.username} (${g.why})`).join(', ')}; ${closed} stream connection(s) closed`,
    );
    await this.forget(
      s,
      value!,
      withoutHolders(
        value,
        gone.map((g) => g.holder),
      ),
    );
  }

  /** Ends every stream connection of the session's desktop; how many there were. */
  async disconnect(s: VDISession): Promise<number> {
    const base = desktopBaseUrl(this.caches.pods.get(desktopPodName(s), this.config.sessionsNamespace));
    if (!base) return 0;
    const authorization = desktopAuthorizationOf(this.config.access.sessionKey, s);
    let closed = 0;
    for (const c of await desktopConnections(base, authorization, 5_000))
      if (await closeDesktopConnection(base, authorization, c.id)) closed++;
    return closed;
  }

  /** An Event "AccessRevoked" on the session (kubectl describe shows it). */
  private async event(s: VDISession, message: string): Promise<void> {
    const ns = this.config.sessionsNamespace;
    await this.kube
      .call(
        'POST',
        `/api/v1/namespaces/${ns}/events`,
        sessionEvent({
          namespace: ns,
          name: `${s.metadata.name}.access-revoked.${Date.now().toString(36)}`,
          session: s.metadata.name!,
          sessionUid: s.metadata.uid,
          reason: 'AccessRevoked',
          message,
        }),
      )
      .catch((err: unknown) =>
        this.log.warn({ msg: 'event not recorded', session: s.metadata.name, error: (err as Error).message }),
      );
  }

  /** Removes the revoked holders, unless the annotation changed meanwhile (a new redemption). */
  private async forget(s: VDISession, was: string, now: string): Promise<void> {
    const path = `/metadata/annotations/${ANNOTATION_ACCESS_HOLDERS.replace(/~/g, '~0').replace(/\//g, '~1')}`;
    try {
      await this.kube.jsonPatch(
        {
          apiVersion: API_VERSION,
          kind: KIND_SESSION,
          metadata: { name: s.metadata.name, namespace: this.config.sessionsNamespace },
        },
        [
          { op: 'test', path: '/metadata/uid', value: s.metadata.uid },
          { op: 'test', path, value: was },
          now === '[]' ? { op: 'remove', path } : { op: 'replace', path, value: now },
        ],
      );
    } catch (err) {
      if (err instanceof KubeApiError && [404, 409, 422].includes(err.status)) return;
      throw err;
    }
  }
}
