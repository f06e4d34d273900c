/** The install overlays as objects: `kustomize build deploy/kustomize/overlays/<name>`. */
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { kustomize, repoRoot, run } from './tools.js';

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
  [key: string]: unknown;
}

export const OVERLAYS = ['dev', 'prod'] as const;
export type Overlay = (typeof OVERLAYS)[number];

/** `dev`, `prod`, or `kind` (deploy/kind: the dev overlay adapted to kind). */
export function buildOverlay(name: Overlay | 'kind'): KubeObject[] {
  const dir =
    name === 'kind'
      ? path.join(repoRoot, 'deploy', 'kind')
      : path.join(repoRoot, 'deploy', 'kustomize', 'overlays', name);
  const r = run(kustomize(), ['build', dir]);
  if (r.status !== 0) throw new Error(`kustomize build ${dir} failed:\n${r.stderr}`);
  return parseAllDocuments(r.stdout)
    .map((d) => d.toJSON() as KubeObject | null)
    .filter((o): o is KubeObject => o !== null);
}

export const objectKey = (o: KubeObject): string =>
  `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`;

export function find(objects: KubeObject[], kind: string, name: string): KubeObject {
  const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
  if (!o) throw new Error(`no ${kind} ${name} in the overlay`);
  return o;
}
