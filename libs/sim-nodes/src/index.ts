export * from './nodes.js';
