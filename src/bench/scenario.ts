// The scenario interface of `pgpress bench`. A scenario is a module that exports one Scenario:
// a name, a one-line description and run(ctx), which measures its variants interleaved in one run
// (src/bench/measure.ts), prints what it measured and resolves with its figures (ratios first) and
// any charts of its own. Throughput, latency percentiles and resource use over time need no code in
// the scenario: the load helpers record into the run's timeline and the sampler reads servers and
// databases (src/bench/timeline.ts, sampler.ts). Register it in src/bench/registry.ts when it
// ships, or in bench/scenarios.ts when it needs the checkout (test harness, bench-only servers).

/** A figure of a scenario's result: a number (ratios are named *ratio*), a flag or a short text. */
export type Figure = number | boolean | string;

/** A chart a scenario adds to the report: x values are Unix seconds (or any number with xLabel). */
export interface ExtraChart {
  title: string;
  unit: string;
  x: number[];
  /** Label of the x axis when x is not time (then the axis is linear). */
  xLabel?: string;
  series: Record<string, number[]>;
}

/** What run() resolves with. */
export interface ScenarioResult {
  figures: Record<string, Figure>;
  charts?: ExtraChart[];
}

/** What the runner hands a scenario. */
export interface ScenarioContext {
  /** How far the scenario is (0–1) and what it is doing: drawn as a progress bar on a terminal. */
  progress(fraction: number, label?: string): void;
}

/** A benchmark scenario. */
export interface Scenario {
  name: string;
  description: string;
  /** Set when the scenario needs more than the database (its own servers, Redis, an extension) or
   *  runs long: what it needs. It then runs only when named, never in a run that names none. */
  onlyWhenNamed?: string;
  run(ctx: ScenarioContext): Promise<ScenarioResult>;
}

/** The older form (bench/*.ts before the registry): a function resolving with its figures. */
export type FiguresOnly = () => Promise<Record<string, Figure>>;

/** A registry entry: a Scenario, or a figures-only function that the runner wraps. */
export type ScenarioEntry = Scenario | FiguresOnly;

/** The Scenario of a registry entry. */
export function asScenario(name: string, entry: ScenarioEntry): Scenario {
  if (typeof entry !== 'function') return entry;
  return { name, description: `${name} (figures only)`, run: async () => ({ figures: await entry() }) };
}
