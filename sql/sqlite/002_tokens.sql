-- API tokens, stored only as the SHA-256 of the secret.
CREATE TABLE tokens (
	id         INTEGER PRIMARY KEY,
	name       TEXT    NOT NULL UNIQUE,
	hash       BLOB    NOT NULL UNIQUE,
	role       INTEGER NOT NULL CHECK (role IN (0, 1)), -- 0 admin, 1 read-only
	created_at INTEGER NOT NULL
);
