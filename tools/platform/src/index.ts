export {
  nodeTs,
  repoRoot,
  spawnService,
  startApiService,
  startOperatorService,
  type ApiServiceOptions,
  type OperatorServiceOptions,
  type ServiceProcess,
  type SpawnOptions,
} from './services.js';
export { ensureApiBuild } from './build-api.js';
export { ensurePortalBuild, startStack, type Log, type Stack, type StackOptions } from './stack.js';
