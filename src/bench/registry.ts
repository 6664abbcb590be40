// The scenarios that ship with `pgpress bench` (they run from the installed package). A scenario
// is a module exporting one Scenario (src/bench/scenario.ts: name, description, run(ctx) →
// figures and charts); add it here when it needs only the package (throwaway clusters:
// clusters.ts; servers: servers/), or to bench/scenarios.ts when it needs the checkout (the test
// harness, bench-only servers). Mark it onlyWhenNamed when it needs more than the database. A
// figures-only function (() => Promise<figures>) is accepted there too and wrapped by asScenario.
import type { Scenario } from './scenario.ts';
import { baseline } from './scenarios/baseline.ts';
import { cache } from './scenarios/cache.ts';
import { load } from './scenarios/load.ts';
import { replicas } from './scenarios/replicas.ts';
import { roundtrips } from './scenarios/roundtrips.ts';
import { searchScenario } from './scenarios/search.ts';
import { soak } from './scenarios/soak.ts';
import { stress } from './scenarios/stress.ts';
import { tuneScenario } from './scenarios/tune.ts';
import { write } from './scenarios/write.ts';

/** Shipped scenarios by name, in the order. `pgpress bench` with no names runs those not
 *  marked onlyWhenNamed (baseline, load, stress, soak, write, roundtrips: they need only the database); the
 *  others start servers of their own or need Redis or an extension, and run when named. */
export const shippedScenarios: Record<string, Scenario> = {
  baseline,
  load,
  stress,
  soak,
  write,
  replicas,
  cache,
  tune: tuneScenario,
  roundtrips,
  search: searchScenario,
};
