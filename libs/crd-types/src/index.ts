/**
 * The platform's API contract: group, version and kinds of the VDI custom resources.
 * (The full types and OpenAPI schemas live in one file per CRD version; see v1alpha1.ts.)
 */
export * from './v1alpha1.js';
