// HTTP load for benchmarks lives in src/bench/httpLoad.ts (it ships with `pgpress bench`).
export * from '../src/bench/httpLoad.ts';
