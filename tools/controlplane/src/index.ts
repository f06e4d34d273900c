export {
  up,
  down,
  status,
  isRunning,
  adminKubeConfig,
  ensureBinaries,
  restartComponent,
  realNodeOptions,
  type UpResult,
  type ClusterStatus,
} from './cluster.js';
export { loadConfig, parseGpuNodes, statePaths, type ClusterConfig, type GpuNodeSpec } from './config.js';
export {
  startDetached,
  waitHealthy,
  stopProcess,
  killGroup,
  parseProcList,
  isAlive,
  portInUse,
  readState,
  writeState,
  tail,
  type ManagedProcess,
  type ProcessState,
} from './processes.js';
export { repoRoot } from './config.js';
