import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { Type } from '@sinclair/typebox';
import { crdFiles, crdManifests, toOpenApi } from './crd.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const crdDir = path.resolve(import.meta.dirname, '../../../deploy/kustomize/base/crds');

describe('generated CRD YAML', () => {
  it('matches the committed files (run `npm run crds:generate` after changing a schema)', () => {
    const files = crdFiles();
    for (const [name, text] of Object.entries(files)) {
      expect(readFileSync(path.join(crdDir, name), 'utf8')).toBe(text);
    }
    const committed = readdirSync(crdDir).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
    expect(committed.sort()).toEqual(Object.keys(files).sort());
  });
});

describe('crdManifests', () => {
  const { vdisessions, vditemplates } = crdManifests();

  it('makes sessions namespaced and templates cluster-scoped, both in the vdi category with a status subresource', () => {
    expect(vdisessions.spec.scope).toBe('Namespaced');
    expect(vditemplates.spec.scope).toBe('Cluster');
    for (const c of [vdisessions, vditemplates]) {
      expect(c.spec.names.categories).toEqual(['vdi']);
      expect(c.spec.versions[0]!.subresources).toEqual({ status: {} });
    }
    expect(vdisessions.spec.names.shortNames).toContain('vdis');
  });

  it('prints User, Template, Phase, URL and Age for sessions', () => {
    const cols = vdisessions.spec.versions[0]!.additionalPrinterColumns.filter((c) => !c.priority).map(
      (c) => c.name,
    );
    expect(cols).toEqual(['User', 'Template', 'Phase', 'URL', 'Age']);
  });

  it('prints the waiting reason and the phase timings with -o wide', () => {
    const wide = vdisessions.spec.versions[0]!.additionalPrinterColumns.filter((c) => c.priority === 1);
    expect(wide.map((c) => [c.name, c.jsonPath])).toEqual(
      expect.arrayContaining([
        ['Reason', '.status.reason'],
        ['Queued', '.status.queuedAt'],
        ['Ready', '.status.readyAt'],
      ]),
    );
  });
});

describe('the retired flag of templates', () => {
  const { vditemplates } = crdManifests();
  const schema = vditemplates.spec.versions[0]!.schema.openAPIV3Schema.properties.spec as {
    properties: Record<string, Json>;
    required?: string[];
  };

  it('is an optional boolean the API server defaults to false, shown by kubectl get', () => {
    expect(schema.properties.retired).toMatchObject({ type: 'boolean', default: false });
    expect(schema.required ?? []).not.toContain('retired');
    expect(
      vditemplates.spec.versions[0]!.additionalPrinterColumns.find((c) => c.name === 'Retired'),
    ).toMatchObject({ type: 'boolean', jsonPath: '.spec.retired' });
  });
});

describe('toOpenApi', () => {
  it('drops defaulted properties from required and keeps the rest', () => {
    const s = Type.Object({
      a: Type.String(),
      b: Type.String({ default: 'x' }),
      c: Type.Optional(Type.String()),
    });
    expect(toOpenApi(s)).toEqual({
      type: 'object',
      required: ['a'],
      properties: { a: { type: 'string' }, b: { type: 'string', default: 'x' }, c: { type: 'string' } },
    });
  });
});
