/**
 * The one real node of the local cluster: its name, how it is marked, and its network. Desktops that
 * must really run (CPU desktops, e.g. the Selkies image) tolerate the taint and select the label;
 * everything else keeps landing on the kwok GPU nodes.
 */
export const NODE_NAME = 'vdi-worker-1';

/** The label every consumer selects the real node by (also its taint's key). */
export const REAL_NODE_LABEL = 'vdi.kasm.io/real-node';

/** Labels the node carries. `kubernetes.io/os` comes from the kubelet; the rest are set by `startNode`. */
export const NODE_LABELS: Readonly<Record<string, string>> = Object.freeze({
  [REAL_NODE_LABEL]: 'true',
  'node-role.kubernetes.io/worker': '',
  'kubernetes.io/os': 'linux',
});

/** Only pods that tolerate this taint run on the real node. */
export const NODE_TAINT = Object.freeze({
  key: REAL_NODE_LABEL,
  value: 'true',
  effect: 'NoSchedule' as const,
});

/** The toleration a pod needs to be placed on the real node. */
export const NODE_TOLERATION = Object.freeze({
  key: NODE_TAINT.key,
  operator: 'Equal' as const,
  value: NODE_TAINT.value,
  effect: NODE_TAINT.effect,
});

/**
 * Pod addresses of the real node: inside 198.18.0.0/15 (the benchmarking range, never real),
 * clear of the kwok nodes (198.18.0.0/16), the `npm start` stack's 198.19.0.0/17 and its TURN relay
 * (198.19.0.1). The host routes it directly (the bridge holds the gateway), so Traefik on the host
 * reaches pod IPs.
 */
export const POD_CIDR = '198.19.192.0/24';
/** The bridge's address: the pods' gateway and the node's InternalIP. */
export const NODE_IP = '198.19.192.1';
export const BRIDGE = 'vdi-cni0';
/** Where containerd keeps sockets and runtime state (short: unix socket paths are limited to 108 bytes). */
export const RUN_DIR = '/run/vdi-node';
/** The cgroup parent of every pod (under each v1 hierarchy), removed on teardown. */
export const CGROUP_ROOT = 'vdi-node';
/** The sandbox ("pause") image, built locally and imported; never pulled. */
export const PAUSE_IMAGE = 'localhost/vdi/pause:1';
/** The containerd namespace the CRI plugin (and so the kubelet) uses. */
export const K8S_NAMESPACE = 'k8s.io';
