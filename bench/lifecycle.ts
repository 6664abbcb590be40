// The run's cleanups live in src/bench/lifecycle.ts (they ship with `pgpress bench`).
export * from '../src/bench/lifecycle.ts';
