// Which scenarios a run asked for, by name, from a registry (all of them when none is named).
import { PgpressError } from '../errors/index.ts';
import { asScenario, type Scenario, type ScenarioEntry } from './scenario.ts';

/** The named scenarios in the order given; every one when names is empty. Unknown names fail, listing the known ones. */
export function pickScenarios(names: readonly string[], registry: Record<string, ScenarioEntry>): Scenario[] {
  const wanted = names.length > 0 ? names : Object.keys(registry);
  const unknown = wanted.filter((n) => !Object.hasOwn(registry, n));
  if (unknown.length > 0) throw new PgpressError('PGP_VALIDATION', `Unknown scenario(s): ${unknown.join(', ')}. Known: ${Object.keys(registry).join(', ')}.`);
  return wanted.map((n) => asScenario(n, registry[n]!));
}
