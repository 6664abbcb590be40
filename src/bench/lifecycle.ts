// What a benchmark run has started (server processes, scratch databases) is undone when the run
// ends in any way it can see: normal end, SIGINT/SIGTERM, or its parent dying (when started with an
// IPC channel, as the test suite's smoke run does, the channel closes with the parent).

type Cleanup = () => Promise<unknown> | void;

const cleanups = new Set<Cleanup>();
let stopping = false;

/** Registers fn to run at an abnormal end; returns a function that unregisters it. */
export function onAbort(fn: Cleanup): () => void {
  cleanups.add(fn);
  return () => void cleanups.delete(fn);
}

/** Runs every registered cleanup (newest first, each bounded) and exits with code. */
async function abort(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  const bounded = (fn: Cleanup): Promise<unknown> =>
    Promise.race([Promise.resolve().then(fn).catch(() => undefined), new Promise((ok) => setTimeout(ok, 5_000).unref())]);
  for (const fn of [...cleanups].reverse()) await bounded(fn);
  process.exit(code);
}

/** Installs the handlers once, in the process that runs the scenarios (bench/run.ts). */
export function abortOnSignalsAndParentExit(): void {
  process.once('SIGINT', () => void abort(130));
  process.once('SIGTERM', () => void abort(143));
  // Started with an IPC channel: the channel closes when the parent exits, even by SIGKILL.
  if (process.connected) process.once('disconnect', onParentGone);
}

const onParentGone = (): void => void abort(129);

/** At a normal end: closes the IPC channel from a parent (it would keep the process alive), which
 *  is then no sign of the parent's death. */
export function releaseParentChannel(): void {
  process.removeListener('disconnect', onParentGone);
  if (process.connected) process.disconnect();
}
