// `pgpress keys rotate`: seal every user's email under the current key of ENCRYPTION_KEYS.
import type { Command } from 'commander';
import type { Settings } from '../config/settings.ts';
import { rotateUserEmailKeys } from '../content/users/rotateKeys.ts';
import { Cluster } from '../db/cluster.ts';
import { PgpressError } from '../errors/index.ts';
import { resolveKeyRing } from '../security/keyRing.ts';
import { databaseUrlFor } from './databaseUrl.ts';

function count(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1) throw new PgpressError('PGP_VALIDATION', `${name} must be a positive whole number, got ${JSON.stringify(v)}.`);
  return n;
}

/** Adds the keys command group to the program. */
export function keysCommand(program: Command, settings: () => Settings): void {
  const keys = program.command('keys').description('personal data keys (ENCRYPTION_KEYS, BLIND_INDEX_KEY)');
  keys
    .command('rotate')
    .description('seal every user email under the current key: encrypts rows written before 0090, re-seals rows under older keys; resumable, runs while the API serves')
    .option('--batch-rows <n>', 'rows per transaction', '1000')
    .option('--max-batches <n>', 'stop after this many batches (run again to continue)')
    .action(async (o: { batchRows: string; maxBatches?: string }) => {
      const s = settings();
      const batchRows = count(o.batchRows, '--batch-rows')!;
      const maxBatches = count(o.maxBatches, '--max-batches');
      const ring = resolveKeyRing(s.encryption, s.dataDir);
      const { url, release } = await databaseUrlFor(s, 'owner');
      const cluster = new Cluster({ url, max: 1, applicationName: 'pgpress-keys-rotate' });
      try {
        const r = await rotateUserEmailKeys(cluster, ring, { batchRows, ...(maxBatches === undefined ? {} : { maxBatches }), log: (l) => console.log(l) });
        console.log(`${r.rewritten} rows sealed under ${r.keyId} in ${r.batches} batches; left: ${r.remainingClear} in clear, ${r.remainingOtherKey} under other keys${r.stopped ? ' (stopped: run again to continue)' : ''}`);
        if (r.remainingClear + r.remainingOtherKey > 0) process.exitCode = 3;
      } finally {
        await cluster.close();
        await release();
      }
    });
}
