/**
 * Collects the marks of desktop launches (src/launch-timeline.ts) from where each is first seen,
 * on this process's clock: watches of the sessions and desktop pods of the namespace, a poll of
 * the desktop's /api/health at the pod's address (from this machine, as the kubelet probes it),
 * the portal's page (the live subscription's Running event, openSession, the navigation, the
 * stream's websocket), and afterwards containerd's and the kubelet's logs and the desktop's own
 * log. Watch stamps lag the API server by the watch's delivery (milliseconds here).
 */
import { existsSync, openSync, readSync, closeSync, statSync } from 'node:fs';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import type { VDISession } from '@vdi/crd-types';
import { realNodeOptions } from '@vdi/controlplane';
import { InformerSet, sessionInformer } from '@vdi/kube-client';
import { DESKTOP_PORT, LABEL_SESSION } from '@vdi/session-spec';
import type { Page, WebSocket } from 'playwright-core';
import { containerdMarks, kubeletProbeReady, podLogMarks, type LaunchMarkId } from './launch-timeline.js';

/** Epoch-ms marks of one session, as seen by the watches and the health poll. */
type Seen = Partial<Record<LaunchMarkId, number>> & { podIp?: string; podUid?: string; podName?: string };

/** The node's component logs (tools/node keeps them in `<cluster state>/node/logs`). */
function nodeLogs(): { containerd: string; kubelet: string } {
  const dir = path.join(realNodeOptions().stateDir, 'node', 'logs');
  return { containerd: path.join(dir, 'containerd.log'), kubelet: path.join(dir, 'kubelet.log') };
}

const fileSize = (f: string) => (existsSync(f) ? statSync(f).size : 0);

/** What a log file got after `offset`. */
function readFrom(file: string, offset: number): string {
  if (!existsSync(file)) return '';
  const size = statSync(file).size;
  if (size <= offset) return '';
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(size - offset);
    readSync(fd, buf, 0, buf.length, offset);
    return buf.toString('utf8');
  } finally {
    closeSync(fd);
  }
}

export class LaunchRecorder {
  private readonly seen = new Map<string, Seen>();
  private readonly polls = new Map<string, AbortController>();
  private readonly set: InformerSet;
  private readonly core: k8s.CoreV1Api;

