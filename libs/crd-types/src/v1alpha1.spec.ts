import {
  API_VERSION,
  isRetired,
  isTerminalPhase,
  SESSION_PHASES,
  sessionSpecErrors,
  templateSpecErrors,
  withTemplateDefaults,
} from './index.js';

describe('v1alpha1', () => {
  it('is served as vdi.kasm.io/v1alpha1', () => {
    expect(API_VERSION).toBe('vdi.kasm.io/v1alpha1');
  });
  it('treats only Failed and Terminating as terminal', () => {
    expect(SESSION_PHASES.filter(isTerminalPhase)).toEqual(['Failed', 'Terminating']);
  });
});

describe('the seed examples', () => {
  it('a template with image, displayName and default resources is valid and gets the documented defaults', () => {
    const spec = withTemplateDefaults({
      image: 'ghcr.io/selkies-project/nvidia-egl-desktop:latest',
      displayName: 'Ubuntu Desktop',
      resources: { defaultGPU: 1, defaultMemory: '4Gi' } as never,
    });
    expect(templateSpecErrors(spec)).toEqual([]);
    expect(spec).toMatchObject({
      encoder: 'auto',
      persistence: 'user',
      homeMountPath: '/home/ubuntu',
      shmSize: '1Gi',
      display: { width: 1920, height: 1080, framerate: 60 },
      resources: { defaultGPU: 1, defaultMemory: '4Gi', defaultCPU: '2', maxGPU: 1 },
    });
  });
  it('a session for alice with gpu 1 and 4Gi is valid', () => {
    expect(
      sessionSpecErrors({
        user: 'alice@example.com',
        template: 'ubuntu-desktop',
        resources: { gpu: 1, memory: '4Gi' },
      }),
    ).toEqual([]);
  });
  it('a session owned by an issuer + subject is valid; an owner needs both, within their bounds', () => {
    const owner = { issuer: 'https://id.example.com/realms/vdi', subject: 'f1e2d3c4-alice' };
    expect(sessionSpecErrors({ user: 'alice@example.com', template: 'x', owner })).toEqual([]);
    expect(sessionSpecErrors({ user: 'a', template: 'x', owner: { issuer: owner.issuer } })).not.toEqual([]);
    expect(
      sessionSpecErrors({ user: 'a', template: 'x', owner: { ...owner, subject: 's'.repeat(256) } }).join(),
    ).toContain('/owner/subject');
    expect(
      sessionSpecErrors({ user: 'a', template: 'x', owner: { ...owner, issuer: 'has space' } }).join(),
    ).toContain('/owner/issuer');
  });
  it.each([
    [{ user: '', template: 'x' }, '/user'],
    [{ user: 'a', template: 'Bad_Name' }, '/template'],
    [{ user: 'a', template: 'x', resources: { gpu: 2 } }, '/resources/gpu'],
    [{ user: 'a', template: 'x', resources: { memory: 'lots' } }, '/resources/memory'],
  ])('reports %p at %s', (spec, where) => {
    expect(sessionSpecErrors(spec).join('\n')).toContain(where);
  });
});

describe('schema checks of optional template fields', () => {
  it('validates nodeSelector, tolerations and env like the API server', () => {
    const base = withTemplateDefaults({ image: 'img', displayName: 'D' });
    expect(
      templateSpecErrors({ ...base, nodeSelector: { 'nvidia.com/gpu.product': 'NVIDIA-L4-SHARED' } }),
    ).toEqual([]);
    expect(templateSpecErrors({ ...base, nodeSelector: { a: 1 } })).not.toEqual([]);
    expect(
      templateSpecErrors({ ...base, tolerations: [{ key: 'k', operator: 'Exists', effect: 'NoSchedule' }] }),
    ).toEqual([]);
    expect(templateSpecErrors({ ...base, env: [{ name: 'A', value: 'b' }] })).toEqual([]);
  });
});

describe('retired templates', () => {
  it('a template is not retired unless it says so, and the default is what the API server fills in', () => {
    const spec = withTemplateDefaults({ image: 'img', displayName: 'D' });
    expect(spec.retired).toBe(false);
    expect(isRetired({ spec })).toBe(false);
    expect(isRetired({ spec: { ...spec, retired: true } })).toBe(true);
    expect(templateSpecErrors({ ...spec, retired: true })).toEqual([]);
    expect(templateSpecErrors({ ...spec, retired: 'yes' }).join()).toContain('/retired');
  });
});
