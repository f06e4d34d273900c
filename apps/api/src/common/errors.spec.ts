import { GraphQLError } from 'graphql';
import { KubeApiError } from '@vdi/kube-client';
import { SessionSpecError } from '@vdi/session-spec';
import {
  ErrorCode,
  fromKubeApiError,
  fromSessionSpecError,
  inputField,
  publicErrorOf,
  toApiError,
} from './errors.js';

describe('error mapping', () => {
  it('renames CRD paths to input fields', () => {
    expect(inputField('spec.resources.memory')).toBe('memory');
    expect(inputField('/resources/gpu')).toBe('gpu');
    expect(inputField('/display/width')).toBe('width');
    expect(inputField('/maxLifetime')).toBe('maxLifetime');
  });

  it('turns a SessionSpecError about the request into BAD_USER_INPUT naming the input field', () => {
    const e = fromSessionSpecError(
      new SessionSpecError(
        'spec.resources.memory',
        '64Gi is more than the template allows (8Gi)',
        'ResourcesOutOfBounds',
      ),
      'ubuntu',
    );
    expect(e.extensions).toEqual({ code: ErrorCode.BadUserInput, field: 'memory' });
    expect(e.message).toBe('memory: 64Gi is more than the template allows (8Gi)');
  });

  it('blames the template for errors in its own fields', () => {
    const e = fromSessionSpecError(
      new SessionSpecError('template.spec.resources.maxMemory', "'x' is not a Kubernetes quantity"),
      'broken',
    );
    expect(e.extensions.code).toBe(ErrorCode.BadUserInput);
    expect(e.extensions.field).toBe('template');
    expect(e.message).toContain("template 'broken' cannot be used");
  });

  it('maps API server answers', () => {
    const exists = fromKubeApiError(new KubeApiError(409, 'AlreadyExists', 'x', {}), 'alice-1');
    expect(exists.extensions.code).toBe(ErrorCode.BadUserInput);
    expect(exists.message).toContain("'alice-1' already exists");
    const invalid = fromKubeApiError(
      new KubeApiError(422, 'Invalid', 'x', {
        details: {
          causes: [{ field: 'spec.resources.memory', message: 'memory must be greater than zero' }],
        },
      }),
      'n',
    );
    expect(invalid.extensions.code).toBe(ErrorCode.BadUserInput);
    expect(invalid.message).toContain('memory: memory must be greater than zero');
    expect(fromKubeApiError(new KubeApiError(500, '', 'boom', {}), 'n').extensions.code).toBe(
      ErrorCode.Internal,
    );
  });

  it('passes GraphQL errors through and hides unknown ones', () => {
    const g = new GraphQLError('x', { extensions: { code: 'FORBIDDEN' } });
    expect(toApiError(g, { template: 't', name: 'n' })).toBe(g);
    const hidden = toApiError(new Error('secret internals'), { template: 't', name: 'n' });
    expect(hidden.extensions.code).toBe(ErrorCode.Internal);
    expect(hidden.message).not.toContain('secret');
  });

  it("never shows a client the API server's own words", () => {
    const leak = 'secrets "vdi-tls" is forbidden: User "system:serviceaccount:vdi-system:vdi-api" cannot get';
    const wrap = (e: Error) => new GraphQLError(e.message, { originalError: e });
    const cases: [Error, string, RegExp][] = [
      [
        new KubeApiError(403, 'Forbidden', leak, {}),
        ErrorCode.Internal,
        /not allowed .* tell the platform admin/,
      ],
      [new KubeApiError(404, 'NotFound', 'vdisessions "x" not found', {}), ErrorCode.NotFound, /not found/],
      [
        new KubeApiError(409, 'Conflict', 'the object has been modified', {}),
        ErrorCode.Internal,
        /try again/,
      ],
      [new KubeApiError(503, 'ServiceUnavailable', 'etcd leader changed', {}), ErrorCode.Internal, /busy/],
      [
        new TypeError("Cannot read properties of undefined (reading 'spec')"),
        ErrorCode.Internal,
        /unexpected/,
      ],
    ];
    for (const [err, code, message] of cases) {
      const out = publicErrorOf(wrap(err))!;
      expect(out.extensions.code).toBe(code);
      expect(out.message).toMatch(message);
      expect(out.message).not.toContain(err.message);
    }
    // The API's own answers pass as they are.
    expect(
      publicErrorOf(new GraphQLError('no', { extensions: { code: ErrorCode.Forbidden } })),
    ).toBeUndefined();
  });
});
