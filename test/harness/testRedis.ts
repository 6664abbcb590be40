// Redis for tests: the shared server isolated by a key prefix, or a throwaway server of one's own
// (for tests that freeze or stop it).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after } from 'node:test';
import { Redis } from 'ioredis';
import { freePort } from './freePort.ts';
import { REDIS_URL } from './services.ts';

/** A Redis client whose keys all start with a prefix unique to this file. */
export function testRedis(): { redis: Redis; prefix: string } {
  const prefix = `pgpress:t:${randomBytes(5).toString('hex')}:`;
  const redis = new Redis(REDIS_URL, { keyPrefix: prefix, maxRetriesPerRequest: 1 });
  after(async () => {
    // SCAN does not apply keyPrefix: match on the full prefix, delete with the raw names.
    const raw = redis.duplicate({ keyPrefix: '' });
    let cursor = '0';
    do {
      const [next, keys] = await raw.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      if (keys.length > 0) await raw.del(...keys);
      cursor = next;
    } while (cursor !== '0');
    raw.disconnect();
    redis.disconnect();
  });
  return { redis, prefix };
}

/** A redis-server of the test's own, on a free port: it can be frozen, thawed and stopped. */
export interface OwnRedis {
  url: string;
  /** SIGSTOP: the socket stays open, nothing answers (a hung server). */
  freeze(): void;
  /** SIGCONT. */
  thaw(): void;
  /** Kills the server (idempotent); also done after the file. */
  stop(): Promise<void>;
}

/** Starts redis-server (no persistence) on a free port; resolves once it answers PING. */
export async function startOwnRedis(): Promise<OwnRedis> {
  return startRedisProcess(await freePort());
}

/**
 * Starts redis-server on port with extra arguments (a config file first, `--cluster-enabled yes`,
 * `--sentinel` …); resolves once it answers PING; killed after the file.
 */
export async function startRedisProcess(port: number, args: string[] = []): Promise<OwnRedis> {
  const proc: ChildProcess = spawn('redis-server', [...args, '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  let exited = false;
  const gone = new Promise<void>((ok) => proc.once('exit', () => ((exited = true), ok())));
  const signal = (s: NodeJS.Signals): void => {
    if (!exited) proc.kill(s);
  };
  const stop = async (): Promise<void> => {
    signal('SIGCONT');
    signal('SIGKILL');
    await gone;
  };
  after(stop);
  const url = `redis://127.0.0.1:${port}`;
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 500 });
  probe.on('error', () => undefined);
  try {
    for (let i = 0; ; i++) {
      try {
        await probe.connect();
        await probe.ping();
        break;
      } catch (e) {
        if (exited || i >= 100) throw new Error(`redis-server on port ${port} did not start: ${(e as Error).message}`);
        probe.disconnect();
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  } finally {
    probe.disconnect();
  }
  return { url, freeze: () => signal('SIGSTOP'), thaw: () => signal('SIGCONT'), stop };
}
