// `npm run bench -- failover`: pgpress on a three-node Patroni cluster (test/harness/patroni.ts)
// given only the multi-host URL, six HTTP clients writing unique values, and a kill -9 of the
// leader's PostgreSQL: once with synchronous_mode on, once with asynchronous replication. Each run
// reports the seconds from the kill to the first acknowledged write sent after it (on the new
// primary), acknowledged writes missing from the new primary, and writes answered with a definite
// error that are there anyway. The sync run's figures are unprefixed; the async run's start with async_.
import { startHaRig, underLoad, type LoadFigures } from '../test/ha/failoverRig.ts';
import { onAbort } from './lifecycle.ts';

async function once(synchronous: boolean): Promise<LoadFigures> {
  const rig = await startHaRig({ synchronous });
  const off = onAbort(() => rig.close());
  try {
    const r = await underLoad(rig, 'crash', { writers: Number(process.env.BENCH_FAILOVER_WRITERS ?? 6) });
    console.log(`failover (${synchronous ? 'synchronous_mode' : 'asynchronous'}) ${r.oldLeader.name} → ${r.newLeader.name}: ${JSON.stringify(r.figures)}`);
    return r.figures;
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
  const sync = await once(true);
  const async_ = await once(false);
  return { ...pick(sync, ''), ...pick(async_, 'async_') };
}
