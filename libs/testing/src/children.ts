/**
 * The kinds of objects the operator creates for a session, as [API base path, plural]: what leak
 * and ownership checks (operator tests, the benchmark's chaos run) list by the session label.
 */
export const SESSION_CHILD_KINDS: readonly (readonly [string, string])[] = [
  ['/api/v1', 'pods'],
  ['/api/v1', 'services'],
  ['/api/v1', 'secrets'],
  ['/api/v1', 'persistentvolumeclaims'],
  ['/apis/networking.k8s.io/v1', 'networkpolicies'],
  ['/apis/traefik.io/v1alpha1', 'ingressroutes'],
  ['/apis/traefik.io/v1alpha1', 'middlewares'],
];
