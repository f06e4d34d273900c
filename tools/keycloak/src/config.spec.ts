import { loadKeycloakConfig, parseOrigins, realmEndpoints } from './config.js';

describe('loadKeycloakConfig', () => {
  it('pins the issuer to http://localhost:8180 and talks to 127.0.0.1', () => {
    const c = loadKeycloakConfig({});
    expect(c.port).toBe(8180);
    expect(c.managementPort).toBe(9180);
    expect(c.issuer).toBe('http://localhost:8180/realms/vdi');
    expect(c.internalUrl).toBe('http://127.0.0.1:8180');
    expect(c.stateDir).toMatch(/\.vdi\/keycloak$/);
    expect(c.cacheDir).toMatch(/\.cache\/vdi-platform\/keycloak$/);
    expect(c.version).toMatch(/^26\.\d+\.\d+$/);
  });
  it('honours VDI_KEYCLOAK_PORT, VDI_STATE_DIR and VDI_CACHE', () => {
    const c = loadKeycloakConfig({ VDI_KEYCLOAK_PORT: '18180', VDI_STATE_DIR: '/s', VDI_CACHE: '/c' });
    expect(c.issuer).toBe('http://localhost:18180/realms/vdi');
    expect(c.stateDir).toBe('/s/keycloak');
    expect(c.cacheDir).toBe('/c/keycloak');
  });
  it('names the variable of an invalid port, and refuses equal ports', () => {
    expect(() => loadKeycloakConfig({ VDI_KEYCLOAK_PORT: 'x' })).toThrow(/VDI_KEYCLOAK_PORT/);
    expect(() => loadKeycloakConfig({ VDI_KEYCLOAK_PORT: '9180' })).toThrow(/VDI_KEYCLOAK_MANAGEMENT_PORT/);
  });
  it('gives the realm endpoints under the public and the internal address', () => {
    const e = realmEndpoints(loadKeycloakConfig({}));
    expect(e.public.jwks).toBe('http://localhost:8180/realms/vdi/protocol/openid-connect/certs');
    expect(e.internal.token).toBe('http://127.0.0.1:8180/realms/vdi/protocol/openid-connect/token');
    expect(e.public.discovery).toBe('http://localhost:8180/realms/vdi/.well-known/openid-configuration');
  });
});

describe('parseOrigins', () => {
  it('reads comma-separated origins', () => {
    expect(parseOrigins(' http://portal.vdi.localhost:8080, https://vdi.example.com/')).toEqual([
      'http://portal.vdi.localhost:8080',
      'https://vdi.example.com',
    ]);
    expect(parseOrigins(undefined)).toEqual([]);
    expect(parseOrigins('')).toEqual([]);
  });
  it.each(['portal.vdi.localhost', 'http://*.vdi.localhost', 'http://x/path', 'ftp://x'])(
    'refuses %p with an example of the format',
    (o) => expect(() => parseOrigins(o)).toThrow(/VDI_PORTAL_ORIGINS.*e\.g\. http:\/\/portal/),
  );
});
