import { GraphQLError } from 'graphql';
import {
  applyMergePatch,
  assertValidTemplateSpec,
  kubeCauses,
  pruneEmptyLifetime,
  specPatchFromInput,
  templateInputField,
  templateNameProblem,
} from './template-spec-input.js';

const fail = (fn: () => unknown): GraphQLError => {
  try {
    fn();
  } catch (e) {
    return e as GraphQLError;
  }
  throw new Error('expected an error');
};

const BASE = { displayName: 'CPU desktop', image: 'ghcr.io/x/desktop:1' };

describe('templateNameProblem', () => {
  it.each(['ubuntu', 'xfce-cpu', 'gpu.l4', 'a'.repeat(63)])('accepts %s', (name) => {
    expect(templateNameProblem(name)).toBeUndefined();
  });
  it.each([
    ['', /empty/],
    ['Ubuntu_Desktop', /lower-case letters/],
    ['-lead', /starting and ending/],
    ['../sessions', /lower-case letters/],
    ['a'.repeat(64), /64 characters long.*at most 63/],
  ])('refuses %p', (name, why) => {
    expect(templateNameProblem(name)).toMatch(why);
  });
});

describe('specPatchFromInput', () => {
  it('puts each input field where the CRD has it', () => {
    expect(
      specPatchFromInput(
        {
          name: 't',
          ...BASE,
          defaultMemory: '4Gi',
          maxCPU: '4',
          width: 1280,
          streamingMode: 'webrtc',
          lifetimeMax: '24h',
          idleDefault: '2h',
          idleAction: 'Delete',
          persistence: 'none',
        },
        'create',
        't',
      ),
    ).toEqual({
      ...BASE,
      resources: { defaultMemory: '4Gi', maxCPU: '4' },
      display: { width: 1280 },
      streaming: { mode: 'webrtc' },
      lifetime: { max: '24h', idle: { default: '2h', action: 'Delete' } },
      persistence: 'none',
    });
  });

  it('on create, null means not set; on update, null removes the field', () => {
    expect(specPatchFromInput({ name: 't', ...BASE, description: null }, 'create', 't')).toEqual(BASE);
    expect(specPatchFromInput({ description: null, maxMemory: null }, 'update', 't')).toEqual({
      description: null,
      resources: { maxMemory: null },
    });
  });

  it('refuses removing displayName or image, and create-only fields on update, naming the template', () => {
    const e = fail(() => specPatchFromInput({ image: null }, 'update', 'xfce'));
    expect(e.message).toBe("image of template 'xfce' cannot be removed; give a new value");
    expect(e.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'image' });
    expect(fail(() => specPatchFromInput({ homeSize: '20Gi' } as never, 'update', 'xfce')).message).toMatch(
      /^homeSize of template 'xfce' cannot change.*create a new template instead$/,
    );
  });
});

describe('applyMergePatch and pruneEmptyLifetime', () => {
  it('sets, replaces and removes like the API server (RFC 7386)', () => {
    expect(
      applyMergePatch(
        { a: 1, r: { x: '1', y: '2' }, keep: [1] },
        { a: 2, r: { x: null, z: '3' }, n: { m: 1 } },
      ),
    ).toEqual({ a: 2, r: { y: '2', z: '3' }, keep: [1], n: { m: 1 } });
  });

  it('drops an idle block that bounds nothing and an empty lifetime, in the patch too', () => {
    const spec = { lifetime: { idle: { action: 'Stop' } } };
    const patch = { lifetime: { idle: { default: null, max: null } } };
    pruneEmptyLifetime(spec as never, patch as never);
    expect(spec).toEqual({});
    expect(patch).toEqual({ lifetime: null });
    const kept = { lifetime: { max: '8h', idle: { action: 'Stop' } } };
    const p2 = {};
    pruneEmptyLifetime(kept as never, p2);
    expect(kept).toEqual({ lifetime: { max: '8h' } });
    expect(p2).toEqual({ lifetime: { idle: null } });
  });
});

