// Clients writing unique values through the HTTP API, each answer kept: the crash set check and
// the restore drill compare what the API acknowledged with what the database holds. Two write
// paths: a comment (a transaction: the article check, then the insert) whose body is the marker,
// and a read_time event (one INSERT statement) whose readMs is the marker's number. Opt-in retry
// mode: each logical write carries its own Idempotency-Key and is sent again with it after an
// answer a client may retry (any 503, 504, 409 PGP_IDEMPOTENCY_CONFLICT, or no answer), honouring
// Retry-After, within bounded attempts and time; its outcome is the last answer, with the earlier ones.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { ERROR_CATALOGUE } from '../../src/errors/catalogue.ts';

/** How one write was answered. */
export interface WriteOutcome {
  /** `c<n>` (a comment) or `e<n>` (an event); n is unique across the run. */
  marker: string;
  /** HTTP status, or 'none' when no answer came (network error, client timeout). */
  status: number | 'none';
  /** The error body's code, or the network error's message. */
  code?: string;
  /** Client clock (ms since epoch) when the request was sent and when its answer arrived. */
  sentAt: number;
  answeredAt: number;
  /** Retry mode: the answers before the last one (each one a client retried). */
  earlier?: { status: number | 'none'; code?: string }[];
  /** The last answer was a replay of the key's stored one (Idempotent-Replayed): an earlier attempt had committed. */
  replayed?: boolean;
}

/** Codes a client may retry with the same Idempotency-Key: every catalogued 503 and 504, and the key's own conflict. */
export const RETRYABLE_CODES: ReadonlySet<string> = new Set([
  ...Object.entries(ERROR_CATALOGUE).filter(([, v]) => v.status === 503 || v.status === 504).map(([k]) => k),
  'PGP_IDEMPOTENCY_CONFLICT',
]);

/** An answer a client may send again with the same key: no answer, or a retryable code. */
export function mayRetry(a: { status: number | 'none'; code?: string }): boolean {
  return a.status === 'none' || RETRYABLE_CODES.has(a.code ?? '');
}

/** Retry mode's bounds. */
export interface RetryMode {
  /** Attempts per logical write, the first included (default 40). */
  maxAttempts?: number;
  /** A logical write gives up this long after its first attempt (default 60 s). */
  maxMs?: number;
}

/** What the writers need: a published article, a token of a user who may comment on it. */
export interface ApiWritersOptions {
  baseUrl: string;
  articleId: number;
  /** `Authorization` header value for the comments. */
  bearer: string;
  /** Concurrent clients (default 4). */
  writers?: number;
  /** A request unanswered after this long counts as no answer (default 20 s). */
  timeoutMs?: number;
  /** Pause after a failed write, so an outage is not a busy loop (default 20 ms). */
  pauseAfterFailureMs?: number;
  /** Send an Idempotency-Key per logical write and retry retryable answers with it. */
  retry?: RetryMode;
}

/** Running writers; stop() waits for the requests in flight and returns every outcome. */
export interface ApiWriters {
  readonly outcomes: readonly WriteOutcome[];
  stop(): Promise<WriteOutcome[]>;
}

const COMMENT_PREFIX = 'setcheck-';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Answer {
  status: number | 'none';
  code?: string;
  /** Seconds, from Retry-After. */
  retryAfter?: number;
  replayed?: boolean;
}

async function send(url: string, body: unknown, headers: Record<string, string>, timeoutMs: number): Promise<Answer> {
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    let code: string | undefined;
    try {
      code = (JSON.parse(text) as { code?: string }).code;
    } catch {
      code = undefined;
    }
    const after = Number(res.headers.get('retry-after'));
    const replayed = res.headers.get('idempotent-replayed') === 'true';
    return { status: res.status, ...(code === undefined ? {} : { code }), ...(after > 0 ? { retryAfter: after } : {}), ...(replayed ? { replayed } : {}) };
  } catch (e) {
    return { status: 'none', code: (e as Error).message };
  }
}

