// Row-level security bypass attempts (migrations 0070/0071), run as the application role. Each
// probe returns what the attempt achieved, so test/security/rls.test.ts can assert it failed and
// test/security/rlsPolicyDrop.test.ts can drop the policy behind it and assert it now succeeds.
import pg from 'pg';
import { createStore } from '../../src/store.ts';

/** The rows the probes aim at: alice's draft, published and archived articles, comments under them. */
export interface RlsFixture {
  alice: number;
  bob: number;
  draft: { id: number; slug: string };
  published: { id: number; slug: string };
  archived: { id: number; slug: string };
  /** Alice's comment under her draft, and bob's under her published article. */
  draftComment: number;
  bobComment: number;
  aliceComment: number;
}

/** The request context a probe acts with (undefined: no context at all). */
export interface Ctx {
  actorId?: number;
  role?: string;
}

/** Creates the fixture as the superuser (url): users through the library, articles and comments in SQL. */
export async function rlsFixture(url: string): Promise<RlsFixture> {
  const store = await createStore({ url, pool: { max: 1 } });
  const su = new pg.Client({ connectionString: url });
  await su.connect();
  try {
    const tag = Math.random().toString(36).slice(2, 8);
    const alice = (await store.users.create({ email: `alice-${tag}@example.org`, username: `alice_${tag}`, displayName: 'Alice' })).id;
    const bob = (await store.users.create({ email: `bob-${tag}@example.org`, username: `bob_${tag}`, displayName: 'Bob' })).id;
    const article = async (status: string): Promise<{ id: number; slug: string }> => {
      const slug = `rls-${status}-${tag}`;
      const { rows } = await su.query<{ id: string }>(
        `INSERT INTO articles (author_id, title, slug, status, published_at) VALUES ($1, $2, $3, $4, CASE WHEN $4 = 'draft' THEN NULL ELSE now() END) RETURNING id`,
        [alice, `Alice ${status}`, slug, status],
      );
      return { id: Number(rows[0]!.id), slug };
    };
    const draft = await article('draft');
    const published = await article('published');
    const archived = await article('archived');
    const comment = async (articleId: number, authorId: number, body: string): Promise<number> =>
      Number((await su.query<{ id: string }>('INSERT INTO comments (article_id, author_id, body) VALUES ($1, $2, $3) RETURNING id', [articleId, authorId, body])).rows[0]!.id);
    return {
      alice,
      bob,
      draft,
      published,
      archived,
      draftComment: await comment(draft.id, alice, 'secret draft note'),
      bobComment: await comment(published.id, bob, 'bob says hi'),
      aliceComment: await comment(published.id, alice, 'alice answers'),
    };
  } finally {
    await su.end();
    await store.close();
  }
}

/** Runs sql in a transaction with ctx SET LOCAL (as the app does), rolled back: the rows, or the SQLSTATE it failed with. */
export async function asCtx(c: pg.Client, ctx: Ctx | undefined, sql: string, params: unknown[] = []): Promise<{ rows: Record<string, unknown>[] } | { error: string }> {
  await c.query('BEGIN');
  try {
    if (ctx) await c.query("SELECT set_config('pgpress.actor_id', $1, true), set_config('pgpress.role', $2, true)", [ctx.actorId === undefined ? '' : String(ctx.actorId), ctx.role ?? '']);
    const r = await c.query(sql, params);
    return { rows: r.rows };
  } catch (e) {
    return { error: (e as { code?: string }).code ?? String(e) };
  } finally {
    await c.query('ROLLBACK');
  }
}

const ids = (r: { rows: Record<string, unknown>[] } | { error: string }): number[] => ('rows' in r ? r.rows.map((x) => Number(x.id)).sort((a, b) => a - b) : []);

/** Each bypass attempt: true when it got what it should not. The key names the policy it probes. */
export function probes(c: pg.Client, f: RlsFixture): Record<string, () => Promise<boolean>> {
  const bob: Ctx = { actorId: f.bob, role: 'author' };
  const hidden = [f.draft.id, f.archived.id];
  return {
    /** articles_read: without context (and as another author) a draft or archived article is readable. */
    articles_read: async () => {
      const none = ids(await asCtx(c, undefined, 'SELECT id FROM articles'));
      const asBob = ids(await asCtx(c, bob, 'SELECT id FROM articles'));
      return [...none, ...asBob].some((id) => hidden.includes(id));
    },
    /** articles_update: bob's UPDATE … RETURNING on alice's published article returns (and changes) it. */
    articles_update: async () => ids(await asCtx(c, bob, "UPDATE articles SET title = 'pwned' WHERE id = $1 RETURNING id", [f.published.id])).length > 0,
    /** articles_insert: bob inserts an article in alice's name (no RETURNING: a draft he may not read would fail on it). */
    articles_insert: async () => 'rows' in (await asCtx(c, bob, "INSERT INTO articles (author_id, title, slug) VALUES ($1, 'forged', $2)", [f.alice, `forged-${f.alice}-${f.bob}`])),
    /** articles_delete: bob deletes alice's published article. */
    articles_delete: async () => ids(await asCtx(c, bob, 'DELETE FROM articles WHERE id = $1 RETURNING id', [f.published.id])).length > 0,
    /** comments_read: without context a draft's comment is readable. */
    comments_read: async () => ids(await asCtx(c, undefined, 'SELECT id FROM comments')).includes(f.draftComment),
    /** comments_update: bob soft-deletes alice's comment (UPDATE … RETURNING). */
    comments_update: async () => ids(await asCtx(c, bob, 'UPDATE comments SET deleted_at = now() WHERE id = $1 RETURNING id', [f.aliceComment])).length > 0,
    /** comments_insert: bob comments in alice's name. */
    comments_insert: async () => 'rows' in (await asCtx(c, bob, "INSERT INTO comments (article_id, author_id, body) VALUES ($1, $2, 'forged') RETURNING id", [f.published.id, f.alice])),
    /** comments_delete: bob deletes alice's comment. */
    comments_delete: async () => ids(await asCtx(c, bob, 'DELETE FROM comments WHERE id = $1 RETURNING id', [f.aliceComment])).length > 0,
  };
}
