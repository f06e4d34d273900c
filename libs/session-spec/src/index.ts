/**
 * Pure functions from (session, template, platform options, cluster facts) to the desired child
 * objects of a desktop session. No client, no clock, no randomness: those come in as arguments.
 */
export * from './names.js';
