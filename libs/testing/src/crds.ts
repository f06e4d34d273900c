import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import type * as k8s from '@kubernetes/client-node';
import { waitFor } from './namespace.js';
import { kubeRequest } from './raw.js';

const crdDir = path.resolve(import.meta.dirname, '../../../deploy/kustomize/base/crds');

/** Server-side applies the platform's generated CRDs (as committed) and waits until they are Established. */
export async function installCrds(kc: k8s.KubeConfig): Promise<void> {
  const files = readdirSync(crdDir).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
  for (const f of files) {
    for (const doc of parseAllDocuments(readFileSync(path.join(crdDir, f), 'utf8'))) {
      const crd = doc.toJSON() as { metadata: { name: string } };
      const url = `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.metadata.name}?fieldManager=vdi-tests&force=true`;
      const r = await kubeRequest(kc, 'PATCH', url, crd, 'application/apply-patch+yaml');
      if (r.status >= 300) throw new Error(`applying CRD ${crd.metadata.name} failed: ${r.text}`);
      await waitFor(`CRD ${crd.metadata.name} Established`, async () => {
        const got = await kubeRequest(
          kc,
          'GET',
          `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.metadata.name}`,
        );
        const conds =
          (got.body.status as { conditions?: { type: string; status: string }[] })?.conditions ?? [];
        return conds.some((c) => c.type === 'Established' && c.status === 'True');
      });
    }
  }
}
