/**
 * What the shipped manifests run a component with, for the benchmark to run it the same way:
 * every runtime setting of its Deployment in deploy/kustomize/base — the environment variables
 * Node, libuv and the C library read (V8's heap bounds in NODE_OPTIONS, the thread pool's size,
 * malloc's arenas), whatever the manifest sets today — over those its image sets (`ENV` in
 * apps/<component>/Dockerfile, e.g. NODE_ENV), as Kubernetes layers them. Read from the files,
 * never copied, so a change there changes what the benchmark measures.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';

const ROOT = path.resolve(import.meta.dirname, '../..');

export type ShippedComponent = 'operator' | 'api';

/** Environment variables that configure the runtime rather than the platform. */
export const RUNTIME_ENV = /^(NODE_OPTIONS|NODE_ENV|UV_[A-Z0-9_]+|MALLOC_[A-Z0-9_]+|GLIBC_TUNABLES)$/;

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: unknown;
}

interface Container {
  name?: string;
  env?: EnvVar[];
}

/** The manifest of `component`'s Deployment. */
export const deploymentFile = (component: ShippedComponent, root = ROOT) =>
  path.join(root, 'deploy/kustomize/base', component, 'deployment.yaml');

/**
 * Runtime settings the image of `component` sets: `ENV` instructions of the last stage of its
 * Dockerfile (`ENV A=b C="d e"`; the legacy `ENV A b` form too). Empty without a Dockerfile.
 */
export function imageRuntimeEnv(component: ShippedComponent, root = ROOT): Record<string, string> {
  const file = path.join(root, 'apps', component, 'Dockerfile');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return {};
  }
  const lines = text.replace(/\\\r?\n/g, ' ').split(/\r?\n/);
  const last = lines.findLastIndex((l) => /^\s*FROM\s/i.test(l));
  const out: Record<string, string> = {};
  for (const line of lines.slice(last + 1)) {
    const m = /^\s*ENV\s+(.*)$/i.exec(line);
    if (!m) continue;
    const body = m[1]!.trim();
    const pairs = [...body.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|'[^']*'|\S*)/g)];
    const entries: [string, string][] = pairs.length
      ? pairs.map((p) => [p[1]!, p[2]!.replace(/^(["'])(.*)\1$/, '$2')])
      : [[body.split(/\s+/)[0]!, body.split(/\s+/).slice(1).join(' ')]];
    for (const [k, v] of entries) if (RUNTIME_ENV.test(k)) out[k] = v;
  }
  return out;
}

/**
 * The runtime settings of the first container of `component`'s Deployment, by name (empty when
 * it sets none). A runtime setting taken from elsewhere (`valueFrom`) cannot be reproduced here:
 * that is an error naming it.
 */
export function deploymentRuntimeEnv(component: ShippedComponent, root = ROOT): Record<string, string> {
  const file = deploymentFile(component, root);
  for (const doc of parseAllDocuments(readFileSync(file, 'utf8'))) {
    const obj = doc.toJS() as {
      kind?: string;
      spec?: { template?: { spec?: { containers?: Container[] } } };
    } | null;
    if (obj?.kind !== 'Deployment') continue;
    const out: Record<string, string> = {};
    for (const e of obj.spec?.template?.spec?.containers?.[0]?.env ?? []) {
      if (!RUNTIME_ENV.test(e.name)) continue;
      if (e.value === undefined)
        throw new Error(
          `${file}: runtime setting ${e.name} has no literal value (valueFrom): the benchmark cannot run ` +
            `the ${component} with it; give it a value in the manifest`,
        );
      out[e.name] = String(e.value);
    }
    return out;
  }
  throw new Error(`${file}: no Deployment`);
}

/** Every runtime setting `component` ships with: its image's, then its Deployment's over them. */
export function shippedRuntimeEnv(component: ShippedComponent, root = ROOT): Record<string, string> {
  return { ...imageRuntimeEnv(component, root), ...deploymentRuntimeEnv(component, root) };
}

/**
 * `env` with every shipped runtime setting of `component` added (the manifest's win). NODE_OPTIONS
 * is joined rather than replaced: `env.NODE_OPTIONS` holds what the benchmark itself loads (its
 * probe), the manifest's options follow.
 */
export function withShippedRuntime(
  component: ShippedComponent,
  env: Record<string, string> = {},
  root = ROOT,
): Record<string, string> {
  const shipped = shippedRuntimeEnv(component, root);
  const nodeOptions = [env.NODE_OPTIONS, shipped.NODE_OPTIONS].filter(Boolean).join(' ');
  return { ...env, ...shipped, ...(nodeOptions ? { NODE_OPTIONS: nodeOptions } : {}) };
}
