// Shared jest settings for every project of the monorepo.
//
// The code is ESM (package.json "type": "module", TypeScript "module": "NodeNext") because
// @kubernetes/client-node 1.x ships only ESM. Jest therefore runs in its native-ESM mode
// (node --experimental-vm-modules, set by tools/testing and the Nx targets) and compiles
// TypeScript with SWC, which also emits the decorator metadata NestJS needs. Relative imports
// are written with ".js" as NodeNext requires; the mapper below sends them to the ".ts" source.
// Workspace libraries resolve to their TypeScript sources through the "@vdi/source" export
// condition, so tests never need a prior build.
import path from 'node:path';

const swc = {
  jsc: {
    parser: { syntax: 'typescript', decorators: true, tsx: true },
    transform: { legacyDecorator: true, decoratorMetadata: true, react: { runtime: 'automatic' } },
    target: 'es2022',
    keepClassNames: true,
  },
  module: { type: 'es6' },
  sourceMaps: 'inline',
};

const common = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts', '.tsx'],
  transform: { '^.+\\.(t|j)sx?$': ['@swc/jest', swc] },
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testEnvironmentOptions: { customExportConditions: ['@vdi/source', 'node', 'node-addons'] },
  moduleFileExtensions: ['ts', 'tsx', 'js', 'mjs', 'json'],
  modulePathIgnorePatterns: ['<rootDir>/.next/', '<rootDir>/dist/'],
};

/**
 * The jest projects of one workspace project: `unit` runs `*.spec.ts` beside the code (pure,
 * no cluster); `integration` runs `*.int.spec.ts` against the real local control plane (and
 * whatever else the test starts), serially within the project. `extra.keycloak`: the integration
 * tier logs in through the local Keycloak, which its global setup starts before any test.
 */
export function projectConfigs(dir, name, extra = {}) {
  const rootDir = path.resolve(dir);
  return [
    {
      ...common,
      ...extra.unit,
      displayName: `${name}:unit`,
      rootDir,
      testMatch: ['<rootDir>/**/*.spec.ts?(x)'],
      testPathIgnorePatterns: ['/node_modules/', '/dist/', '/.next/', '\\.int\\.spec\\.tsx?$'],
    },
    {
      ...common,
      ...extra.integration,
      displayName: `${name}:integration`,
      rootDir,
      testMatch: ['<rootDir>/**/*.int.spec.ts'],
      testPathIgnorePatterns: ['/node_modules/', '/dist/', '/.next/'],
      globalSetup: path.resolve(
        import.meta.dirname,
        extra.keycloak ? 'libs/testing/global-setup-keycloak.mjs' : 'libs/testing/global-setup.mjs',
      ),
      setupFilesAfterEnv: [path.resolve(import.meta.dirname, 'libs/testing/setup-integration.mjs')],
    },
  ];
}
