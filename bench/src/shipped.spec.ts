import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { shippedNodeOptions, withShippedNodeOptions } from './shipped.js';

describe('shippedNodeOptions', () => {
  it('reads the V8 heap bounds the shipped Deployments run the operator and the API with', () => {
    for (const component of ['operator', 'api'] as const) {
      const options = shippedNodeOptions(component);
      expect(options).toMatch(/--max-old-space-size=\d+/);
      expect(withShippedNodeOptions(component, { A: '1' })).toEqual({ A: '1', NODE_OPTIONS: options });
    }
  });

  it('is undefined for a Deployment without NODE_OPTIONS, and fails for a file without a Deployment', () => {
    const root = mkdtempSync(path.join(tmpdir(), 'shipped-'));
    const dir = path.join(root, 'deploy/kustomize/base/operator');
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      path.join(dir, 'deployment.yaml'),
      'apiVersion: v1\nkind: Service\n---\napiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n        - name: operator\n          env: [{ name: A, value: b }]\n',
    );
    expect(shippedNodeOptions('operator', root)).toBeUndefined();
    expect(() => shippedNodeOptions('api', root)).toThrow();
    writeFileSync(path.join(dir, 'deployment.yaml'), 'apiVersion: v1\nkind: Service\n');
    expect(() => shippedNodeOptions('operator', root)).toThrow(/no Deployment/);
  });
});
