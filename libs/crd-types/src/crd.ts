/**
 * The CustomResourceDefinitions of the platform, computed from the schemas in v1alpha1.ts.
 * `deploy/kustomize/base/crds/*.yaml` is generated from this (`npm run crds:generate`) and a
 * unit test fails when the committed files differ.
 */
import type { TSchema } from '@sinclair/typebox';
import { stringify } from 'yaml';
import {
  API_VERSION,
  CATEGORY,
  GROUP,
  KIND_SESSION,
  KIND_TEMPLATE,
  KIND_USAGE,
  PLURAL_SESSION,
  PLURAL_TEMPLATE,
  PLURAL_USAGE,
  SESSION_NAME_RULE,
  VDISessionSpecSchema,
  VDISessionStatusSchema,
  VDITemplateSpecSchema,
  VDITemplateStatusSchema,
  VDIUsageSpecSchema,
  VDIUsageStatusSchema,
  VERSION,
} from './v1alpha1.js';
import { PLURAL_SHARE, SHARE_CRD } from './share.js';
import { KIND_POOL, PLURAL_POOL, VDIPoolSpecSchema, VDIPoolStatusSchema } from './pool.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/**
 * A TypeBox schema as plain OpenAPI v3 JSON: symbols dropped, and properties that have a
 * `default` taken out of `required` (the API server fills them in, so a manifest may omit them,
 * while the TypeScript type — the shape as read back — keeps them required).
 */
export function toOpenApi(schema: TSchema): Json {
  const plain = JSON.parse(JSON.stringify(schema)) as Json;
  const walk = (node: Json): Json => {
    if (Array.isArray(node)) return node.map(walk);
    if (node === null || typeof node !== 'object') return node;
    const out: { [k: string]: Json } = {};
    for (const [k, v] of Object.entries(node)) out[k] = walk(v);
    const props = out.properties;
    if (Array.isArray(out.required) && props && typeof props === 'object' && !Array.isArray(props)) {
      const req = out.required.filter((name) => {
        const p = props[name as string];
        return !(p && typeof p === 'object' && !Array.isArray(p) && 'default' in p);
      });
      if (req.length > 0) out.required = req;
      else delete out.required;
    }
    return out;
  };
  return walk(plain);
}

interface CrdInput {
  kind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  scope: 'Namespaced' | 'Cluster';
  spec: TSchema;
  status: TSchema;
  rootRules?: Json[];
  columns: { name: string; type: string; jsonPath: string; description?: string; priority?: number }[];
}

