/**
 * @deprecated Moved to dev/simulator/sample-calls.ts; this re-export only keeps in-flight work
 * compiling while the team moves its imports. Remove once nothing imports it.
 */
export * from './simulator/sample-calls.ts';
