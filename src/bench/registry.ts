// The scenarios that ship with `pgpress bench` (they run from the installed package). A scenario
// is a module exporting one Scenario (src/bench/scenario.ts: name, description, run(ctx) →
// figures and charts); add it here when it needs only the package, or to bench/scenarios.ts when
// it needs the checkout (the test harness's clusters, bench-only servers, large seeds). A
// figures-only function (() => Promise<figures>) is accepted there too and wrapped by asScenario.
import type { Scenario } from './scenario.ts';
import { baseline } from './scenarios/baseline.ts';
import { load } from './scenarios/load.ts';
import { soak } from './scenarios/soak.ts';
import { stress } from './scenarios/stress.ts';
import { write } from './scenarios/write.ts';

/** Shipped scenarios by name, in the order `pgpress bench` with no names runs them. */
export const shippedScenarios: Record<string, Scenario> = {
  baseline,
  load,
  stress,
  write,
  soak,
};
