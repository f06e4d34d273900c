/**
 * The portal's GraphQL operations on templates: the gallery's list (with `retired`, so a retired
 * template is not offered) and the admin page's management (create, edit, retire, restore,
 * delete). Checked against apps/api/schema.gql by templates.spec.ts.
 */
import type { Capacity, Condition, Template } from './types';

/** A template as the gallery reads it: `retired` ones take no new sessions. */
export interface GalleryTemplate extends Template {
  retired: boolean;
}

export const TEMPLATE_GALLERY = `query TemplateGallery {
  templates { name displayName description icon defaultGPU maxGPU usable message retired }
  capacity { gpuSlicesTotal gpuSlicesFree nvencSlicesFree sessionsWaiting }
}`;
export interface TemplateGalleryData {
  templates: GalleryTemplate[];
  capacity: Capacity;
}

/** Everything the admin page shows of a template and its form edits. */
export interface AdminTemplate extends GalleryTemplate {
  conditions: Condition[];
  sessionCount: number;
  image: string;
  imagePullPolicy?: string | null;
  defaultMemory: string;
  defaultCPU: string;
  minMemory?: string | null;
  minCPU?: string | null;
  maxMemory?: string | null;
  maxCPU?: string | null;
  encoder: string;
  persistence: string;
  width: number;
  height: number;
  framerate: number;
  dpi: number;
  bitrateKbps: number;
  streamingMode: string;
  lifetimeDefault?: string | null;
  lifetimeMax?: string | null;
  idleDefault?: string | null;
  idleMax?: string | null;
  idleAction?: string | null;
  shmSize: string;
  homeSize: string;
  resourceVersion?: string | null;
  /** Eligible nodes that have the image, of how many (null while the template has no image puller). */
  prepull?: { ready: number; desired: number; nodes: string[] } | null;
}

const ADMIN_TEMPLATE_FIELDS = `name displayName description icon defaultGPU maxGPU usable message retired
  conditions { type status reason message } sessionCount image imagePullPolicy defaultMemory defaultCPU
  minMemory minCPU maxMemory maxCPU encoder persistence width height framerate dpi bitrateKbps streamingMode
  lifetimeDefault lifetimeMax idleDefault idleMax idleAction shmSize homeSize resourceVersion
  prepull { ready desired nodes }`;

export const ADMIN_TEMPLATES = `query AdminTemplates { templates { ${ADMIN_TEMPLATE_FIELDS} } }`;
export interface AdminTemplatesData {
  templates: AdminTemplate[];
}

export const CREATE_TEMPLATE = `mutation CreateTemplate($input: CreateTemplateInput!) {
  createTemplate(input: $input) { ${ADMIN_TEMPLATE_FIELDS} }
}`;
export interface CreateTemplateData {
  createTemplate: AdminTemplate;
}

export const UPDATE_TEMPLATE = `mutation UpdateTemplate($name: String!, $input: TemplateInput!, $resourceVersion: String) {
  updateTemplate(name: $name, input: $input, resourceVersion: $resourceVersion) { ${ADMIN_TEMPLATE_FIELDS} }
}`;
export interface UpdateTemplateData {
  updateTemplate: AdminTemplate;
}

export const RETIRE_TEMPLATE = `mutation RetireTemplate($name: String!) {
  retireTemplate(name: $name) { ${ADMIN_TEMPLATE_FIELDS} }
}`;
export interface RetireTemplateData {
  retireTemplate: AdminTemplate;
}

export const RESTORE_TEMPLATE = `mutation RestoreTemplate($name: String!) {
  restoreTemplate(name: $name) { ${ADMIN_TEMPLATE_FIELDS} }
}`;
export interface RestoreTemplateData {
  restoreTemplate: AdminTemplate;
}

export const DELETE_TEMPLATE = `mutation DeleteTemplate($name: String!) { deleteTemplate(name: $name) }`;
export interface DeleteTemplateData {
  deleteTemplate: boolean;
}
