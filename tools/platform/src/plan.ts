/**
 * What `npm start` runs, decided from the environment: the embedded local cluster (default), or
 * the cluster $KUBECONFIG points at, in which case only the platform's own processes start.
 */
export interface StartPlan {
  cluster: { kind: 'embedded' } | { kind: 'external'; kubeconfig: string };
  /** Components that run as local processes. */
  components: string[];
  /** Components not built yet, said plainly rather than faked. */
  notYet: string[];
}

export function startPlan(env: Record<string, string | undefined>): StartPlan {
  const kubeconfig = env.KUBECONFIG?.trim();
  const external = kubeconfig !== undefined && kubeconfig !== '' && env.VDI_EMBEDDED !== '1';
  return {
    cluster: external ? { kind: 'external', kubeconfig } : { kind: 'embedded' },
    components: external
      ? []
      : ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kwok'],
    notYet: ['operator', 'api', 'portal', 'keycloak', 'traefik', 'coturn', 'desktop stand-ins'],
  };
}
