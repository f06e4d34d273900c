import { authorizationOf } from './ws-auth.js';

describe('connection_init payload', () => {
  it('carries the token as authorization (or Authorization)', () => {
    expect(authorizationOf({ authorization: 'Bearer abc' })).toBe('Bearer abc');
    expect(authorizationOf({ Authorization: 'Bearer abc' })).toBe('Bearer abc');
    expect(authorizationOf({ token: 'abc' })).toBeUndefined();
    expect(authorizationOf(null)).toBeUndefined();
    expect(authorizationOf('Bearer abc')).toBeUndefined();
  });
});
