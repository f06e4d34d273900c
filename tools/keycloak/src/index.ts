export {
  KEYCLOAK_VERSION,
  DEFAULT_PORT,
  DEFAULT_MANAGEMENT_PORT,
  REALM,
  CLIENTS,
  ROLES,
  DEMO_USERS,
  API_CLIENT_SECRET,
  BOOTSTRAP_ADMIN,
  loadKeycloakConfig,
  parseOrigins,
  realmEndpoints,
  type DemoUser,
  type KeycloakConfig,
  type KeycloakOptions,
} from './config.js';
export {
  start,
  stop,
  status,
  discoveryAnswers,
  logTail,
  type StartOptions,
  type StartResult,
  type StopOptions,
  type KeycloakStatus,
} from './keycloak.js';
export {
  passwordGrant,
  authorizationCodeLogin,
  introspect,
  fetchJwks,
  verifyJwt,
  decodeJwt,
  audiences,
  realmRoles,
  pkcePair,
  KeycloakHttpError,
  type TokenResponse,
  type Jwks,
  type VerifyOptions,
} from './tokens.js';
export { selectJava, pickJava, supportedJavaMajors, findJavaInstalls, type JavaInstall } from './java.js';
export { loadRealm, renderRealm, realmFile, type RealmRep } from './realm.js';
export { KeycloakAdmin, type NewUser, type UserRep } from './admin.js';
