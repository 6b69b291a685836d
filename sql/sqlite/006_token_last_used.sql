-- Tokens gain last_used_at, unix seconds (NULL: never): a daemon keeps the
-- uses in memory and writes them in batches with the clicks, so the value
-- stored trails the real one by up to one flush interval. The table is
-- rebuilt with AUTOINCREMENT so that an id, which the API names a token by,
-- is never given again to a later token once its own is revoked.
CREATE TABLE tokens_new (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	name         TEXT    NOT NULL UNIQUE,
	hash         BLOB    NOT NULL UNIQUE,
	role         INTEGER NOT NULL CHECK (role IN (0, 1)), -- 0 admin, 1 read-only
	created_at   INTEGER NOT NULL,
	last_used_at INTEGER
);
INSERT INTO tokens_new (id, name, hash, role, created_at)
	SELECT id, name, hash, role, created_at FROM tokens;
DROP TABLE tokens;
ALTER TABLE tokens_new RENAME TO tokens;
