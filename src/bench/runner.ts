// Runs scenarios one after another: each with a fresh timeline and sampler, a progress bar on a
// terminal, its figures printed as one JSON line (the last line of its output), and — unless the
// output folder is off — bench-results/<time>/<scenario>.json, then report.html and report.png.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import cliProgress from 'cli-progress';
import { benchAdminUrl } from './benchDatabase.ts';
import { reportHeight, reportHtml, type ReportScenario } from './report/html.ts';
import { renderPng } from './report/png.ts';
import { benchSettings, gitCommit, loadAverage, machineNow, versions, type MachineInfo, type Versions } from './runInfo.ts';
import { startSampler } from './sampler.ts';
import type { Scenario, ScenarioContext } from './scenario.ts';
import { setActiveTimeline, Timeline } from './timeline.ts';

/** One scenario's result file (<scenario>.json). */
export interface ScenarioRecord extends ReportScenario {
  started: string;
  finished: string;
  seconds: number;
  machine: MachineInfo;
  versions: Versions;
  settings: Record<string, string>;
  commit: string | null;
}

/** Where and how to write a run. */
export interface RunOptions {
  /** Parent folder of the run's folder (default bench-results); false: write nothing. */
  outDir?: string | false;
  /** Render report.png with Chromium (default true). */
  png?: boolean;
  /** Draw a progress bar (default: when stderr is a terminal). */
  progress?: boolean;
}

/** The run's folder name: the start time in ISO 8601, with '-' for ':' (a valid name everywhere). */
export function runFolderName(d: Date): string {
  return d.toISOString().replace(/\.\d+Z$/, 'Z').replace(/:/g, '-');
}

function progressContext(name: string, enabled: boolean): { ctx: ScenarioContext; stop: () => void } {
  if (!enabled) return { ctx: { progress: () => undefined }, stop: () => undefined };
  const bar = new cliProgress.SingleBar(
    { format: `${name.padEnd(10)} [{bar}] {percentage}% {duration}s {label}`, hideCursor: true, stream: process.stderr, clearOnComplete: true },
    cliProgress.Presets.shades_classic,
  );
  bar.start(100, 0, { label: '' });
  return {
    ctx: { progress: (fraction, label = '') => bar.update(Math.round(Math.min(1, Math.max(0, fraction)) * 100), { label }) },
    stop: () => bar.stop(),
  };
}

/** Runs the scenarios in order; resolves with the run's folder (undefined when writing is off). */
export async function runScenarios(scenarios: readonly Scenario[], opts: RunOptions = {}): Promise<{ dir: string | undefined; records: ScenarioRecord[] }> {
  const started = new Date();
  const dir = opts.outDir === false ? undefined : resolve(opts.outDir ?? 'bench-results', runFolderName(started));
  if (dir) mkdirSync(dir, { recursive: true });
  const v = await versions(benchAdminUrl());
  const commit = gitCommit();
  const records: ScenarioRecord[] = [];
  for (const s of scenarios) {
    console.log(`\n== ${s.name} ==`);
    const machine = machineNow();
    const t0 = new Date();
    const timeline = new Timeline();
    setActiveTimeline(timeline);
    const sampler = startSampler();
    const bar = progressContext(s.name, opts.progress ?? process.stderr.isTTY === true);
    let result;
    let resources;
    try {
      result = await s.run(bar.ctx);
    } finally {
      bar.stop();
      setActiveTimeline(undefined);
      // Stopped on failure too: its timer and connection would keep the process alive.
      resources = await sampler.stop();
    }
    const t1 = new Date();
    machine.loadAverageEnd = loadAverage();
    const record: ScenarioRecord = {
      scenario: s.name,
      description: s.description,
      figures: result.figures,
      started: t0.toISOString(),
      finished: t1.toISOString(),
      seconds: Math.round((t1.getTime() - t0.getTime()) / 100) / 10,
      loadAverageStart: machine.loadAverageStart,
      loadAverageEnd: machine.loadAverageEnd,
      machine,
      versions: v,
      settings: benchSettings(),
      commit,
      series: { load: timeline.series(), resources },
      charts: result.charts ?? [],
    };
    records.push(record);
    if (dir) writeFileSync(join(dir, `${s.name}.json`), `${JSON.stringify(record, null, 1)}\n`);
    // The scenario's last line: its figures as one JSON object.
    console.log(JSON.stringify({ scenario: s.name, ...result.figures }));
  }
  if (dir) {
    const html = join(dir, 'report.html');
    writeFileSync(html, reportHtml(`pgpress bench ${started.toISOString()}: ${scenarios.map((s) => s.name).join(', ')}`, records));
    let pngNote = '';
    if (opts.png !== false) {
      const why = renderPng(html, join(dir, 'report.png'), 1280, reportHeight(records));
      pngNote = why ? ` (report.png not made: ${why})` : ', report.png';
    }
    console.error(`pgpress bench: results in ${dir} (${scenarios.map((s) => `${s.name}.json`).join(', ')}, report.html${pngNote})`);
  }
  return { dir, records };
}
