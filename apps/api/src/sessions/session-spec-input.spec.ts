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

const ALICE = {
  user: 'alice@example.com',
  owner: { issuer: 'https://id.example.com/realms/vdi', subject: 'alice-subject' },
};
const U = { user: 'u', owner: { issuer: 'https://id.example.com/realms/vdi', subject: 'u' } };

describe('specFromInput', () => {
  it('keeps only what the user set and takes the owner from the caller', () => {
    expect(specFromInput({ template: 'ubuntu' }, ALICE, D)).toEqual({
      user: 'alice@example.com',
      owner: ALICE.owner,
      template: 'ubuntu',
    });
    expect(
      specFromInput({ template: 't', gpu: 0, memory: '8Gi', width: 1280, maxLifetime: '8h' }, U, D),
    ).toEqual({
      user: 'u',
      owner: U.owner,
      template: 't',
      resources: { gpu: 0, memory: '8Gi' },
      display: { width: 1280, height: 1080, framerate: 60 },
      maxLifetime: '8h',
    });
  });

  it('accepts a valid spec', () => {
    expect(() =>
      assertValidSpec(specFromInput({ template: 't', cpu: '1500m', idleTimeout: '30m' }, U, D)),
    ).not.toThrow();
  });

  it('names the input field and what is expected', () => {
    const e = fail(() => assertValidSpec(specFromInput({ template: 't', memory: 'lots' }, U, D)));
    expect(e.extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'memory' });
    expect(e.message).toBe('memory: is not valid (expected a Kubernetes quantity such as 8Gi or 4096Mi)');
    const d = fail(() =>
      assertValidSpec(specFromInput({ template: 't', width: 100, maxLifetime: 'forever' }, U, D)),
    );
    expect(d.message).toContain('width:');
    expect(d.message).toContain('maxLifetime:');
    expect(
      fail(() => assertValidSpec(specFromInput({ template: 'Not_A_Name' }, U, D))).extensions.field,
    ).toBe('template');
  });
});
