// `npm run bench -- failover`: pgpress on a three-node Patroni cluster (test/harness/patroni.ts)
// given only the multi-host URL, six HTTP clients writing unique values, and a kill -9 of the
// leader's PostgreSQL: once with synchronous_mode on, once with asynchronous replication. Each run
// reports the seconds from the kill to the first acknowledged write sent after it (on the new
// primary), acknowledged writes missing from the new primary, and writes answered with a definite
// error that are there anyway. The sync run's figures are unprefixed; the async run's start with async_.
// The sync rig then runs a switchover under writers that send an Idempotency-Key per write and
// retry 503/504s with it: switchover_unretryable counts answers a client could not retry (0
// expected), switchover_not_acked the writes that never ended acknowledged, switchover_duplicates
// the writes applied twice.
import { startHaRig, underLoad, type LoadFigures } from '../test/ha/failoverRig.ts';
import { onAbort } from './lifecycle.ts';

async function once(synchronous: boolean, switchover: boolean): Promise<{ crash: LoadFigures; switchover?: LoadFigures }> {
  const rig = await startHaRig({ synchronous });
  const off = onAbort(() => rig.close());
  const writers = Number(process.env.BENCH_FAILOVER_WRITERS ?? 6);
  // Writing time before the disruption and after the new leader runs (underLoad's 1.5 s and 3 s by default).
  const windows = {
    ...(process.env.BENCH_FAILOVER_BEFORE_MS ? { beforeMs: Number(process.env.BENCH_FAILOVER_BEFORE_MS) } : {}),
    ...(process.env.BENCH_FAILOVER_AFTER_MS ? { afterMs: Number(process.env.BENCH_FAILOVER_AFTER_MS) } : {}),
  };
  try {
    const r = await underLoad(rig, 'crash', { writers, ...windows });
    console.log(`failover (${synchronous ? 'synchronous_mode' : 'asynchronous'}) ${r.oldLeader.name} → ${r.newLeader.name}: ${JSON.stringify(r.figures)}`);
    if (!switchover) return { crash: r.figures };
    await rig.patroni.waitHealthy(120_000);
    const s = await underLoad(rig, 'switchover', { writers, retry: true, ...windows });
    console.log(`switchover (retrying with Idempotency-Key) ${s.oldLeader.name} → ${s.newLeader.name}: ${JSON.stringify(s.figures)}`);
    return { crash: r.figures, switchover: s.figures };
  } finally {
    off();
    await rig.close();
  }
}

/** The failover figures of a synchronous and an asynchronous run. */
export async function failoverBench(): Promise<Record<string, number | string>> {
  const pick = (f: LoadFigures, prefix: string): Record<string, number> => ({
    [`${prefix}write_gap_s`]: f.write_gap_s ?? -1,
    [`${prefix}acked_lost`]: f.acked_lost,
    [`${prefix}failed_but_committed`]: f.failed_but_committed,
    [`${prefix}acked`]: f.acked,
    [`${prefix}failed`]: f.failed,
    [`${prefix}unknown`]: f.unknown,
  });
  const sync = await once(true, true);
  const async_ = await once(false, false);
  const sw = sync.switchover!;
  return {
    ...pick(sync.crash, ''),
    ...pick(async_.crash, 'async_'),
    switchover_unretryable: sw.unretryable,
    switchover_not_acked: sw.writes - sw.acked,
    switchover_acked_lost: sw.acked_lost,
    switchover_duplicates: sw.duplicates,
    switchover_retried: sw.retried,
    switchover_replayed: sw.replayed,
  };
}
