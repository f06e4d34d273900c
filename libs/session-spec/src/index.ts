/**
 * Pure functions from (session, template, platform options, cluster facts) to the desired child
 * objects of a desktop session. No client, no clock, no randomness: those come in as arguments.
 */
export { renderSession, renderedObjects, type RenderInputs, type RenderedSession } from './render.js';
export { SessionSpecError } from './errors.js';
export {
  chooseEncoder,
  parseEncoderPlan,
  hasNvenc,
  baseProduct,
  NVENC_PRODUCT_PREFIXES,
  type EncoderPlan,
  type GpuFacts,
} from './encoder.js';
export { resolveSession, type EffectiveSession } from './resolve.js';
export {
  platformOptionErrors,
  assertPlatformOptions,
  turnRestPort,
  DESKTOP_PORT,
  type PlatformOptions,
} from './options.js';
export { sessionUrl, sessionHost } from './url.js';
export {
  DESKTOP_BASIC_AUTH_USER,
  desktopAuthorization,
  secretWeakness,
  sessionPassword,
  turnRestKey,
  TURN_REST_KEY,
} from './secrets.js';
export {
  closeDesktopConnection,
  DesktopAnswerError,
  desktopBaseUrl,
  desktopConnections,
} from './desktop-api.js';
export {
  answerTurnRest,
  turnRestUri,
  TURN_REST_PATH,
  type TurnRestAnswer,
  type TurnRestContext,
} from './turn-rest.js';
export {
  mintTurnCredentials,
  rtcConfigJson,
  turnIdentity,
  turnSessionIdentity,
  TurnConfigError,
  type TurnServer,
  type TurnCredentials,
} from './turn.js';
export { parseQuantity, cpuMillis } from './quantity.js';
export { TRAEFIK_API_VERSION, AUTH_USER_HEADER, type TraefikObject } from './ingress-route.js';
export {
  FIELD_MANAGER,
  MANAGED_SELECTOR,
  PART_OF,
  LABEL_SESSION,
  LABEL_USER_HASH,
  LABEL_TEMPLATE,
  ANNOTATION_USER,
  ANNOTATION_CLAIMED_AT,
  ANNOTATION_LEASE_KEY_ID,
  commonLabels,
  newSession,
  ownerReference,
} from './labels.js';
export { DESKTOP_UID, DESKTOP_RUNTIME_DIR, desktopPlacement, type DesktopPlacementInput } from './pod.js';
export {
  ANNOTATION_PREPULL_TEMPLATE,
  DEFAULT_PREPULL_PAUSE_IMAGE,
  LABEL_PREPULL,
  PREPULL_COMPONENT,
  PREPULL_IMAGE_CONTAINER,
  PREPULL_SELECTOR,
  prepullStatus,
  pullerDaemonSet,
  pullerHasImage,
  pullerName,
  templatePlacement,
  wantsPuller,
  type PrepullOptions,
} from './prepull.js';
export * from './names.js';
export {
  ANNOTATION_OWNER_ISSUER,
  ANNOTATION_OWNER_SUBJECT,
  annotatedOwner,
  defaultUserHomeClaim,
  ownedBy,
  ownerAnnotations,
  ownerHash,
  ownerHomeName,
  ownerKey,
  parseOwnerKey,
  sameOwner,
  sessionOwnerHash,
  type SessionOwner,
} from './owner.js';
export { mayHandOverHomes, userHomeClaimName, type ClaimFacts } from './home-pvc.js';
export {
  computeStatus,
  expiresAt,
  failedForGood,
  phaseOf,
  startClock,
  statusChanged,
  type Observation,
} from './status.js';
export { DEFAULT_WARN_BEFORE, durationSeconds, expiryStage, formatDuration } from './duration.js';
export {
  gpuCapacity,
  waitingSessions,
  eligible,
  PRODUCT_LABEL,
  WAITING_PHASES,
  type GpuCapacity,
  type NodeSlices,
  type ProductSlices,
  type Placement,
  capacityOf,
  SliceLedger,
} from './gpu-capacity.js';
export { templateProblems, templateStatus } from './template-status.js';
export {
  budgetMessage,
  budgetState,
  countUsage,
  gpuHours,
  heldSlices,
  periodBounds,
  usageName,
  type BudgetState,
  type HeldSlices,
} from './usage.js';
export {
  cidrToRange,
  coturnPolicyArgs,
  DEFAULT_RELAY_POLICY,
  loopbackRelayPolicyArgs,
  relayPolicyErrors,
  type RelayPolicy,
} from './relay.js';
export {
  ANNOTATION_ENCODER_PLAN,
  CHILD_KINDS,
  GPU_TOLERATION,
  apiBasePath,
  childListPath,
  childRefs,
  desiredSession,
  encoderPlanOf,
  placementSlices,
  planSession,
  renderPlanned,
  sessionKeys,
  sessionPlacement,
  type ChildKind,
  type ChildRef,
  type ClusterFacts,
  type DesiredSession,
  type RenderKeys,
  type SessionKeys,
  type SessionPlan,
} from './desired.js';
export { envReader, platformOptionsFromEnv, PlatformEnvError, type EnvRecord } from './platform-env.js';
export {
  DEFAULT_SHARE_MAX_SECONDS,
  SELKIES_VIEWONLY_PASSWORD_ENV,
  VIEWONLY_PASSWORD_KEY,
  expiryProblem,
  grantedRole,
  labelValue,
  parseRfc3339,
  shareInputProblem,
  shareIsLive,
  shareName,
  shareNames,
  viewOnlyAuthorization,
  viewOnlyPassword,
  viewOnlyPasswordFor,
  type Grantee,
  type ShareInput,
  type Sharer,
} from './share.js';
export {
  ANNOTATION_POOL_FIT,
  ANNOTATION_POOL_KEY_ID,
  LABEL_CLAIMED_BY,
  LABEL_POOL,
  claimCandidates,
  claimPatch,
  desktopAuthorizationOf,
  desktopPasswordOf,
  desktopPodName,
  fitOf,
  isUnclaimed,
  madeWithKey,
  podFits,
  poolCounts,
  poolNetworkPolicy,
  poolNetworkPolicyName,
  poolPodName,
  poolPodPassword,
  poolPodSecret,
  poolKeyId,
  poolStandIn,
  poolStatus,
  poolTargetAt,
  poolScheduleErrors,
  type PoolTarget,
  poolTemplate,
  poolability,
  renderPoolPod,
  type Poolability,
  type PoolFit,
  type RenderedPoolPod,
} from './pool.js';
