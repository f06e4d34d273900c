/**
 * What `npm start` runs, decided from the environment: the embedded local cluster (default), or
 * the cluster $KUBECONFIG points at, in which case only the platform's own processes start (that
 * cluster has its own ingress and runs real desktop containers).
 */
export interface StartPlan {
  cluster: { kind: 'embedded' } | { kind: 'external'; kubeconfig: string };
  /** Components that run as local processes. */
  components: string[];
}

const PLATFORM = ['keycloak', 'coturn', 'operator', 'api', 'portal'];
const EMBEDDED = [
  'etcd',
  'kube-apiserver',
  'kube-controller-manager',
  'kube-scheduler',
  'kwok',
  ...PLATFORM,
  'traefik',
  'desktop stand-ins',
];

export function startPlan(env: Record<string, string | undefined>): StartPlan {
  const kubeconfig = env.KUBECONFIG?.trim();
  const external = kubeconfig !== undefined && kubeconfig !== '' && env.VDI_EMBEDDED !== '1';
  return external
    ? { cluster: { kind: 'external', kubeconfig }, components: [...PLATFORM] }
    : { cluster: { kind: 'embedded' }, components: [...EMBEDDED] };
}
