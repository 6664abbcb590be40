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
