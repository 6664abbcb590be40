// A small embedded vocabulary so generated articles read like technical writing and full-text
// search, ranking and trigram lookup have real words to work on.

/** Subjects that titles are built around. */
export const TOPICS = [
  'PostgreSQL', 'replication', 'partitioning', 'indexing', 'vacuum', 'query planner', 'connection pooling',
  'full-text search', 'JSONB', 'materialized views', 'logical decoding', 'backups', 'write-ahead log',
  'TypeScript', 'Node.js', 'caching', 'Redis', 'observability', 'sharding', 'migrations', 'transactions',
  'isolation levels', 'deadlocks', 'autovacuum', 'statistics', 'row-level security', 'triggers',
  'stored procedures', 'benchmarks', 'latency', 'throughput', 'schema design', 'time series', 'analytics',
] as const;

/** Title patterns; {t} and {u} are topics, {a} an adjective. */
export const TITLE_PATTERNS = [
  'Understanding {t}', 'A {a} guide to {t}', '{t} in production', 'Why {t} matters for {u}',
  'How we scaled {t}', '{t} versus {u}', 'Debugging {t}', 'Ten lessons about {t}', 'The {a} side of {t}',
  '{t} without tears', 'Getting started with {t}', 'What nobody tells you about {t}', '{a} {t} patterns',
] as const;

/** Adjectives for titles and prose. */
export const ADJECTIVES = [
  'practical', 'hidden', 'surprising', 'modern', 'pragmatic', 'complete', 'quick', 'deep', 'careful',
  'robust', 'minimal', 'fast', 'reliable', 'scalable', 'simple', 'advanced', 'subtle', 'honest',
] as const;

/** Prose vocabulary, most common first (sampled with a Zipf law like natural text). */
export const WORDS = [
  'the', 'of', 'and', 'to', 'a', 'in', 'is', 'that', 'for', 'it', 'with', 'as', 'on', 'be', 'this', 'by',
  'are', 'we', 'when', 'table', 'query', 'index', 'data', 'database', 'rows', 'server', 'time', 'each',
  'write', 'read', 'page', 'plan', 'cost', 'memory', 'disk', 'lock', 'transaction', 'commit', 'column',
  'value', 'scan', 'join', 'sort', 'hash', 'tuple', 'buffer', 'cache', 'replica', 'primary', 'standby',
  'latency', 'request', 'client', 'connection', 'pool', 'timeout', 'retry', 'error', 'failure', 'backup',
  'restore', 'schema', 'migration', 'version', 'partition', 'month', 'archive', 'retention', 'vacuum',
  'bloat', 'statistics', 'estimate', 'planner', 'executor', 'parallel', 'worker', 'process', 'thread',
  'event', 'stream', 'log', 'checkpoint', 'fsync', 'throughput', 'benchmark', 'measure', 'metric', 'alert',
  'dashboard', 'operator', 'engineer', 'team', 'production', 'incident', 'outage', 'recovery', 'snapshot',
  'consistency', 'isolation', 'serializable', 'deadlock', 'contention', 'queue', 'batch', 'bulk', 'copy',
  'insert', 'update', 'delete', 'select', 'trigger', 'function', 'procedure', 'extension', 'trigram',
  'vector', 'ranking', 'search', 'document', 'phrase', 'stemming', 'dictionary', 'json', 'document',
  'key', 'path', 'expression', 'covering', 'partial', 'unique', 'constraint', 'foreign', 'integrity',
  'careful', 'quickly', 'slowly', 'often', 'rarely', 'always', 'never', 'better', 'worse', 'simple',
  'complex', 'large', 'small', 'hot', 'cold', 'fresh', 'stale', 'healthy', 'broken', 'safe', 'risky',
] as const;

/** Comment openers, so comments look like replies rather than word salad. */
export const COMMENT_OPENERS = [
  'Great write-up!', 'Thanks for sharing.', 'I disagree slightly:', 'We saw the same thing:',
  'Small correction:', 'This saved my week.', 'Have you measured', 'Interesting, but',
] as const;

/** Metadata languages with their share of articles (heavily English, like most blogs). */
export const LANGS: readonly (readonly [string, number])[] = [
  ['en', 0.8], ['de', 0.08], ['fr', 0.05], ['es', 0.04], ['ja', 0.02], ['pt', 0.01],
];

const SYLLABLES = ['ka', 'lo', 'mi', 'ren', 'tu', 'sa', 'vi', 'dor', 'el', 'qui', 'na', 'bro', 'zen', 'fa', 'go', 'hal', 'ix', 'jor', 'pe', 'wu'];

/** A long tail of invented names (products, places, people): real text has a large vocabulary
 *  where most words are rare, which the small prose list above cannot give. Deterministic. */
export function tailVocabulary(n: number): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (let i = 0; out.length < n; i++) {
    let x = (i * 2654435761) >>> 0;
    let w = '';
    for (let k = 0; k < 3 + (i % 2); k++) {
      w += SYLLABLES[x % SYLLABLES.length];
      x = Math.floor(x / SYLLABLES.length) + i + k;
    }
    if (!seen.has(w)) {
      seen.add(w);
      out.push(w);
    }
  }
  return out;
}
