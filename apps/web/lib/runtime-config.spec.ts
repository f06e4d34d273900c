import { readRuntimeConfig, RuntimeConfigError } from './runtime-config';

describe('readRuntimeConfig', () => {
  it('uses the local platform defaults', () => {
    expect(readRuntimeConfig({})).toEqual({
      keycloakUrl: 'http://localhost:8180',
      realm: 'vdi',
      clientId: 'vdi-portal',
      apiUrl: 'http://localhost:4000',
    });
  });
  it('drops trailing slashes so paths can be appended', () => {
    expect(readRuntimeConfig({ VDI_KEYCLOAK_URL: 'https://sso.example.com/' }).keycloakUrl).toBe(
      'https://sso.example.com',
    );
  });
  it.each([
    ['VDI_KEYCLOAK_URL', 'sso.example.com'],
    ['VDI_API_URL', 'ftp://x'],
  ])('rejects %s=%s naming it', (k, v) => {
    expect(() => readRuntimeConfig({ [k]: v })).toThrow(RuntimeConfigError);
    expect(() => readRuntimeConfig({ [k]: v })).toThrow(k);
  });
});
