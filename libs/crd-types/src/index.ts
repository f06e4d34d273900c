/**
 * The platform's API contract: the VDITemplate and VDISession resources (types, schemas,
 * condition constants) and their CustomResourceDefinitions.
 */
export * from './v1alpha1.js';
export * from './pool.js';
export * from './share.js';
export { crdManifests, crdFiles, toOpenApi } from './crd.js';
export { QUANTITY_PATTERN, DNS1123_SUBDOMAIN, type CelRule } from './schema.js';
