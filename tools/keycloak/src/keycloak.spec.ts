import { loadKeycloakConfig } from './config.js';
import { startArgs, startEnv } from './keycloak.js';

describe('start-dev command line', () => {
  const args = startArgs(loadKeycloakConfig({ VDI_STATE_DIR: '/state' }));

  it('pins the hostname to one full URL and binds loopback only', () => {
    expect(args[0]).toBe('start-dev');
    expect(args).toContain('--hostname=http://localhost:8180');
    expect(args).toContain('--http-host=127.0.0.1');
    expect(args).toContain('--http-port=8180');
  });
  it('imports the realm into an in-memory database, with health on the management port', () => {
    expect(args).toEqual(
      expect.arrayContaining([
        '--import-realm',
        '--db=dev-mem',
        '--health-enabled=true',
        '--http-management-port=9180',
      ]),
    );
  });
  it('keeps the transaction object store in the state directory', () => {
    expect(args).toContain(
      '-Dquarkus.transaction-manager.object-store.directory=/state/keycloak/transaction-logs',
    );
  });
});

describe('start-dev environment', () => {
  it('drops KC_* settings of the calling shell and pins JAVA_HOME', () => {
    const env = startEnv(
      { PATH: '/bin', KC_DB: 'postgres', KC_HOSTNAME: 'evil', JAVA_OPTS: '-Xmx1g' },
      { home: '/jvm/25', major: 25, version: '25.0.3' },
    );
    expect(env.PATH).toBe('/bin');
    expect(env.KC_DB).toBeUndefined();
    expect(env.KC_HOSTNAME).toBeUndefined();
    expect(env.JAVA_OPTS).toBeUndefined();
    expect(env.JAVA_HOME).toBe('/jvm/25');
    expect(env.KC_BOOTSTRAP_ADMIN_USERNAME).toBe('kcadmin');
  });
});
