// Named SQL for users.
import { sql } from '../../db/sql.ts';

// email: the clear column of rows from before 0090, until `pgpress keys rotate` encrypts them.
const COLUMNS = 'id, email, email_ciphertext, email_key_id, username, display_name, bio, created_at, updated_at';

// The id is taken first: the email's ciphertext is bound to its row id (associated data).
export const nextUserId = sql('users.nextId', `SELECT nextval(pg_get_serial_sequence('users', 'id'))::bigint AS id`);

export const insertUser = sql(
  'users.insert',
  `INSERT INTO users (id, email_ciphertext, email_key_id, email_index, username, display_name, bio)
   OVERRIDING SYSTEM VALUE VALUES ($1, $2, $3, $4, $5, $6, $7)
   RETURNING ${COLUMNS}`,
);

export const userById = sql('users.byId', `SELECT ${COLUMNS} FROM users WHERE id = $1`);

// Point reads of one event-loop turn in one statement (src/db/pointReadBatch.ts): the same columns as userById.
export const usersByIds = sql('users.byIds', `SELECT ${COLUMNS} FROM users WHERE id = ANY($1::bigint[])`);

export const updateUserProfile = sql(
  'users.updateProfile',
  `UPDATE users SET display_name = coalesce($2, display_name), bio = coalesce($3, bio), updated_at = now()
   WHERE id = $1
   RETURNING ${COLUMNS}`,
);

// Key rotation: the next rows after a cursor that are in clear or under another key than the
// current one, locked; rows another transaction holds are skipped (a later pass takes them).
export const rotationBatch = sql(
  'users.rotationBatch',
  `SELECT id, email, email_ciphertext, email_key_id FROM users
   WHERE id > $1 AND (email IS NOT NULL OR email_key_id IS DISTINCT FROM $2)
   ORDER BY id LIMIT $3
   FOR UPDATE SKIP LOCKED`,
);

export const rotationWrite = sql(
  'users.rotationWrite',
  `UPDATE users u SET email = NULL, email_ciphertext = r.ciphertext, email_key_id = r.key_id, email_index = r.index
   FROM unnest($1::bigint[], $2::bytea[], $3::text[], $4::bytea[]) AS r(id, ciphertext, key_id, index)
   WHERE u.id = r.id`,
);

export const rotationRemaining = sql(
  'users.rotationRemaining',
  `SELECT count(*) FILTER (WHERE email IS NOT NULL)::bigint AS clear, count(*) FILTER (WHERE email IS NULL)::bigint AS other_key
   FROM users WHERE email IS NOT NULL OR email_key_id IS DISTINCT FROM $1`,
);
