import { ApiError, endpoints, graphqlRequest } from './graphql';

const fakeFetch =
  (status: number, body: unknown, opts: { raw?: boolean } = {}) =>
  async (_url: RequestInfo | URL, init?: RequestInit) => {
    fakeFetch.last = init;
    return new Response(opts.raw ? String(body) : JSON.stringify(body), { status });
  };
fakeFetch.last = undefined as RequestInit | undefined;

const call = (f: typeof fetch, token?: string) =>
  graphqlRequest<{ me: { user: string } }>({
    endpoint: 'http://api/graphql',
    query: '{ me { user } }',
    fetch: f,
    ...(token ? { token } : {}),
  });

describe('graphqlRequest', () => {
  it('returns data and sends the bearer token', async () => {
    await expect(call(fakeFetch(200, { data: { me: { user: 'alice' } } }), 't0k')).resolves.toEqual({
      me: { user: 'alice' },
    });
    expect((fakeFetch.last!.headers as Record<string, string>).authorization).toBe('Bearer t0k');
    expect(JSON.parse(fakeFetch.last!.body as string)).toEqual({ query: '{ me { user } }', variables: {} });
  });

  it('throws the first GraphQL error with its code', async () => {
    const err = await call(
      fakeFetch(200, {
        data: null,
        errors: [{ message: 'quota', extensions: { code: 'QUOTA_EXCEEDED', limit: 1 } }],
      }),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({
      code: 'QUOTA_EXCEEDED',
      message: 'quota',
      detail: { extensions: { limit: 1 } },
    });
  });

  it('keeps the code of errors sent with an HTTP error status', async () => {
    await expect(
      call(fakeFetch(401, { errors: [{ message: 'no token', extensions: { code: 'UNAUTHENTICATED' } }] })),
    ).rejects.toMatchObject({ code: 'UNAUTHENTICATED', detail: { status: 401 } });
  });

  it.each([
    [
      'an unknown code',
      fakeFetch(200, { errors: [{ message: 'x', extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }] }),
      'UNKNOWN',
    ],
    ['an HTTP error without GraphQL', fakeFetch(502, '<html>bad gateway</html>', { raw: true }), 'HTTP'],
    ['a body without data', fakeFetch(200, {}), 'BAD_RESPONSE'],
  ])('maps %s', async (_what, f, code) => {
    await expect(call(f)).rejects.toMatchObject({ code });
  });

  it('maps a failed fetch to NETWORK', async () => {
    const failing = async () => {
      throw new TypeError('Failed to fetch');
    };
    await expect(call(failing)).rejects.toMatchObject({ code: 'NETWORK' });
  });
});

describe('endpoints', () => {
  it.each([
    ['http://localhost:4000', 'http://localhost:4000/graphql', 'ws://localhost:4000/graphql'],
    [
      'https://vdi.example.com/api/',
      'https://vdi.example.com/api/graphql',
      'wss://vdi.example.com/api/graphql',
    ],
  ])('%s', (api, http, ws) => expect(endpoints(api)).toEqual({ http, ws }));
});
