export {
  up,
  down,
  status,
  isRunning,
  adminKubeConfig,
  ensureBinaries,
  type UpResult,
  type ClusterStatus,
} from './cluster.js';
export { loadConfig, parseGpuNodes, statePaths, type ClusterConfig, type GpuNodeSpec } from './config.js';
