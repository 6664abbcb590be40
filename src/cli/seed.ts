// `pgpress seed --scale N`: fills the database with generated data, with a progress bar.
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import type { Settings } from '../config/settings.ts';
import { Cluster } from '../db/cluster.ts';
import { PgpressError } from '../errors/index.ts';
import { seed, seedCounts, type SeedPhase } from '../ops/seed/seed.ts';
import { resolveKeyRing } from '../security/keyRing.ts';
import { databaseUrlFor } from './databaseUrl.ts';

/** Adds the seed command to the program. */
export function seedCommand(program: Command, settings: () => Settings): void {
  program
    .command('seed')
    .description('fill the database with generated users, articles, comments and events (COPY)')
    .option('--scale <n>', 'size: n × (100 users, 1,000 articles, 2,000 comments, 10,000 events)', '10')
    .option('--seed <n>', 'random seed (same seed, same data)', '42')
    .action(async (opts: { scale: string; seed: string }) => {
      const scale = Number(opts.scale);
      if (!Number.isInteger(scale) || scale < 1) throw new PgpressError('PGP_VALIDATION', `--scale must be a whole number ≥ 1, got ${JSON.stringify(opts.scale)}.`);
      const s = settings();
      // The key ring serve and keys rotate resolve: users' emails are sealed as the application seals them.
      const keys = resolveKeyRing(s.encryption, s.dataDir);
      const { url, release } = await databaseUrlFor(s);
      const cluster = new Cluster({ url, max: 2, statementTimeoutMs: 0 });
      const bar = new cliProgress.SingleBar({ format: '{phase} [{bar}] {value}/{total} ({percentage}%) {duration}s', hideCursor: true }, cliProgress.Presets.shades_classic);
      let phase: SeedPhase | undefined;
      const started = performance.now();
      try {
        await seed(cluster, {
          scale,
          seed: Number(opts.seed),
          keys,
          onProgress: (p, done, total) => {
            if (p !== phase) {
              if (phase !== undefined) bar.stop();
              phase = p;
              bar.start(total, 0, { phase: p.padEnd(8) });
            }
            bar.update(done, { phase: p.padEnd(8) });
          },
        });
        bar.stop();
        const c = seedCounts(scale);
        console.log(`Seeded ${c.users} users, ${c.articles} articles, ${c.comments} comments, ${c.events} events in ${((performance.now() - started) / 1000).toFixed(1)} s.`);
      } finally {
        bar.stop();
        await cluster.close();
        await release();
      }
    });
}
