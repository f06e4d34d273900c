import { describe, expect, it } from '@jest/globals';
import type { V1Pod } from '@kubernetes/client-node';
import {
  authorizationSha256,
  basicAuthSecretRefs,
  mergeSessionMaps,
  normalizeAddress,
  podBasicAuth,
  sessionMapFromPods,
} from './session-map.js';

function pod(
  name: string,
  ip: string | undefined,
  extra: { session?: string; created?: string; deleting?: boolean; owner?: string } = {},
): V1Pod {
  return {
    metadata: {
      name,
      namespace: 'team-a',
      creationTimestamp: new Date(extra.created ?? '2026-01-01T00:00:00Z'),
      labels: extra.session === undefined ? {} : { 'vdi.kasm.io/session': extra.session },
      ...(extra.owner ? { annotations: { 'vdi.kasm.io/user': extra.owner } } : {}),
      ...(extra.deleting ? { deletionTimestamp: new Date() } : {}),
    },
    status: ip ? { podIP: ip } : {},
  };
}

describe('sessionMapFromPods', () => {
  it('maps the pod IP of each session pod to its session, namespace, pod and owner', () => {
    expect(
      sessionMapFromPods(
        [
          pod('s1-desktop', '198.18.0.5', { session: 's1', owner: 'alice' }),
          pod('s2-desktop', '198.18.3.9', { session: 's2' }),
        ],
        '198.18.0.0/16',
      ),
    ).toEqual({
      '198.18.0.5': { session: 's1', namespace: 'team-a', pod: 's1-desktop', owner: 'alice' },
      '198.18.3.9': { session: 's2', namespace: 'team-a', pod: 's2-desktop' },
    });
  });

  it.each([
    ['a pod without the session label', pod('other', '198.18.0.7')],
    ['a pod without an IP yet', pod('s3-desktop', undefined, { session: 's3' })],
    ['an IP outside the pod range', pod('s4-desktop', '10.42.0.4', { session: 's4' })],
    ['an IPv6 address', pod('s5-desktop', 'fd00::5', { session: 's5' })],
    ['a pod being deleted', pod('s6-desktop', '198.18.0.8', { session: 's6', deleting: true })],
  ])('leaves out %s', (_what, p) => {
    expect(sessionMapFromPods([p], '198.18.0.0/16')).toEqual({});
  });

  it('gives a reused IP to the newer pod, in either order', () => {
    const old = pod('old', '198.18.0.9', { session: 'old', created: '2026-01-01T00:00:00Z' });
    const fresh = pod('new', '198.18.0.9', { session: 'new', created: '2026-01-02T00:00:00Z' });
    expect(sessionMapFromPods([old, fresh], '198.18.0.0/16')['198.18.0.9']!.session).toBe('new');
    expect(sessionMapFromPods([fresh, old], '198.18.0.0/16')['198.18.0.9']!.session).toBe('new');
  });
});

describe('normalizeAddress', () => {
  it('unwraps IPv4-mapped IPv6', () => {
    expect(normalizeAddress('::ffff:198.18.0.5')).toBe('198.18.0.5');
    expect(normalizeAddress('198.18.0.5')).toBe('198.18.0.5');
    expect(normalizeAddress(undefined)).toBe('');
  });
});

describe('mergeSessionMaps', () => {
  it('lets the most recently written map win for an IP', () => {
    const a = { '198.18.0.1': { session: 'a', namespace: 'n', pod: 'a' } };
    const b = { '198.18.0.1': { session: 'b', namespace: 'n', pod: 'b' } };
    expect(
      mergeSessionMaps([
        { writtenAt: 2, map: b },
        { writtenAt: 1, map: a },
      ])['198.18.0.1']!.session,
    ).toBe('b');
    expect(
      mergeSessionMaps([
        { writtenAt: 1, map: b },
        { writtenAt: 2, map: a },
      ])['198.18.0.1']!.session,
    ).toBe('a');
  });
});

describe('podBasicAuth (Selkies’ own lock, from the pod’s environment)', () => {
  const withEnv = (env: { name: string; value?: string; valueFrom?: unknown }[]): V1Pod => ({
    ...pod('s1-desktop', '198.18.0.5', { session: 's1' }),
    spec: { containers: [{ name: 'desktop', env: env as never }] },
  });
  const fromSecret = {
    name: 'SELKIES_BASIC_AUTH_PASSWORD',
    valueFrom: { secretKeyRef: { name: 's1-auth', key: 'password' } },
  };
  const header = (user: string, password: string) =>
    `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

  it('is off unless SELKIES_ENABLE_BASIC_AUTH is true', () => {
    expect(podBasicAuth(withEnv([]), () => undefined)).toBeUndefined();
    expect(
      podBasicAuth(withEnv([{ name: 'SELKIES_ENABLE_BASIC_AUTH', value: 'false' }, fromSecret]), () => ({
        password: 'p',
      })),
    ).toBeUndefined();
  });

  it('wants user vdi (or SELKIES_BASIC_AUTH_USER) and the password of the session’s Secret, as a hash', () => {
    const env = [{ name: 'SELKIES_ENABLE_BASIC_AUTH', value: 'true' }, fromSecret];
    const lookup = (ns: string, name: string) =>
      ns === 'team-a' && name === 's1-auth' ? { password: 'pw-of-s1' } : undefined;
    expect(podBasicAuth(withEnv(env), lookup)).toEqual({
      user: 'vdi',
      authorizationSha256: authorizationSha256(header('vdi', 'pw-of-s1')),
    });
    expect(
      podBasicAuth(withEnv([...env, { name: 'SELKIES_BASIC_AUTH_USER', value: 'ubuntu' }]), lookup),
    ).toEqual({ user: 'ubuntu', authorizationSha256: authorizationSha256(header('ubuntu', 'pw-of-s1')) });
    expect(JSON.stringify(sessionMapFromPods([withEnv(env)], '198.18.0.0/16', lookup))).not.toContain(
      'pw-of-s1',
    );
  });

  it('refuses everything when the password cannot be read', () => {
    const env = [{ name: 'SELKIES_ENABLE_BASIC_AUTH', value: 'true' }, fromSecret];
    expect(podBasicAuth(withEnv(env), () => undefined)).toEqual({
      unreadable: 'the password in Secret s1-auth, key password, could not be read',
    });
    expect(podBasicAuth(withEnv([env[0]!]), () => undefined)).toEqual({
      unreadable: 'basic auth is on but SELKIES_BASIC_AUTH_PASSWORD is not set',
    });
  });

  it('names the Secrets to read, once each', () => {
    const env = [{ name: 'SELKIES_ENABLE_BASIC_AUTH', value: 'true' }, fromSecret];
    expect(basicAuthSecretRefs([withEnv(env), withEnv(env), withEnv([])])).toEqual([
      { namespace: 'team-a', name: 's1-auth' },
    ]);
  });
});
