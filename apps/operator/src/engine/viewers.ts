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
import type { V1Pod } from '@kubernetes/client-node';
import type { VDISession } from '@vdi/crd-types';
import { childNames, desktopAuthorization } from '@vdi/session-spec';
import type { Logger } from 'pino';
import type { Caches } from './caches.js';

export interface ViewerLook {
  /** Pages connected to the desktop's stream. */
  count: number;
  at: Date;
}

export interface ViewerWatchDeps {
  caches: Caches;
  namespace: string;
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

/** The desktop's Selkies address, from its pod: pod IP and the container port named http. */
function desktopAddress(pod: V1Pod | undefined): string | undefined {
  const ip = pod?.status?.podIP;
  if (!ip || pod?.metadata?.deletionTimestamp) return undefined;
  const port =
    pod.spec?.containers?.flatMap((c) => c.ports ?? []).find((p) => p.name === 'http')?.containerPort ?? 8080;
  return `http://${ip.includes(':') ? `[${ip}]` : ip}:${port}`;
}

export class ViewerWatch {
  private readonly looks = new Map<string, ViewerLook>();
  /** Sessions with an idle timeout (from their last reconcile): the only ones asked. */
  private readonly watched = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(private readonly d: ViewerWatchDeps) {}

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
    const pod = this.d.caches.pods.get(childNames(session.metadata.name!).pod, session.metadata.namespace);
    const base = desktopAddress(pod);
    if (!base) return undefined;
    try {
      const res = await fetch(`${base}/api/sessions`, {
        headers: { authorization: desktopAuthorization(this.d.sessionKey, session.metadata.uid!) },
        signal: AbortSignal.timeout(this.d.timeoutMs ?? 3000),
      });
      if (!res.ok) {
        this.d.count?.('refused');
        this.d.log.debug({ key, status: res.status }, 'desktop refused the viewer look');
        return undefined;
      }
      const body = (await res.json()) as { sessions?: unknown };
      if (!Array.isArray(body.sessions)) {
        this.d.count?.('refused');
        return undefined;
      }
      this.d.count?.('ok');
      const look = { count: body.sessions.length, at: new Date() };
      this.looks.set(key, look);
      return look;
    } catch (err) {
      this.d.count?.('unreachable');
      this.d.log.debug({ key, err: (err as Error).message }, 'desktop did not answer the viewer look');
      return undefined;
    }
  }

  /** Looks at every watched running desktop every intervalSeconds (the leader only). */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.round(), this.d.intervalSeconds * 1000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One round: each watched running desktop once, a few at a time; a changed answer wakes its reconcile. */
  async round(): Promise<void> {
    if (this.running) return; // the previous round is still asking slow desktops
    this.running = true;
    try {
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
    } finally {
      this.running = false;
    }
  }
}
