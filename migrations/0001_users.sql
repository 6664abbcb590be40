-- Users: the people who write articles and comments.
CREATE TABLE IF NOT EXISTS users (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  email        text        NOT NULL CHECK (email ~ '^[^@\s]+@[^@\s]+$' AND length(email) <= 320),
  username     text        NOT NULL CHECK (username ~ '^[a-z0-9_]{3,32}$'),
  display_name text        NOT NULL CHECK (length(display_name) BETWEEN 1 AND 100),
  bio          text        NOT NULL DEFAULT '' CHECK (length(bio) <= 2000),
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now()
);

CREATE UNIQUE INDEX IF NOT EXISTS users_email_key ON users (lower(email));
CREATE UNIQUE INDEX IF NOT EXISTS users_username_key ON users (username);
