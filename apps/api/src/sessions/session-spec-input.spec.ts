import { GraphQLError } from 'graphql';
import { assertValidSpec, specFromInput } from './session-spec-input.js';

const fail = (fn: () => void): GraphQLError => {
  try {
    fn();
  } catch (e) {
    return e as GraphQLError;
  }
  throw new Error('expected an error');
};

const D = { width: 1920, height: 1080, framerate: 60 };

describe('specFromInput', () => {
  it('keeps only what the user set and takes the owner from the caller', () => {
    expect(specFromInput({ template: 'ubuntu' }, 'alice@example.com', D)).toEqual({
      user: 'alice@example.com',
      template: 'ubuntu',
    });
    expect(
      specFromInput({ template: 't', gpu: 0, memory: '8Gi', width: 1280, maxLifetime: '8h' }, 'u', D),
    ).toEqual({
      user: 'u',
      template: 't',
      resources: { gpu: 0, memory: '8Gi' },
      display: { width: 1280, height: 1080, framerate: 60 },
      maxLifetime: '8h',
    });
  });

  it('accepts a valid spec', () => {
    expect(() =>
      assertValidSpec(specFromInput({ template: 't', cpu: '1500m', idleTimeout: '30m' }, 'u', D)),
    ).not.toThrow();
  });

  it('names the input field and what is expected', () => {
    const e = fail(() => assertValidSpec(specFromInput({ template: 't', memory: 'lots' }, 'u', D)));
    expect(e.extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'memory' });
    expect(e.message).toBe('memory: is not valid (expected a Kubernetes quantity such as 8Gi or 4096Mi)');
    const d = fail(() =>
      assertValidSpec(specFromInput({ template: 't', width: 100, maxLifetime: 'forever' }, 'u', D)),
    );
    expect(d.message).toContain('width:');
    expect(d.message).toContain('maxLifetime:');
    expect(
      fail(() => assertValidSpec(specFromInput({ template: 'Not_A_Name' }, 'u', D))).extensions.field,
    ).toBe('template');
  });
});
