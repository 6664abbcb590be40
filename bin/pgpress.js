#!/usr/bin/env node
// The pgpress CLI. In a checkout (src/ present) it runs the TypeScript sources through tsx, so the
// checkout needs no build and never runs a stale one; the published package ships no src/ and runs
// the compiled dist/ with no TypeScript loader.
import { existsSync } from 'node:fs';

const sources = new URL('../src/cli/main.ts', import.meta.url);
if (existsSync(sources)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(sources.href);
} else {
  await import('../dist/cli/main.js');
}
