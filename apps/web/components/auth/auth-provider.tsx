'use client';
/**
 * The portal's one keycloak-js instance and what pages need from it: who is logged in, log in and
 * out, and an API client whose requests carry a fresh access token. The instance is created once
 * per page load (keycloak-js may be initialised only once; React runs effects twice in
 * development), with a silent check-sso so a user who is already logged in at Keycloak is let in
 * without a click, and the authorization code flow with PKCE (S256).
 */
import Keycloak from 'keycloak-js';
import { createContext, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { ApiError, endpoints, graphqlRequest } from '../../lib/api/graphql';
import { ME, type MeData } from '../../lib/api/operations';
import type { SessionOwner } from '../../lib/api/types';
import type { RuntimeConfig } from '../../lib/runtime-config';

export interface PortalUser {
  username: string;
  name: string;
  isAdmin: boolean;
  /**
   * The identity that owns sessions (issuer + subject), as the API reads it from the token (`me`);
   * undefined until the API has answered.
   */
  owner?: SessionOwner;
}

export type AuthStatus = 'loading' | 'anonymous' | 'authenticated' | 'error';

export interface Api {
  /** POSTs one GraphQL operation with a fresh token; throws ApiError. */
  request<T>(query: string, variables?: Record<string, unknown>): Promise<T>;
  /** The API's graphql-ws URL, for live subscriptions. */
  wsUrl: string;
  /** A valid access token (refreshed when it has less than 30 s left). */
  token(): Promise<string>;
}

export interface AuthContextValue {
  status: AuthStatus;
  user?: PortalUser;
  /** Why the login check failed (status 'error'), in words. */
  problem?: string;
  /** Sends the browser to Keycloak's login page, returning to `returnTo` (default: here). */
  login(returnTo?: string): void;
  logout(): void;
  api: Api;
}

const AuthContext = createContext<AuthContextValue | undefined>(undefined);

/** The admin role of the realm (tools/keycloak/realm/vdi-realm.json). */
const ADMIN_ROLE = 'vdi-admin';
/** Refresh the access token when it has less than this many seconds left. */
const MIN_VALIDITY_SECONDS = 30;

let shared: { kc: Keycloak; ready: Promise<boolean> } | undefined;

function keycloak(config: RuntimeConfig) {
  if (!shared) {
    const kc = new Keycloak({ url: config.keycloakUrl, realm: config.realm, clientId: config.clientId });
    const ready = kc.init({
      onLoad: 'check-sso',
      silentCheckSsoRedirectUri: `${window.location.origin}/silent-check-sso.html`,
      pkceMethod: 'S256',
      // The session-status iframe polls Keycloak every few seconds; token refresh already
      // notices a login that ended elsewhere.
      checkLoginIframe: false,
      // Every start (also the return from the login page) first asks a hidden Keycloak iframe
      // whether third-party cookies work; 10 s (the default) is too short for a busy machine or a
      // slow phone, and a timeout would throw away a login that just succeeded.
      messageReceiveTimeout: 30_000,
    });
    shared = { kc, ready };
  }
  return shared;
}

function userOf(kc: Keycloak): PortalUser {
  const t = (kc.tokenParsed ?? {}) as {
    preferred_username?: string;
    name?: string;
    realm_access?: { roles?: string[] };
  };
  const username = t.preferred_username ?? kc.subject ?? 'unknown';
  return {
    username,
    name: t.name ?? username,
    isAdmin: t.realm_access?.roles?.includes(ADMIN_ROLE) ?? false,
  };
}

export function AuthProvider({ config, children }: { config: RuntimeConfig; children: ReactNode }) {
  const [state, setState] = useState<Pick<AuthContextValue, 'status' | 'user' | 'problem'>>({
    status: 'loading',
  });
  const [me, setMe] = useState<Pick<PortalUser, 'owner' | 'isAdmin'>>();

  useEffect(() => {
    const { kc, ready } = keycloak(config);
    let live = true;
    const update = () => {
      if (!live) return;
      setState(kc.authenticated ? { status: 'authenticated', user: userOf(kc) } : { status: 'anonymous' });
    };
    kc.onAuthSuccess = update;
    kc.onAuthRefreshSuccess = update;
    kc.onAuthLogout = update;
    kc.onAuthRefreshError = () => live && setState({ status: 'anonymous' });
    kc.onTokenExpired = () => {
      kc.updateToken(MIN_VALIDITY_SECONDS).catch(() => live && setState({ status: 'anonymous' }));
    };
    ready.then(update, (err: unknown) => {
      if (!live) return;
      setState({
        status: 'error',
        problem: `The login service at ${config.keycloakUrl} did not answer${
          err instanceof Error && err.message ? ` (${err.message})` : ''
        }. Reload the page to try again.`,
      });
    });
    return () => {
      live = false;
    };
  }, [config]);

  // Depends on the configuration only, so pages' effects that use it do not re-run on every change.
  const api = useMemo<Api>(() => {
    const { http, ws } = endpoints(config.apiUrl);
    const token = async () => {
      const { kc, ready } = keycloak(config);
      await ready;
      if (!kc.authenticated) throw new ApiError('UNAUTHENTICATED', 'not logged in');
      try {
        await kc.updateToken(MIN_VALIDITY_SECONDS);
      } catch {
        setState({ status: 'anonymous' });
        throw new ApiError('UNAUTHENTICATED', 'the login session has ended');
      }
      return kc.token!;
    };
    return {
      wsUrl: ws,
      token,
      request: async <T,>(query: string, variables?: Record<string, unknown>) =>
        graphqlRequest<T>({
          endpoint: http,
          token: await token(),
          query,
          ...(variables ? { variables } : {}),
        }),
    };
  }, [config]);

  // The API's view of the user: the identity that owns sessions, and the admin role as it sees it.
  const loggedIn = state.status === 'authenticated';
  useEffect(() => {
    if (!loggedIn) return;
    let live = true;
    api.request<MeData>(ME).then(
      ({ me: m }) => live && setMe({ owner: { issuer: m.issuer, subject: m.subject }, isAdmin: m.isAdmin }),
      // Without it the portal still works: the pages' own requests report what is wrong.
      () => undefined,
    );
    return () => {
      live = false;
    };
  }, [loggedIn, api]);

  const value = useMemo<AuthContextValue>(
    () => ({
      status: state.status,
      ...(state.problem ? { problem: state.problem } : {}),
      ...(state.user ? { user: { ...state.user, ...me } } : {}),
      login: (returnTo) => void keycloak(config).kc.login({ redirectUri: returnTo ?? window.location.href }),
      logout: () => void keycloak(config).kc.logout({ redirectUri: `${window.location.origin}/` }),
      api,
    }),
    [config, state, me, api],
  );

  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthContextValue {
  const v = useContext(AuthContext);
  if (!v) throw new Error('useAuth must be used inside <AuthProvider>');
  return v;
}
