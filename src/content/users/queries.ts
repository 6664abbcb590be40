// Named SQL for users.
import { sql } from '../../db/sql.ts';

const COLUMNS = 'id, email, username, display_name, bio, created_at, updated_at';

export const insertUser = sql(
  'users.insert',
  `INSERT INTO users (email, username, display_name, bio)
   VALUES ($1, $2, $3, $4)
   RETURNING ${COLUMNS}`,
);

export const userById = sql('users.byId', `SELECT ${COLUMNS} FROM users WHERE id = $1`);

export const updateUserProfile = sql(
  'users.updateProfile',
  `UPDATE users SET display_name = coalesce($2, display_name), bio = coalesce($3, bio), updated_at = now()
   WHERE id = $1
   RETURNING ${COLUMNS}`,
);
