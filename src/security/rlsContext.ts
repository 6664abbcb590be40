// The request's row-level security context (migrations 0070/0071): who acts and in which role,
// SET LOCAL in the transaction as pgpress.actor_id and pgpress.role. Statements outside a
// transaction carry no context and so see what an anonymous caller sees (published articles and
// their comments): a read that may need more (a draft for its author, an editor) runs in a
// transaction that sets the context (see rlsRead).
import type { TxOptions } from '../db/queryable.ts';

/** Who acts, as the store's contexts carry it. */
export interface RlsActor {
  /** The acting user's id (pgpress.actor_id). */
  actorId?: number | undefined;
  /** The acting user's role (pgpress.role): 'author', 'editor' or 'admin'. */
  role?: string | undefined;
}

/** True when ctx names an actor or a role: reads for it must carry the context. */
export function hasRlsContext(ctx: RlsActor | undefined): boolean {
  return ctx?.actorId !== undefined || ctx?.role !== undefined;
}

/** The transaction options that SET LOCAL the context of ctx (nothing for an anonymous caller). */
export function rlsTxOptions(ctx: RlsActor | undefined): Pick<TxOptions, 'actorId' | 'role'> {
  return {
    ...(ctx?.actorId === undefined ? {} : { actorId: String(ctx.actorId) }),
    ...(ctx?.role === undefined ? {} : { role: ctx.role }),
  };
}
