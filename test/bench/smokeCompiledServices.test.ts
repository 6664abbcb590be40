// The shipped scenarios that run only when named and start no PostgreSQL server of their own (cache,
// which needs Redis; search; any added later) run end to end at a tiny scale from the compiled
// package, as an installed pgpress runs them (compiledPackage.ts), each against its floors.
import { test } from 'node:test';
import { compiledPackage, compiledSmoke, namedOnly, STARTS_SERVERS } from './compiledPackage.ts';

const pkg = compiledPackage();
for (const name of namedOnly.filter((n) => !STARTS_SERVERS.includes(n))) {
  test(`\`pgpress bench ${name}\` from the compiled package runs at a tiny scale and each of its ratios clears its sanity floor`, (t) => compiledSmoke(pkg, name, t));
}