  constructor(
    kc: k8s.KubeConfig,
    private readonly namespace: string,
  ) {
    this.core = kc.makeApiClient(k8s.CoreV1Api);
    this.set = new InformerSet((msg, fields) =>
      process.stderr.write(`[launch-recorder] ${msg} ${JSON.stringify(fields)}\n`),
    );
    const pods = k8s.makeInformer<k8s.V1Pod>(
      kc,
      `/api/v1/namespaces/${namespace}/pods`,
      () => this.core.listNamespacedPod({ namespace, labelSelector: LABEL_SESSION }),
      LABEL_SESSION,
    );
    const onPod = (pod: k8s.V1Pod) => {
      const session = pod.metadata?.labels?.[LABEL_SESSION];
      if (!session) return;
      const s = this.of(session);
      const now = Date.now();
      s.podSeen ??= now;
      s.podUid ??= pod.metadata?.uid;
      // A pooled desktop's pod has the pool's name for it, not the session's.
      s.podName ??= pod.metadata?.name;
      if (pod.spec?.nodeName) s.podBound ??= now;
      if (pod.status?.podIP && !s.podIp) {
        s.podIp = pod.status.podIP;
        this.pollHealth(session, s.podIp);
      }
      if ((pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'))
        s.podReady ??= now;
    };
    pods.on('add', onPod);
    pods.on('update', onPod);
    this.set.add('pods', pods);
    const sessions = sessionInformer(kc, namespace);
    const onSession = (x: VDISession) => {
      const s = this.of(x.metadata.name!);
      const now = Date.now();
      s.sessionSeen ??= now;
      if (x.status?.phase === 'Running' && x.status.url) s.sessionRunning ??= now;
    };
    sessions.on('add', onSession);
    sessions.on('update', onSession);
    this.set.add('sessions', sessions);
  }

  private of(session: string): Seen {
    let s = this.seen.get(session);
    if (!s) this.seen.set(session, (s = {}));
    return s;
  }

  /** Polls the desktop's health at the pod's address until it first answers 200. */
  private pollHealth(session: string, ip: string): void {
    const ctl = new AbortController();
    this.polls.set(session, ctl);
    void (async () => {
      while (!ctl.signal.aborted) {
        const ok = await fetch(`http://${ip}:${DESKTOP_PORT}/api/health`, {
          signal: AbortSignal.any([ctl.signal, AbortSignal.timeout(1_000)]),
        })
          .then((r) => r.status === 200)
          .catch(() => false);
        if (ok) {
          this.of(session).healthy ??= Date.now();
          return;
        }
        await new Promise((r) => setTimeout(r, 25));
      }
    })();
  }

  start(): Promise<void> {
    return this.set.start();
  }

  async stop(): Promise<void> {
    for (const c of this.polls.values()) c.abort();
    await this.set.stop();
  }

  /** Where the node's logs stand now (read from there after the launch). */
  logOffsets(): { containerd: number; kubelet: number } {
    const l = nodeLogs();
    return { containerd: fileSize(l.containerd), kubelet: fileSize(l.kubelet) };
  }

  /**
   * Everything known about `session` after its first frame, as epoch ms: the watches' and the
   * health poll's stamps, containerd's and the kubelet's (their logs since `offsets`) and the
   * desktop's own start-up lines.
   */
  async marksOf(
    session: string,
    offsets: { containerd: number; kubelet: number },
  ): Promise<{ marks: Partial<Record<LaunchMarkId, number>>; podUid?: string; notes: string[] }> {
    const s = this.of(session);
    const notes: string[] = [];
    const { podIp: _ip, podUid, podName = session, ...marks } = s;
    if (!podUid) return { marks, notes: ['the pod was never seen'] };
    const logs = nodeLogs();
    Object.assign(marks, containerdMarks(readFrom(logs.containerd, offsets.containerd), podUid, 'desktop'));
    // klog flushes its file every few seconds: the probe's line may not be there yet.
    let probe: number | undefined;
    for (const deadline = Date.now() + 10_000; ; await new Promise((r) => setTimeout(r, 250))) {
      probe = kubeletProbeReady(
        readFrom(logs.kubelet, offsets.kubelet),
        this.namespace,
        podName,
        new Date().getFullYear(),
      );
      if (probe !== undefined || Date.now() > deadline) break;
    }
    if (probe !== undefined) marks.probeReady = probe;
    else notes.push('no readiness line in the kubelet’s log');
    try {
      const log = await this.core.readNamespacedPodLog({
        name: podName,
        namespace: this.namespace,
        container: 'desktop',
        timestamps: true,
      });
      Object.assign(marks, podLogMarks(log));
    } catch (err) {
      notes.push(`the desktop’s log could not be read: ${(err as Error).message}`);
    }
    return { marks, podUid, notes };
  }
}

/** Marks the portal's page leaves during one launch (epoch ms), hooked before the click. */
export class PageMarks {
  readonly marks: Partial<Record<LaunchMarkId, number>> = {};
  private readonly off: (() => void)[] = [];

  constructor(private readonly page: Page) {
    const isDesktop = (u: string) => {
      const h = new URL(u).hostname;
      return h.endsWith('.vdi.localhost') && h !== 'vdi.localhost';
    };
    const onSocket = (ws: WebSocket) => {
      const url = ws.url();
      if (url.includes('/graphql')) {
        ws.on('framereceived', (f) => {
          if (typeof f.payload === 'string' && /"phase"\s*:\s*"Running"/.test(f.payload))
            this.marks.portalRunning ??= Date.now();
        });
      } else if (isDesktop(url) && /websockets/.test(url)) {
        this.marks.streamSocket ??= Date.now();
        ws.on('framereceived', () => {
          this.marks.streamData ??= Date.now();
        });
      }
    };
    const onRequest = (r: import('playwright-core').Request) => {
      if (r.method() === 'POST' && /\bopenSession\b/.test(r.postData() ?? ''))
        this.marks.openRequest ??= Date.now();
      if (r.isNavigationRequest() && r.frame() === page.mainFrame() && isDesktop(r.url()))
        this.marks.navigation ??= Date.now();
    };
    const onLoaded = () => {
      if (isDesktop(page.url()) && !new URL(page.url()).search) this.marks.desktopPage ??= Date.now();
    };
    page.on('websocket', onSocket);
    page.on('request', onRequest);
    page.on('domcontentloaded', onLoaded);
    this.off.push(
      () => page.off('websocket', onSocket),
      () => page.off('request', onRequest),
      () => page.off('domcontentloaded', onLoaded),
    );
  }

  dispose(): void {
    for (const f of this.off.splice(0)) f();
  }
}
