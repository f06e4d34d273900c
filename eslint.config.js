// One lint setup for the whole monorepo. Module boundaries are enforced, not advisory:
// apps depend on libs (never on each other), libs only on libs, and test helpers stay in tests.
import nx from '@nx/eslint-plugin';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

/**
 * The module-boundary rule. Production code: apps → libs (and test helpers only through the
 * rule below), libs → libs, each app's scope only → shared. Tests additionally reach the test
 * helpers and the local tools, across scopes.
 */
function boundaries(tests) {
  const extra = (tags) => (tests ? tags : []);
  return [
    'error',
    {
      enforceBuildableLibDependency: false,
      allow: [],
      depConstraints: [
        {
          sourceTag: 'type:app',
          onlyDependOnLibsWithTags: ['type:lib', 'type:testing', ...extra(['type:tool'])],
        },
        { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib', ...extra(['type:testing'])] },
        { sourceTag: 'type:testing', onlyDependOnLibsWithTags: ['type:lib', 'type:tool'] },
        { sourceTag: 'type:tool', onlyDependOnLibsWithTags: ['type:lib', 'type:tool', 'type:testing'] },
        ...(tests
          ? []
          : [
              { sourceTag: 'scope:operator', onlyDependOnLibsWithTags: ['scope:shared'] },
              { sourceTag: 'scope:api', onlyDependOnLibsWithTags: ['scope:shared'] },
              { sourceTag: 'scope:web', onlyDependOnLibsWithTags: ['scope:shared'] },
              { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared', 'scope:tools'] },
            ]),
      ],
    },
  ];
}

export default [
  {
    ignores: [
      '**/node_modules/**',
      '**/dist/**',
      '**/.next/**',
      '**/.build/**',
      '**/.nx/**',
      '**/coverage/**',
      'tools/controlplane/go/**',
      '**/next-env.d.ts',
    ],
  },
  ...nx.configs['flat/base'],
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.tsx', '**/*.js'],
    rules: {
      '@nx/enforce-module-boundaries': boundaries(false),
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Tests may use the test helpers and the local tools (Keycloak, the control plane); the rule
    // above keeps them out of production code.
    // e2e/ folders hold browser tests and their helpers only.
    files: ['**/*.spec.ts', '**/*.spec.tsx', '**/test/**/*.ts', '**/e2e/**/*.ts'],
    rules: { '@nx/enforce-module-boundaries': boundaries(true) },
  },
  {
    // The test helpers start clusters and create namespaces: production code must never import them.
    files: ['apps/**/*.ts', 'apps/**/*.tsx', 'libs/crd-types/**/*.ts', 'libs/session-spec/**/*.ts'],
    ignores: ['**/*.spec.ts', '**/*.spec.tsx', '**/test/**', '**/e2e/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@vdi/testing', '@vdi/testing/*'],
              message: 'test helpers are for *.spec.ts files only',
            },
          ],
        },
      ],
    },
  },
  {
    // Tool configuration files import the shared root presets by path on purpose.
    files: ['**/jest.config.js', '**/next.config.js', '*.js'],
    rules: { '@nx/enforce-module-boundaries': 'off' },
  },
  prettier,
];
