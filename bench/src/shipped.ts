/**
 * What the shipped manifests run a component with, for the benchmark to run it the same way:
 * the NODE_OPTIONS (V8 heap bounds) of its Deployment in deploy/kustomize/base.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';

const ROOT = path.resolve(import.meta.dirname, '../..');

interface Container {
  name?: string;
  env?: { name: string; value?: string }[];
}

/** NODE_OPTIONS of the first container of `component`'s Deployment, or undefined when it sets none. */
export function shippedNodeOptions(component: 'operator' | 'api', root = ROOT): string | undefined {
  const file = path.join(root, 'deploy/kustomize/base', component, 'deployment.yaml');
  for (const doc of parseAllDocuments(readFileSync(file, 'utf8'))) {
    const obj = doc.toJS() as {
      kind?: string;
      spec?: { template?: { spec?: { containers?: Container[] } } };
    } | null;
    if (obj?.kind !== 'Deployment') continue;
    const env = obj.spec?.template?.spec?.containers?.[0]?.env ?? [];
    return env.find((e) => e.name === 'NODE_OPTIONS')?.value;
  }
  throw new Error(`${file}: no Deployment`);
}

/** `env` with the shipped NODE_OPTIONS of `component` added (when it has any). */
export function withShippedNodeOptions(
  component: 'operator' | 'api',
  env: Record<string, string> = {},
): Record<string, string> {
  const options = shippedNodeOptions(component);
  return options ? { ...env, NODE_OPTIONS: options } : env;
}
