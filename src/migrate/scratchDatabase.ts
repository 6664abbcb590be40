// A throwaway database on the same server: what the migrations alone produce, for comparison.
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { quoteIdent } from '../db/sql.ts';

/** A scratch database and how to get rid of it. */
export interface ScratchDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/**
 * Creates an empty database beside the one `client` is connected to (needs CREATEDB). Its name starts
 * with the live database's name, so whatever sweeps that database's leftovers also finds this one.
 */
export async function createScratchDatabase(client: pg.Client, liveUrl: string): Promise<ScratchDatabase> {
  const { rows } = await client.query<{ db: string }>('SELECT current_database() AS db');
  const name = `${rows[0]!.db.slice(0, 40)}_scratch_${randomBytes(4).toString('hex')}`;
  await client.query(`CREATE DATABASE ${quoteIdent(name)} TEMPLATE template0`);
  const u = new URL(liveUrl);
  u.pathname = `/${encodeURIComponent(name)}`;
  return {
    name,
    url: u.toString(),
    drop: async () => {
      await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
    },
  };
}
