/**
 * @vdi/node — the local cluster's one real node (`vdi-worker-1`): kubelet + containerd + runc with a
 * CNI bridge, beside the kwok GPU nodes. CPU desktops (e.g. the Selkies image, imported, never
 * pulled) really run here. Started and stopped by tools/controlplane (`npm run cluster:up/down`).
 */
export {
  NODE_NAME,
  NODE_LABELS,
  NODE_TAINT,
  NODE_TOLERATION,
  REAL_NODE_LABEL,
  NODE_IP,
  POD_CIDR,
  BRIDGE,
  PAUSE_IMAGE,
} from './constants.js';
export {
  startNode,
  stopNode,
  nodeStatus,
  importImage,
  nodeImages,
  nodeUnsupportedReason,
  savedNodeOptions,
  setNetworkPolicyEnforcement,
  bridgePorts,
  type NodeOptions,
  type StopOptions,
  type StartResult,
  type NodeStatus,
  type Logger,
} from './node.js';
export { nodePaths, type NodePaths } from './config.js';
export {
  buildStaticGo,
  writeBinaryImage,
  type ImageSpec,
  type ImportProgress,
  type ImportResult,
} from './images.js';
export {
  OWNED_CHAIN,
  RECORDED_SYSCTLS,
  mountsUnder,
  parseIptablesSave,
  readSysctls,
  iptablesSave,
} from './host-state.js';
export { cgroupDirs, pidsWithCmdline } from './processes.js';
export {
  NETPOL_BINARY,
  NETPOL_CHAIN,
  NETPOL_TOP_CHAINS,
  OWNED_IPSET,
  chainRules,
  ensureNetpolBinary,
  listIpsets,
  netpolSynced,
} from './netpol.js';
export { CGROUP_ROOT, RUN_DIR } from './constants.js';
export { NodeBusyError, nodeOwner, OWNER_FILE, runningNodeOwner } from './node.js';
export { lockNode, tryLockNode, NODE_LOCK, type Release } from './lock.js';
