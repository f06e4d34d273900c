import { sampleTemplate } from '@vdi/session-spec/testing';
import { toPrepullModel } from './template-prepull.model.js';

describe('toPrepullModel', () => {
  it("gives the operator's counts and nodes", () => {
    const t = sampleTemplate();
    t.status = {
      prepull: {
        image: 'desktop:1',
        ready: 2,
        desired: 3,
        summary: '2/3',
        nodes: ['n1', 'n2'],
        observedTime: '2026-12-05T10:00:00Z',
      },
    };
    expect(toPrepullModel(t)).toEqual({
      image: 'desktop:1',
      ready: 2,
      desired: 3,
      nodes: ['n1', 'n2'],
      observedTime: '2026-12-05T10:00:00Z',
    });
  });

  it('is undefined while the template has no puller', () => {
    expect(toPrepullModel(sampleTemplate())).toBeUndefined();
    expect(toPrepullModel(undefined)).toBeUndefined();
  });
});