function crd(i: CrdInput) {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${i.plural}.${GROUP}`,
      labels: { 'app.kubernetes.io/part-of': 'vdi-platform', 'app.kubernetes.io/component': 'crd' },
    },
    spec: {
      group: GROUP,
      names: {
        kind: i.kind,
        listKind: `${i.kind}List`,
        plural: i.plural,
        singular: i.singular,
        shortNames: i.shortNames,
        categories: [CATEGORY],
      },
      scope: i.scope,
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: i.columns,
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description: `${i.kind} (${API_VERSION})`,
              required: ['spec'],
              properties: {
                apiVersion: { type: 'string' },
                kind: { type: 'string' },
                metadata: { type: 'object' },
                spec: toOpenApi(i.spec),
                status: toOpenApi(i.status),
              },
              ...(i.rootRules ? { 'x-kubernetes-validations': i.rootRules } : {}),
            },
          },
        },
      ],
    },
  };
}

/** The platform's CRDs, as objects ready to apply. */
export function crdManifests() {
  return {
    [PLURAL_TEMPLATE]: crd({
      kind: KIND_TEMPLATE,
      plural: PLURAL_TEMPLATE,
      singular: 'vditemplate',
      shortNames: ['vdit', 'vdisessiontemplate'],
      scope: 'Cluster',
      spec: VDITemplateSpecSchema,
      status: VDITemplateStatusSchema,
      columns: [
        { name: 'Display Name', type: 'string', jsonPath: '.spec.displayName' },
        { name: 'GPU', type: 'integer', jsonPath: '.spec.resources.defaultGPU' },
        { name: 'Ready', type: 'boolean', jsonPath: '.status.ready' },
        { name: 'Sessions', type: 'integer', jsonPath: '.status.sessions' },
        { name: 'Retired', type: 'boolean', jsonPath: '.spec.retired' },
        {
          name: 'Image Nodes',
          type: 'string',
          jsonPath: '.status.prepull.summary',
          description: 'eligible nodes that have the image / eligible nodes',
        },
        { name: 'Image', type: 'string', jsonPath: '.spec.image', priority: 1 },
        { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
      ],
    }),
    [PLURAL_SESSION]: crd({
      kind: KIND_SESSION,
      plural: PLURAL_SESSION,
      singular: 'vdisession',
      shortNames: ['vdis', 'vdisess'],
      scope: 'Namespaced',
      spec: VDISessionSpecSchema,
      status: VDISessionStatusSchema,
      rootRules: [SESSION_NAME_RULE as unknown as Json],
      columns: [
        // The e-mail, for people; the owner (issuer + subject) is what decides, shown with -o wide.
        { name: 'User', type: 'string', jsonPath: '.spec.user' },
        { name: 'Template', type: 'string', jsonPath: '.spec.template' },
        { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
        { name: 'URL', type: 'string', jsonPath: '.status.url' },
        {
          name: 'Owner',
          type: 'string',
          jsonPath: '.spec.owner.subject',
          description:
            'the subject (sub) of the owning identity; empty: a session from before owners, unclaimed',
          priority: 1,
        },
        { name: 'Node', type: 'string', jsonPath: '.status.nodeName', priority: 1 },
        { name: 'Encoder', type: 'string', jsonPath: '.status.encoder', priority: 1 },
        { name: 'Expires', type: 'date', jsonPath: '.status.expiresAt', priority: 1 },
        // Why it is not running (WaitingForGPU, WaitingForHomeNode, …) and the phase timings as
        // ages: how long ago it was queued for a time-slice and became ready.
        { name: 'Reason', type: 'string', jsonPath: '.status.reason', priority: 1 },
        {
          name: 'Queued',
          type: 'date',
          jsonPath: '.status.queuedAt',
          description: 'when the current start began waiting for a GPU time-slice',
          priority: 1,
        },
        {
          name: 'Ready',
          type: 'date',
          jsonPath: '.status.readyAt',
          description: 'when the desktop became ready',
          priority: 1,
        },
        { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
      ],
    }),
    [PLURAL_SHARE]: crd(SHARE_CRD),
    [PLURAL_POOL]: crd({
      kind: KIND_POOL,
      plural: PLURAL_POOL,
      singular: 'vdipool',
      shortNames: ['vdip'],
      scope: 'Namespaced',
      spec: VDIPoolSpecSchema,
      status: VDIPoolStatusSchema,
      columns: [
        { name: 'Template', type: 'string', jsonPath: '.spec.template' },
        { name: 'Size', type: 'integer', jsonPath: '.spec.size' },
        { name: 'Target', type: 'integer', jsonPath: '.status.targetSize' },
        { name: 'Warm', type: 'integer', jsonPath: '.status.warm' },
        { name: 'Starting', type: 'integer', jsonPath: '.status.starting' },
        { name: 'Claimed', type: 'integer', jsonPath: '.status.claimed' },
        {
          name: 'Poolable',
          type: 'string',
          jsonPath: ".status.conditions[?(@.type=='Poolable')].status",
        },
        {
          name: 'Reason',
          type: 'string',
          jsonPath: ".status.conditions[?(@.type=='Poolable')].reason",
          priority: 1,
        },
        { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
      ],
    }),
    [PLURAL_USAGE]: crd({
      kind: KIND_USAGE,
      plural: PLURAL_USAGE,
      singular: 'vdiusage',
      shortNames: ['vdiu'],
      scope: 'Namespaced',
      spec: VDIUsageSpecSchema,
      status: VDIUsageStatusSchema,
      columns: [
        { name: 'User', type: 'string', jsonPath: '.spec.user' },
        { name: 'Budget Hours', type: 'number', jsonPath: '.spec.budget.gpuHours' },
        { name: 'Period', type: 'string', jsonPath: '.spec.budget.period' },
        { name: 'Total GPU Seconds', type: 'number', jsonPath: '.status.totalGpuSeconds' },
        { name: 'Rule', type: 'string', jsonPath: '.spec.budget.rule', priority: 1 },
        { name: 'Counted', type: 'date', jsonPath: '.status.countedAt', priority: 1 },
      ],
    }),
  };
}

const HEADER =
  '# Code generated by libs/crd-types (npm run crds:generate) from src/v1alpha1.ts; DO NOT EDIT.\n';

/** The YAML files under deploy/kustomize/base/crds/, by file name. */
export function crdFiles(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [plural, obj] of Object.entries(crdManifests())) {
    out[`${GROUP}_${plural}.yaml`] = HEADER + stringify(obj, { lineWidth: 0, aliasDuplicateObjects: false });
  }
  return out;
}
