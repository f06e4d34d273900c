import { projectConfigs } from '../../jest.preset.js';

// mercurius loads @fastify/static at import time, which `require`s content-disposition 3 — an
// ES module. Node 20.19+ can require() ES modules, jest's CommonJS loader cannot: compile that
// one package to CommonJS for the tests.
const esmDependency = {
  transform: {
    '/node_modules/content-disposition/.+\\.js$': ['@swc/jest', { module: { type: 'commonjs' } }],
    '^.+\\.(t|j)sx?$': [
      '@swc/jest',
      {
        jsc: {
          parser: { syntax: 'typescript', decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true },
          target: 'es2022',
          keepClassNames: true,
        },
        module: { type: 'es6' },
        sourceMaps: 'inline',
      },
    ],
  },
  transformIgnorePatterns: ['/node_modules/(?!content-disposition/)'],
};

export default {
  projects: projectConfigs(import.meta.dirname, 'api', {
    unit: esmDependency,
    integration: esmDependency,
    keycloak: true,
  }),
};
