import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import {
  RUNTIME_ENV,
  deploymentFile,
  deploymentRuntimeEnv,
  imageRuntimeEnv,
  shippedRuntimeEnv,
  withShippedRuntime,
} from './shipped.js';

const scratch: string[] = [];
afterAll(() => {
  for (const d of scratch) rmSync(d, { recursive: true, force: true });
});

/** A scratch repository root with a Deployment (and optionally a Dockerfile) for `component`. */
function fixture(component: 'operator' | 'api', env: string, dockerfile?: string): string {
  const root = mkdtempSync(path.join(tmpdir(), 'shipped-'));
  scratch.push(root);
  const dir = path.join(root, 'deploy/kustomize/base', component);
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    path.join(dir, 'deployment.yaml'),
    'apiVersion: v1\nkind: Service\n---\napiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n' +
      `      containers:\n        - name: ${component}\n          env: ${env}\n        - name: sidecar\n` +
      '          env: [{ name: UV_THREADPOOL_SIZE, value: "64" }]\n',
  );
  if (dockerfile !== undefined) {
    mkdirSync(path.join(root, 'apps', component), { recursive: true });
    writeFileSync(path.join(root, 'apps', component, 'Dockerfile'), dockerfile);
  }
  return root;
}

describe('the runtime settings the operator and the API ship with', () => {
  it.each(['operator', 'api'] as const)(
    'reads every runtime setting of the %s Deployment as the manifest states it',
    (component) => {
      // The manifest read independently: every runtime variable of the first container, by value.
      const doc = parseAllDocuments(readFileSync(deploymentFile(component), 'utf8'))
        .map((d) => d.toJS())
        .find((o: { kind?: string }) => o?.kind === 'Deployment');
      const env: { name: string; value?: string }[] = doc.spec.template.spec.containers[0].env;
      const expected = Object.fromEntries(
        env.filter((e) => RUNTIME_ENV.test(e.name)).map((e) => [e.name, e.value]),
      );
      expect(Object.keys(expected)).toContain('NODE_OPTIONS');
      expect(deploymentRuntimeEnv(component)).toEqual(expected);
      const shipped = shippedRuntimeEnv(component);
      expect(shipped).toMatchObject(expected);
      // The image's settings (NODE_ENV=production) lie under the Deployment's.
      expect(shipped.NODE_ENV).toBe('production');
      expect(shipped.NODE_OPTIONS).toMatch(/--max-old-space-size=\d+/);
    },
  );

  it('reads NODE_OPTIONS, MALLOC_* and UV_* of the first container and leaves platform settings out', () => {
    const root = fixture(
      'operator',
      '[{ name: NODE_OPTIONS, value: --max-old-space-size=100 }, { name: MALLOC_ARENA_MAX, value: "2" }, ' +
        '{ name: UV_THREADPOOL_SIZE, value: "8" }, { name: VDI_METRICS_PORT, value: "8080" }, ' +
        '{ name: VDI_POD_NAME, valueFrom: { fieldRef: { fieldPath: metadata.name } } }]',
    );
    expect(shippedRuntimeEnv('operator', root)).toEqual({
      NODE_OPTIONS: '--max-old-space-size=100',
      MALLOC_ARENA_MAX: '2',
      UV_THREADPOOL_SIZE: '8',
    });
  });

  it('layers the Deployment over the image’s ENV of the last stage', () => {
    const root = fixture(
      'api',
      '[{ name: MALLOC_ARENA_MAX, value: "2" }]',
      'FROM node AS build\nENV NODE_ENV=development MALLOC_ARENA_MAX=9\nFROM node:slim\n' +
        'ENV NODE_ENV=production HOST=0.0.0.0 \\\n  MALLOC_TRIM_THRESHOLD_="131072"\nENV UV_THREADPOOL_SIZE 6\n',
    );
    expect(imageRuntimeEnv('api', root)).toEqual({
      NODE_ENV: 'production',
      MALLOC_TRIM_THRESHOLD_: '131072',
      UV_THREADPOOL_SIZE: '6',
    });
    expect(shippedRuntimeEnv('api', root)).toEqual({
      NODE_ENV: 'production',
      MALLOC_TRIM_THRESHOLD_: '131072',
      UV_THREADPOOL_SIZE: '6',
      MALLOC_ARENA_MAX: '2',
    });
  });

  it('adds them to an environment, joining NODE_OPTIONS after the benchmark’s own', () => {
    const root = fixture('operator', '[{ name: NODE_OPTIONS, value: --max-semi-space-size=4 }]');
    expect(withShippedRuntime('operator', { A: '1', NODE_OPTIONS: '--import=probe.mjs' }, root)).toEqual({
      A: '1',
      NODE_OPTIONS: '--import=probe.mjs --max-semi-space-size=4',
    });
    expect(withShippedRuntime('operator', { A: '1' }, root)).toEqual({
      A: '1',
      NODE_OPTIONS: '--max-semi-space-size=4',
    });
    const none = fixture('operator', '[{ name: A, value: b }]');
    expect(withShippedRuntime('operator', { A: '1' }, none)).toEqual({ A: '1' });
  });

  it('refuses a runtime setting it cannot reproduce, and a file without a Deployment', () => {
    const root = fixture(
      'operator',
      '[{ name: NODE_OPTIONS, valueFrom: { configMapKeyRef: { name: x, key: y } } }]',
    );
    expect(() => shippedRuntimeEnv('operator', root)).toThrow(/NODE_OPTIONS has no literal value/);
    expect(() => shippedRuntimeEnv('api', root)).toThrow();
    writeFileSync(deploymentFile('operator', root), 'apiVersion: v1\nkind: Service\n');
    expect(() => shippedRuntimeEnv('operator', root)).toThrow(/no Deployment/);
  });
});
