import * as k8s from '@kubernetes/client-node';
import { KubeApiError, KubeJsonClient } from './client.js';

describe('KubeJsonClient', () => {
  it('refuses a kubeconfig without a current cluster, saying what to set', () => {
    expect(() => new KubeJsonClient(new k8s.KubeConfig())).toThrow(/no current cluster; set KUBECONFIG/);
  });
});

describe('KubeApiError', () => {
  it('classifies not-found and conflict answers', () => {
    expect(new KubeApiError(404, 'NotFound', 'x', {}).notFound).toBe(true);
    expect(new KubeApiError(409, 'Conflict', 'x', {}).conflict).toBe(true);
    expect(new KubeApiError(422, 'Invalid', 'x', {}).notFound).toBe(false);
  });
});
