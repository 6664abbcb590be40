// Scratch databases live in src/bench/benchDatabase.ts (they ship with `pgpress bench`).
export * from '../src/bench/benchDatabase.ts';
