// The measuring rules live in src/bench/measure.ts (they ship with `pgpress bench`).
export * from '../src/bench/measure.ts';
