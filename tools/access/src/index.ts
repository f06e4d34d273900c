/**
 * The local access path to desktops: Traefik (built from the Go module proxy) routing the
 * cluster's IngressRoutes, the desktop network where pod IPs answer, and desktop stand-ins that
 * answer there in place of Selkies containers (no container runs in the local cluster).
 */
export {
  startTraefik,
  ensureTraefikBinary,
  traefikVersion,
  parseJsonLines,
  DEFAULT_WEB_PORT,
  DEFAULT_ADMIN_PORT,
  type TraefikOptions,
  type RunningTraefik,
  type TraefikLogs,
} from './traefik.js';
export {
  traefikStaticConfig,
  traefikStaticConfigYaml,
  traefikEnv,
  hostRoutesConfig,
  TRAEFIK_DEFAULT_READ_TIMEOUT_S,
  type HostRoute,
  READINESS_HOST,
  readinessRoute,
  type TraefikStaticConfigInput,
} from './traefik-config.js';
export {
  ensureTraefikIdentity,
  traefikIdentityObjects,
  traefikClusterRoleRules,
  TRAEFIK_IDENTITY,
  type TraefikCredentials,
  type TraefikIdentityOptions,
  type PolicyRule,
} from './identity.js';
export {
  ensureDesktopNetwork,
  teardownDesktopNetwork,
  desktopNetworkPlan,
  desktopNetworkProblems,
  setupCommands,
  cidrContains,
  DesktopNetworkError,
  DEFAULT_NETNS,
  DEFAULT_POD_CIDR,
  DEFAULT_LINK_CIDR,
  type DesktopNetwork,
  type DesktopNetworkOptions,
} from './network.js';
export { startStandins, type StandinsOptions, type RunningStandins } from './standins.js';
export {
  sessionMapFromPods,
  mergeSessionMaps,
  normalizeAddress,
  type DesktopEntry,
  type SessionMap,
} from './session-map.js';
export { standinPage, standinInfo, STANDIN_NOTICE, type StandinInfo } from './standin-page.js';
export { jsonLogger, silentLogger, type Logger } from './log.js';
