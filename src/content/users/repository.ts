// Users: create, read and update the profile.
import type { Queryable } from '../../db/cluster.ts';
import { PgpressError } from '../../errors/index.ts';
import { toId } from '../ids.ts';
import { insertUser, updateUserProfile, userById } from './queries.ts';

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

/** What it takes to create a user. */
export interface NewUser {
  email: string;
  username: string;
  displayName: string;
  bio?: string;
}

interface UserRow {
  id: string;
  email: string;
  username: string;
  display_name: string;
  bio: string;
  created_at: Date;
  updated_at: Date;
}

function toUser(r: UserRow): User {
  return {
    id: toId(r.id),
    email: r.email,
    username: r.username,
    displayName: r.display_name,
    bio: r.bio,
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
  };
}

/** Creates a user; a taken email or username is PGP_CONFLICT. */
export async function createUser(db: Queryable, input: NewUser): Promise<User> {
  try {
    const { rows } = await db.query<UserRow>(insertUser, [input.email, input.username, input.displayName, input.bio ?? '']);
    return toUser(rows[0]!);
  } catch (e) {
    if ((e as PgpressError).pg?.sqlstate === '23505') {
      const what = (e as PgpressError).pg?.constraint === 'users_email_key' ? 'email' : 'username';
      throw new PgpressError('PGP_CONFLICT', `A user with this ${what} already exists.`, { cause: e, details: { field: what } });
    }
    throw e;
  }
}

/** Returns the user with this id, or throws PGP_NOT_FOUND. */
export async function getUser(db: Queryable, id: number): Promise<User> {
  const { rows } = await db.query<UserRow>(userById, [id], { read: true });
  if (!rows[0]) throw new PgpressError('PGP_NOT_FOUND', `User ${id} does not exist.`);
  return toUser(rows[0]);
}

/** The profile fields a user may change (email and username are identity: not here). */
export interface UserProfilePatch {
  displayName?: string;
  bio?: string;
}

/** Updates a user's profile; an unknown id is PGP_NOT_FOUND. */
export async function updateUser(db: Queryable, id: number, patch: UserProfilePatch): Promise<User> {
  const { rows } = await db.query<UserRow>(updateUserProfile, [id, patch.displayName ?? null, patch.bio ?? null]);
  if (!rows[0]) throw new PgpressError('PGP_NOT_FOUND', `User ${id} does not exist.`);
  return toUser(rows[0]);
}
