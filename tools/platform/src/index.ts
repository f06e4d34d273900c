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
export {
  prepareRealDesktop,
  REAL_DESKTOP_RESOURCES,
  REAL_DESKTOP_TEMPLATE,
  REAL_WEBRTC_TEMPLATE,
  realDesktopTemplate,
  realWebrtcTemplate,
  type RealDesktop,
} from './real-desktop.js';
