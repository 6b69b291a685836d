-- Tokens gain last_used_at, unix seconds (NULL: never), as
-- sql/sqlite/006_token_last_used.sql: a daemon keeps the uses in memory and
-- writes them in batches with the clicks, so the value stored trails the
-- real one by up to one flush interval. A token's id comes from an identity
-- whose sequence never hands an id out twice.
ALTER TABLE tokens ADD COLUMN last_used_at BIGINT;
