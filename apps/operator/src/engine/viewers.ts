/**
 * Who watches each desktop, for idle culling: the operator asks every running desktop whose
 * session has an idle timeout which pages stream it — Selkies' `GET /api/sessions`, with the
 * session's own Basic credentials, straight to the pod — and keeps the last answer per session.
 * A change (someone connected, or the last one left) wakes the session's reconcile, which writes
 * it to the status (viewers, idleSince) and culls a desktop idle for its whole timeout.
 *
 * Only the leader asks (its reconciles write the status). A desktop that does not answer (still
 * starting, a stand-in, a network problem) gives no answer: its status keeps what it said, and a
 * desktop is never culled on a guess — the reconcile asks once more right before it acts.
 */
import type { VDISession } from '@vdi/crd-types';
import {
  DesktopAnswerError,
  desktopAuthorizationOf,
  desktopPodName,
  desktopBaseUrl,
  desktopConnections,
} from '@vdi/session-spec';
import type { Logger } from 'pino';
import type { Caches } from './caches.js';
import { Periodic } from './periodic.js';

export interface ViewerLook {
  /** Pages connected to the desktop's stream. */
  count: number;
  at: Date;
}

export interface ViewerWatchDeps {
  caches: Caches;
  sessionKey: string;
  /** Seconds between looks at each watched desktop. */
  intervalSeconds: number;
  /** Desktops asked at once. */
  concurrency?: number;
  /** How long one desktop may take to answer. */
  timeoutMs?: number;
  /** Wakes a session's reconcile (the leader's queue). */
  enqueue(key: string): void;
  log: Logger;
  /** Counts each look by outcome (ok, unreachable, refused). */
  count?(outcome: 'ok' | 'unreachable' | 'refused'): void;
}

export class ViewerWatch {
  private readonly looks = new Map<string, ViewerLook>();
  /** Sessions with an idle timeout (from their last reconcile): the only ones asked. */
  private readonly watched = new Set<string>();
  private readonly periodic: Periodic;

  constructor(private readonly d: ViewerWatchDeps) {
    this.periodic = new Periodic(d.intervalSeconds, () => this.lookAll());
  }

  /** Watch (or stop watching) one session's viewers; called by its reconcile. */
  track(key: string, on: boolean): void {
    if (on) this.watched.add(key);
    else {
      this.watched.delete(key);
      this.looks.delete(key);
    }
  }

  /** The last answer of a session's desktop, if it gave one. */
  last(key: string): ViewerLook | undefined {
    return this.looks.get(key);
  }

  /** Asks a session's desktop now; undefined when it does not answer. */
  async lookNow(session: VDISession): Promise<ViewerLook | undefined> {
    const key = `${session.metadata.namespace}/${session.metadata.name}`;
    // A claimed warm pod is named in the status and opens with its own password (pool.ts).
    const pod = this.d.caches.pods.get(desktopPodName(session), session.metadata.namespace);
    const base = desktopBaseUrl(pod);
    if (!base) return undefined;
    try {
      const connections = await desktopConnections(
        base,
        desktopAuthorizationOf(this.d.sessionKey, session),
        this.d.timeoutMs,
      );
      this.d.count?.('ok');
      const look = { count: connections.length, at: new Date() };
      this.looks.set(key, look);
      return look;
    } catch (err) {
      const refused = err instanceof DesktopAnswerError;
      this.d.count?.(refused ? 'refused' : 'unreachable');
      this.d.log.debug(
        { key, err: (err as Error).message },
        refused ? 'desktop refused the viewer look' : 'desktop did not answer the viewer look',
      );
      return undefined;
    }
  }

  /** Looks at every watched running desktop every intervalSeconds (the leader only). */
  start(): void {
    this.periodic.start();
  }

  stop(): void {
    this.periodic.stop();
  }

  /** One round: each watched running desktop once, a few at a time; a changed answer wakes its reconcile. */
  round(): Promise<void> {
    return this.periodic.now();
  }

  private async lookAll(): Promise<void> {
    const due = [...this.watched]
      .map((key) => {
        const [namespace, name] = key.split('/') as [string, string];
        return this.d.caches.sessions.get(name, namespace);
      })
      .filter((s): s is VDISession => s?.status?.phase === 'Running' && !s.metadata.deletionTimestamp);
    const width = Math.max(1, this.d.concurrency ?? 8);
    for (let i = 0; i < due.length; i += width) {
      await Promise.all(
        due.slice(i, i + width).map(async (s) => {
          const look = await this.lookNow(s);
          if (!look) return;
          const st = s.status;
          if (st?.viewers !== look.count || (look.count === 0 && !st.idleSince))
            this.d.enqueue(`${s.metadata.namespace}/${s.metadata.name}`);
        }),
      );
    }
  }
}
