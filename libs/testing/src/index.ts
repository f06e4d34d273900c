/**
 * Helpers for integration tests: the one way a test finds the local control plane (started when
 * absent, reused when running, or the cluster of $VDI_TEST_KUBECONFIG when given), and a
 * namespace of its own per test, removed afterwards.
 */
export { ensureCluster, testKubeConfig } from './cluster.js';
export { createTestNamespace, waitFor, type TestNamespace } from './namespace.js';
export { createIsolatedGpuNode, type IsolatedNode } from './nodes.js';
export {
  RELAY_PORTS,
  runTurnClient,
  startCoturn,
  stunBindingAnswered,
  tryTurnAllocation,
  type Coturn,
} from './coturn.js';
export { kubeRequest, resourcePath, type RawResponse } from './raw.js';
export { installCrds } from './crds.js';
export { releaseDeletedSessions, releaseSessions, type SessionReleaser } from './sessions.js';
export { freePort } from './ports.js';
export { SESSION_CHILD_KINDS } from './children.js';
export { keycloakIssuer } from './keycloak.js';
/**
 * The session key (VDI_SESSION_KEY) every operator and API a test starts shares, so the desktop
 * password the operator renders is the one forward-auth hands out. Random-looking on purpose: the
 * configuration refuses placeholders outside VDI_ENVIRONMENT=dev.
 */
export const TEST_SESSION_KEY = '5f1c0b9e7a2d4c6e8f0a1b3c5d7e9f2a4c6e8a0b2d4f6a8c0e2a4c6e8f0b2d4c';
export { holdRealNode } from './real-node.js';
export { CHROMIUM_FLAGS, CHROMIUM_PATH, launchChromium } from './browser.js';
export {
  framesPerSecond,
  keyToPixels,
  keyToPixelsMs,
  sampleSurface,
  waitChange,
  waitFirstFrame,
  waitStill,
  type Box,
  type KeyChange,
  type KeyOptions,
  type SurfaceSample,
} from './stream.js';
