/**
 * The local Keycloak's realm issuer. The global setup of the integration projects that log in
 * (`projectConfigs(…, { keycloak: true })` in jest.preset.js) starts or reuses Keycloak before any
 * test and exports the issuer as $VDI_TEST_KEYCLOAK_ISSUER; tests only read it.
 */
export function keycloakIssuer(): string {
  const issuer = process.env.VDI_TEST_KEYCLOAK_ISSUER;
  if (!issuer)
    throw new Error(
      'VDI_TEST_KEYCLOAK_ISSUER is not set: run this test in an integration project with `keycloak: true` in its jest config, whose global setup starts Keycloak',
    );
  return issuer;
}
