// The shipped default scenarios after the first three (smokeShipped.test.ts has those) run end to
// end at a tiny scale and their ratios clear their sanity floors (smokeCases.ts). All but soak:
// report.test.ts runs it end to end already (`pgpress bench soak`, 3 s) and checks its JSON line
// against the same floors (checkFigures), so a second run here proved nothing more.
import { test } from 'node:test';
import { shippedDefaults, smokeRun } from './smokeCases.ts';

for (const name of shippedDefaults().slice(3).filter((n) => n !== 'soak')) {
  test(`\`npm run bench -- ${name}\` runs at a tiny scale and each of its ratios clears its sanity floor`, (t) => smokeRun(name, t));
}
