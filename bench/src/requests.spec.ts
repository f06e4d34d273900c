import { classifyRequest, countsDelta, requestTotals } from './requests.js';

describe('classifyRequest', () => {
  it.each([
    ['GET', '/api/v1/namespaces/ns/pods?labelSelector=a', '', 'LIST pods'],
    ['GET', '/api/v1/namespaces/ns/pods?watch=true&resourceVersion=5', '', 'WATCH pods'],
    ['GET', '/api/v1/namespaces/ns/pods/s-1', '', 'GET pods'],
    ['GET', '/api/v1/nodes', '', 'LIST nodes'],
    ['GET', '/api/v1/nodes?watch=1', '', 'WATCH nodes'],
    [
      'PATCH',
      '/api/v1/namespaces/ns/secrets/a?fieldManager=x&force=true',
      'application/apply-patch+yaml',
      'APPLY secrets',
    ],
    [
      'PATCH',
      '/apis/vdi.kasm.io/v1alpha1/namespaces/ns/vdisessions/s/status?fieldManager=vdi-operator',
      'application/merge-patch+json',
      'MERGE vdisessions/status',
    ],
    [
      'PATCH',
      '/apis/vdi.kasm.io/v1alpha1/namespaces/ns/vdisessions/s',
      'application/json-patch+json',
      'JSONPATCH vdisessions',
    ],
    ['POST', '/api/v1/namespaces/ns/events', 'application/json', 'CREATE events'],
    [
      'PUT',
      '/apis/coordination.k8s.io/v1/namespaces/ns/leases/vdi-operator',
      'application/json',
      'PUT leases',
    ],
    ['DELETE', '/apis/traefik.io/v1alpha1/namespaces/ns/middlewares/m', '', 'DELETE middlewares'],
    ['GET', '/apis/traefik.io/v1alpha1', '', 'GET discovery'],
    ['GET', '/api/v1/namespaces/ns', '', 'GET namespaces'],
    ['GET', '/apis/vdi.kasm.io/v1alpha1/vditemplates?watch=true', '', 'WATCH vditemplates'],
  ])('%s %s (%s) is %s', (method, path, type, want) => {
    const k = classifyRequest(method, path, type);
    expect(`${k.verb} ${k.resource}`).toBe(want);
  });
});

describe('requestTotals', () => {
  it('counts everything and everything but watches', () => {
    expect(requestTotals({ 'WATCH pods': 3, 'APPLY pods': 5, 'GET pods': 2 })).toEqual({
      all: 10,
      nonWatch: 7,
    });
  });
});

describe('countsDelta', () => {
  it('subtracts snapshots and drops what did not change', () => {
    expect(countsDelta({ a: 1, b: 2 }, { a: 1, b: 5, c: 1 })).toEqual({ b: 3, c: 1 });
  });
});
