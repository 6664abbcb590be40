// The shipped scenarios that start PostgreSQL servers of their own (replicas, tune) run end to end
// at a tiny scale from the compiled package, as an installed pgpress runs them (compiledPackage.ts),
// each JSON line against its floors (smokeCases.ts). The other named-only ones:
// smokeCompiledServices.test.ts (two files: each within the runner's 300 s per file).
import { test } from 'node:test';
import { compiledPackage, compiledSmoke, namedOnly, STARTS_SERVERS } from './compiledPackage.ts';

const pkg = compiledPackage();
for (const name of namedOnly.filter((n) => STARTS_SERVERS.includes(n))) {
  test(`\`pgpress bench ${name}\` from the compiled package runs at a tiny scale and each of its ratios clears its sanity floor`, (t) => compiledSmoke(pkg, name, t));
}
