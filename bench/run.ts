// `npm run bench -- [scenario ...]`: runs performance scenarios; each prints ratios measured in
// the same run against a baseline, and ends with one JSON line.
import { abortOnSignalsAndParentExit } from './lifecycle.ts';
import { scenarios } from './scenarios.ts';

const wanted = process.argv.slice(2);
const names = wanted.length > 0 ? wanted : Object.keys(scenarios);
const unknown = names.filter((n) => !(n in scenarios));
if (unknown.length > 0) {
  console.error(`Unknown scenario(s): ${unknown.join(', ')}. Known: ${Object.keys(scenarios).join(', ')}`);
  process.exit(2);
}
abortOnSignalsAndParentExit();
for (const name of names) {
  console.log(`\n== ${name} ==`);
  const result = await scenarios[name]!();
  console.log(JSON.stringify({ scenario: name, ...result }));
}
// An IPC channel from a parent (the test suite's smoke run) would keep this process alive.
process.exit(0);
