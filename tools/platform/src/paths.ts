import path from 'node:path';

/** The repository checkout this tool runs from. */
export const repoRoot = path.resolve(import.meta.dirname, '../../..');
