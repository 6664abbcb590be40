// Which scenarios a run asked for, by name, from a registry (when none is named: every one that
// needs nothing beyond the database; the others, marked onlyWhenNamed, run when named).
import { PgpressError } from '../errors/index.ts';
import { asScenario, type Scenario, type ScenarioEntry } from './scenario.ts';

/** The named scenarios in the order given; when names is empty, every one not marked onlyWhenNamed.
 *  Unknown names fail, listing the known ones. */
export function pickScenarios(names: readonly string[], registry: Record<string, ScenarioEntry>): Scenario[] {
  if (names.length === 0) return allScenarios(registry).filter((s) => s.onlyWhenNamed === undefined);
  const unknown = names.filter((n) => !Object.hasOwn(registry, n));
  if (unknown.length > 0) throw new PgpressError('PGP_VALIDATION', `Unknown scenario(s): ${unknown.join(', ')}. Known: ${Object.keys(registry).join(', ')}.`);
  return names.map((n) => asScenario(n, registry[n]!));
}

/** Every scenario of the registry, in its order. */
export function allScenarios(registry: Record<string, ScenarioEntry>): Scenario[] {
  return Object.entries(registry).map(([n, e]) => asScenario(n, e));
}

/** `pgpress bench --list`: one line a scenario, in the registry's order, each marked `default` (runs
 *  when no name is given) or `named` with what it needs. */
export function listScenarios(registry: Record<string, ScenarioEntry>): string[] {
  return allScenarios(registry).map((s) => `${s.name.padEnd(12)} ${(s.onlyWhenNamed === undefined ? 'default' : 'named').padEnd(8)} ${s.description}${s.onlyWhenNamed === undefined ? '' : ` [only when named: ${s.onlyWhenNamed}]`}`);
}