describe('assertValidTemplateSpec', () => {
  it('accepts a minimal template and returns it with the CRD defaults', () => {
    expect(assertValidTemplateSpec('t', BASE)).toMatchObject({
      ...BASE,
      retired: false,
      encoder: 'auto',
      resources: { defaultGPU: 0, maxGPU: 1, defaultMemory: '4Gi', defaultCPU: '2' },
    });
  });

  it('names every missing required field and the template', () => {
    const e = fail(() => assertValidTemplateSpec('new-one', {}));
    expect(e.message).toBe(
      "template 'new-one' was not saved: displayName: is required; image: is required (expected an image reference without spaces, e.g. ghcr.io/selkies-project/nvidia-egl-desktop:24.04); fix them and try again",
    );
    expect(e.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'displayName' });
  });

  it.each([
    [
      { resources: { defaultMemory: 'lots' } },
      'defaultMemory',
      'defaultMemory: is not valid (expected a Kubernetes quantity such as 4Gi or 4096Mi)',
    ],
    [{ resources: { defaultGPU: 2 } }, 'defaultGPU', 'defaultGPU: must be at most 1 (expected 0 or 1)'],
    [{ encoder: 'mpeg2' }, 'encoder', 'encoder: is not valid (expected one of auto, h264enc'],
    [{ display: { width: 100 } }, 'width', 'width: must be at least 640'],
    [{ lifetime: { max: '1d' } }, 'lifetimeMax', 'lifetimeMax: is not valid (expected a duration'],
    [
      { icon: 'ftp://x' },
      'icon',
      'icon: is not valid (expected a URL starting with https:// or data:image/)',
    ],
  ])('schema: %p is refused at %s', (over, field, text) => {
    const e = fail(() => assertValidTemplateSpec('t', { ...BASE, ...over }));
    expect(e.extensions).toMatchObject({ field });
    expect(e.message).toContain(text);
  });

  it.each([
    [{ minMemory: '8Gi', maxMemory: '4Gi' }, 'minMemory', 'minMemory (8Gi) must not exceed maxMemory (4Gi)'],
    [
      { defaultMemory: '16Gi', maxMemory: '8Gi' },
      'defaultMemory',
      'defaultMemory (16Gi) must not exceed maxMemory (8Gi)',
    ],
    [{ minCPU: '4', defaultCPU: '2' }, 'minCPU', 'minCPU (4) must not exceed defaultCPU (2)'],
    [{ defaultGPU: 1, maxGPU: 0 }, 'defaultGPU', 'defaultGPU (1) must not exceed maxGPU (0)'],
    [{ defaultMemory: '0' }, 'defaultMemory', 'defaultMemory: must be greater than zero, not 0'],
    [{ defaultCPU: '0.0001' }, 'defaultCPU', 'defaultCPU: must be at least 1m'],
  ])('rules between fields: %p is refused at %s', (resources, field, text) => {
    const e = fail(() => assertValidTemplateSpec('t', { ...BASE, resources }));
    expect(e.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    expect(e.message).toContain(`template 't' was not saved: ${text}`);
  });

  it('lifetime defaults must not be longer than their maximum, and within 1m..720h', () => {
    expect(
      fail(() => assertValidTemplateSpec('t', { ...BASE, lifetime: { default: '9h', max: '8h' } })).message,
    ).toContain('lifetimeDefault (9h) must not be longer than lifetimeMax (8h)');
    expect(
      fail(() => assertValidTemplateSpec('t', { ...BASE, lifetime: { idle: { default: '3h', max: '2h' } } }))
        .message,
    ).toContain('idleDefault (3h) must not be longer than idleMax (2h)');
    expect(
      fail(() => assertValidTemplateSpec('t', { ...BASE, lifetime: { max: '900h' } })).message,
    ).toContain('lifetimeMax: 900h must be between 1m and 720h');
  });

  it('refuses defaults the operator could not start a desktop with (/dev/shm beyond the memory)', () => {
    const e = fail(() =>
      assertValidTemplateSpec('t', { ...BASE, shmSize: '4Gi', resources: { defaultMemory: '2Gi' } }),
    );
    expect(e.message).toMatch(
      /^template 't' was not saved: a session with its defaults could not start: .*\/dev\/shm/,
    );
  });
});

describe('kubeCauses and templateInputField', () => {
  it("maps the API server's causes (as kube-apiserver 1.37 words them) to input fields", () => {
    expect(
      kubeCauses({
        details: {
          causes: [
            {
              reason: 'FieldValueInvalid',
              message: 'Invalid value: minMemory must not exceed defaultMemory',
              field: 'spec.resources.minMemory',
            },
            {
              reason: 'FieldValueInvalid',
              message: 'Invalid value: "0": defaultCPU must be at least 1m (one thousandth of a CPU)',
              field: 'spec.resources.defaultCPU',
            },
            {
              reason: 'FieldValueInvalid',
              message: 'Invalid value: "900h": must be at most 720h (30 days)',
              field: 'spec.lifetime.max',
            },
            {
              reason: 'FieldValueForbidden',
              message:
                'Forbidden: environment variable PASSWD is set by the platform and cannot be set in a template',
              field: 'spec.env[0]',
            },
          ],
        },
      }),
    ).toEqual([
      { field: 'minMemory', text: 'minMemory: minMemory must not exceed defaultMemory' },
      { field: 'defaultCPU', text: 'defaultCPU: defaultCPU must be at least 1m (one thousandth of a CPU)' },
      { field: 'lifetimeMax', text: 'lifetimeMax: must be at most 720h (30 days)' },
      {
        field: 'spec.env[0]',
        text: 'spec.env[0]: Forbidden: environment variable PASSWD is set by the platform and cannot be set in a template',
      },
    ]);
  });

  it('names fields by their input names', () => {
    expect(templateInputField('/lifetime/idle/max')).toBe('idleMax');
    expect(templateInputField('spec.display.bitrateKbps')).toBe('bitrateKbps');
    expect(templateInputField('/streaming/mode')).toBe('streamingMode');
    expect(templateInputField('/nodeSelector')).toBe('spec.nodeSelector');
  });
});