/** Starts the writers; markers are numbered from 1 in the order the requests are sent. */
export function startApiWriters(opts: ApiWritersOptions): ApiWriters {
  const outcomes: WriteOutcome[] = [];
  const timeoutMs = opts.timeoutMs ?? 20_000;
  let next = 1;
  let stopped = false;
  const writer = async (w: number): Promise<void> => {
    while (!stopped) {
      const n = next++;
      // Alternate the two write paths across writers and turns.
      const comment = (n + w) % 2 === 0;
      const sentAt = Date.now();
      const key: Record<string, string> = opts.retry ? { 'idempotency-key': randomUUID() } : {};
      const attempt = (): Promise<Answer> =>
        comment
          ? send(`${opts.baseUrl}/v1/articles/${opts.articleId}/comments`, { body: `${COMMENT_PREFIX}${n}` }, { authorization: opts.bearer, ...key }, timeoutMs)
          : send(`${opts.baseUrl}/v1/events`, { articleId: opts.articleId, kind: 'read_time', readMs: n }, key, timeoutMs);
      let r = await attempt();
      const earlier: { status: number | 'none'; code?: string }[] = [];
      if (opts.retry) {
        const maxAttempts = opts.retry.maxAttempts ?? 40;
        const giveUpAt = sentAt + (opts.retry.maxMs ?? 60_000);
        while (mayRetry(r) && earlier.length + 1 < maxAttempts) {
          // Retry-After when given (every 503 has it), a short pause otherwise; never past the bound.
          const wait = r.retryAfter !== undefined ? r.retryAfter * 1000 : 100;
          if (Date.now() + wait > giveUpAt) break;
          await sleep(wait);
          earlier.push(r.code === undefined ? { status: r.status } : { status: r.status, code: r.code });
          r = await attempt();
        }
      }
      const { retryAfter: _ra, ...answer } = r;
      outcomes.push({ marker: `${comment ? 'c' : 'e'}${n}`, ...answer, sentAt, answeredAt: Date.now(), ...(opts.retry ? { earlier } : {}) });
      if (!(typeof r.status === 'number' && r.status < 300)) await sleep(opts.pauseAfterFailureMs ?? 20);
    }
  };
  const running = Array.from({ length: opts.writers ?? 4 }, (_, i) => writer(i));
  return {
    outcomes,
    async stop() {
      stopped = true;
      await Promise.all(running);
      return outcomes;
    },
  };
}

/** The outcome's class: acknowledged (2xx), in doubt (PGP_OUTCOME_UNKNOWN or no answer), or a definite failure. */
export function outcomeClass(o: WriteOutcome): 'acked' | 'unknown' | 'failed' {
  if (o.status === 'none' || o.code === 'PGP_OUTCOME_UNKNOWN') return 'unknown';
  return o.status >= 200 && o.status < 300 ? 'acked' : 'failed';
}

/** One of the writers' rows in a database. */
export interface MarkerRow {
  /** The row's commit time in microseconds since the epoch when track_commit_timestamp is on (null
   *  otherwise): the server's precision, since a Date keeps only milliseconds and a commit later in
   *  T's millisecond would count as before T, where recovery stops short of it. */
  committedUs: number | null;
  /** A hash of the whole row: a restored row must equal its source. */
  hash: string;
}

/** The writers' rows in a database. */
export interface Markers {
  present: Map<string, MarkerRow>;
  /** Markers found more than once (a write applied twice). */
  duplicates: string[];
}

/** The writers' markers present in the database at url: comments and read_time events on articleId. */
export async function markersIn(url: string, articleId: number): Promise<Markers> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const commitTs = (await client.query<{ on: boolean }>("SELECT current_setting('track_commit_timestamp')::boolean AS on")).rows[0]!.on;
    // A constant of two, not a value: the commit time when the server records it.
    const ts = commitTs ? "(extract(epoch FROM pg_xact_commit_timestamp(t.xmin)) * 1000000)::bigint::text" : 'NULL::text';
    const rows = (await client.query<{ marker: string; committed: string | null; hash: string }>(
      `SELECT 'c' || substr(t.body, $1::int + 1) AS marker, ${ts} AS committed, md5(t::text) AS hash
         FROM comments t WHERE t.article_id = $3 AND t.body LIKE $2
       UNION ALL
       SELECT 'e' || t.read_ms AS marker, ${ts} AS committed, md5(t::text) AS hash
         FROM article_events t WHERE t.article_id = $3 AND t.kind = 'read_time'`,
      [COMMENT_PREFIX.length, `${COMMENT_PREFIX}%`, articleId],
    )).rows;
    const present = new Map<string, MarkerRow>();
    const duplicates: string[] = [];
    for (const r of rows) {
      if (present.has(r.marker)) duplicates.push(r.marker);
      present.set(r.marker, { committedUs: r.committed === null ? null : Number(r.committed), hash: r.hash });
    }
    return { present, duplicates };
  } finally {
    await client.end();
  }
}
