/** Nest injection tokens of the cluster access. */
export const KUBE_CONFIG = Symbol('KUBE_CONFIG');
export const KUBE_CLIENT = Symbol('KUBE_CLIENT');
