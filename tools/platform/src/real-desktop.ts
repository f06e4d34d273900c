/**
 * Real desktops on this machine: when the local cluster's real node runs (tools/node, needs root),
 * the platform's desktop image (images/desktop) is built when missing, imported into the node, and
 * the CPU sample template is pointed at it — so `npm start` and the browser tests open real
 * Selkies desktops for CPU templates. GPU templates stay on the kwok GPU nodes (stand-ins).
 */
import type { V1Node } from '@kubernetes/client-node';
import type { VDITemplate } from '@vdi/crd-types';
import type { KubeJsonClient } from '@vdi/kube-client';
import { ensureDesktopImage } from '@vdi/desktop-image';
import { importImage, NODE_NAME, nodeStatus, NODE_TOLERATION, REAL_NODE_LABEL } from '@vdi/node';

/** The sample template that becomes real (deploy/kustomize/base/templates/ubuntu-xfce-cpu.yaml). */
export const REAL_DESKTOP_TEMPLATE = 'ubuntu-desktop-cpu';
/** Its WebRTC twin, added on this machine only: media through the local coturn. */
export const REAL_WEBRTC_TEMPLATE = 'ubuntu-desktop-cpu-webrtc';

/** What a desktop on the 2-core machine may ask for; the CPU encoder's headroom comes on top. */
export const REAL_DESKTOP_RESOURCES = { cpu: '500m', memory: '2Gi', encoderExtraCpu: '250m' } as const;

export interface RealDesktop {
  /** The image reference on the node (`vdi.local/desktop:<hash>`). */
  ref: string;
  template: string;
}

/**
 * Builds (when missing) and imports the desktop image when the real node is Ready; the reason
 * otherwise, so the caller can say why desktops stay stand-ins.
 */
export async function prepareRealDesktop(
  client: KubeJsonClient,
  log: (m: string) => void,
): Promise<RealDesktop | { skipped: string }> {
  const node = await nodeStatus();
  if (!node.running)
    return { skipped: 'the real node does not run (it needs root: containerd and a kubelet)' };
  // The machine has one real node; it must be this cluster's (another cluster may own it).
  const registered = await client.get<V1Node>({
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: NODE_NAME },
  });
  const ready = registered?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
  if (!ready) {
    return {
      skipped: registered
        ? `the real node ${NODE_NAME} is not Ready in this cluster`
        : `the real node ${NODE_NAME} belongs to another cluster on this machine`,
    };
  }
  const t0 = Date.now();
  const image = await ensureDesktopImage((line) => log(line));
  let lastLog = 0;
  const imported = await importImage(image.path, {
    onProgress: (p) => {
      if (p.phase === 'importing' && Date.now() - lastLog < 5_000) return;
      lastLog = Date.now();
      const pct = p.totalBytes ? Math.round((p.bytes / p.totalBytes) * 100) : 0;
      log(`desktop image: ${p.phase}${p.phase === 'importing' ? ` ${pct} %` : ''}`);
    },
  });
  log(
    `desktop image ${image.ref} ${imported.skipped ? 'already on' : `imported into`} the real node (${((Date.now() - t0) / 1000).toFixed(1)} s)`,
  );
  return { ref: image.ref, template: REAL_DESKTOP_TEMPLATE };
}

/** The CPU sample template, placed on the real node with the local image (never pulled). */
export function realDesktopTemplate(t: VDITemplate, ref: string): VDITemplate {
  const spec = t.spec;
  return {
    ...t,
    spec: {
      ...spec,
      image: ref,
      imagePullPolicy: 'Never',
      description: `${spec.description ?? ''} (here: the local build ${ref} on the real node)`.trim(),
      nodeSelector: { ...spec.nodeSelector, [REAL_NODE_LABEL]: 'true' },
      tolerations: [...(spec.tolerations ?? []), { ...NODE_TOLERATION }],
      resources: {
        ...spec.resources,
        defaultCPU: REAL_DESKTOP_RESOURCES.cpu,
        defaultMemory: REAL_DESKTOP_RESOURCES.memory,
        maxCPU: '1',
        maxMemory: '3Gi',
        minCPU: '250m',
        minMemory: '1536Mi',
      },
      display: { ...spec.display, width: 1280, height: 720, framerate: 60 },
      shmSize: '512Mi',
      homeSize: '1Gi',
    },
  } as VDITemplate;
}

/** The real CPU template streaming over WebRTC (TURN credentials from the operator's endpoint). */
export function realWebrtcTemplate(real: VDITemplate): VDITemplate {
  return {
    ...real,
    metadata: {
      name: REAL_WEBRTC_TEMPLATE,
      ...(real.metadata?.labels ? { labels: real.metadata.labels } : {}),
    },
    spec: {
      ...real.spec,
      displayName: `${real.spec.displayName} over WebRTC`,
      description: `${real.spec.description ?? ''} Streams over WebRTC through the local TURN relay.`.trim(),
      streaming: { mode: 'webrtc' },
    },
  } as VDITemplate;
}
