/**
 * Helpers for integration tests: the one way a test finds the local control plane (started when
 * absent, reused when running, or the cluster of $VDI_TEST_KUBECONFIG when given), and a
 * namespace of its own per test, removed afterwards.
 */
export { ensureCluster, testKubeConfig } from './cluster.js';
export { createTestNamespace, waitFor, type TestNamespace } from './namespace.js';
export { createIsolatedGpuNode, type IsolatedNode } from './nodes.js';
export { startCoturn, stunBindingAnswered, tryTurnAllocation, type Coturn } from './coturn.js';
export { kubeRequest, resourcePath, type RawResponse } from './raw.js';
export { installCrds } from './crds.js';
export { freePort } from './ports.js';
export { SESSION_CHILD_KINDS } from './children.js';
export { keycloakIssuer } from './keycloak.js';
