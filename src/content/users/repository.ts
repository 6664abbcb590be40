// Users: create, read and update the profile. The email is sealed (AES-256-GCM) before it leaves
// the process and opened after it comes back; the database, its dumps, WAL and the cache hold
// only the ciphertext and the blind index.
import type { Queryable } from '../../db/cluster.ts';
import { PointReadBatcher, type PointReads } from '../../db/pointReadBatch.ts';
import { PgpressError } from '../../errors/index.ts';
import { emailIndex } from '../../security/blindIndex.ts';
import { open, seal } from '../../security/crypto.ts';
import type { KeyRing } from '../../security/keyRing.ts';
import { toId } from '../ids.ts';
import { insertUser, nextUserId, updateUserProfile, userById, usersByIds } from './queries.ts';

/** A user as the API and library return it (email is private: only its owner sees it later). */
export interface User {
  id: number;
  email: string;
  username: string;
  displayName: string;
  bio: string;
  createdAt: string;
  updatedAt: string;
}

/** A user as read and cached: the email still sealed (base64) — or in clear on a row `keys rotate` has not reached. */
export interface SealedUser extends Omit<User, 'email'> {
  email: { sealed: string; keyId: string } | { clear: string };
}

/** What it takes to create a user. */
export interface NewUser {
  email: string;
  username: string;
  displayName: string;
  bio?: string;
}

interface UserRow {
  id: string;
  email: string | null;
  email_ciphertext: Buffer | null;
  email_key_id: string | null;
  username: string;
  display_name: string;
  bio: string;
  created_at: Date;
  updated_at: Date;
}

function toSealedUser(r: UserRow): SealedUser {
  return {
    id: toId(r.id),
    email: r.email_ciphertext && r.email_key_id ? { sealed: r.email_ciphertext.toString('base64'), keyId: r.email_key_id } : { clear: r.email ?? '' },
    username: r.username,
    displayName: r.display_name,
    bio: r.bio,
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
  };
}

/** Opens a sealed user's email. */
export function openUser(ring: KeyRing, u: SealedUser): User {
  const email = 'clear' in u.email ? u.email.clear : open(ring, 'users', 'email', u.id, { ciphertext: Buffer.from(u.email.sealed, 'base64'), keyId: u.email.keyId });
  return { ...u, email };
}

/** Creates a user with the email sealed under the current key; a taken email or username is PGP_CONFLICT. */
export async function createUser(db: Queryable, ring: KeyRing, input: NewUser): Promise<User> {
  try {
    const id = toId((await db.query<{ id: string }>(nextUserId, [])).rows[0]!.id);
    const s = seal(ring, 'users', 'email', id, input.email);
    const { rows } = await db.query<UserRow>(insertUser, [id, s.ciphertext, s.keyId, emailIndex(ring, input.email), input.username, input.displayName, input.bio ?? '']);
    return openUser(ring, toSealedUser(rows[0]!));
  } catch (e) {
    if ((e as PgpressError).pg?.sqlstate === '23505') {
      const what = /email/.test((e as PgpressError).pg?.constraint ?? '') ? 'email' : 'username';
      throw new PgpressError('PGP_CONFLICT', `A user with this ${what} already exists.`, { cause: e, details: { field: what } });
    }
    throw e;
  }
}

/** Returns the user with this id, email still sealed (what the cache may hold), or throws PGP_NOT_FOUND. */
export async function getSealedUser(db: Queryable, id: number): Promise<SealedUser> {
  const { rows } = await db.query<UserRow>(userById, [id], { read: true });
  if (!rows[0]) throw new PgpressError('PGP_NOT_FOUND', `User ${id} does not exist.`);
  return toSealedUser(rows[0]);
}

/** getSealedUser's reads on db batched (batchingReads): those of one event-loop turn as one usersByIds. */
export function userPointReads(db: Queryable): PointReads {
  return new PointReadBatcher<UserRow>(db, { one: userById, many: usersByIds, keyOf: (r) => Number(r.id) });
}

/** The profile fields a user may change (email and username are identity: not here). */
export interface UserProfilePatch {
  displayName?: string;
  bio?: string;
}

/** Updates a user's profile; an unknown id is PGP_NOT_FOUND. */
export async function updateUser(db: Queryable, ring: KeyRing, id: number, patch: UserProfilePatch): Promise<User> {
  const { rows } = await db.query<UserRow>(updateUserProfile, [id, patch.displayName ?? null, patch.bio ?? null]);
  if (!rows[0]) throw new PgpressError('PGP_NOT_FOUND', `User ${id} does not exist.`);
  return openUser(ring, toSealedUser(rows[0]));
}
