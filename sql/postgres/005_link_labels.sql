-- Labels and authorship of a link, as sql/sqlite/005_link_labels.sql.
-- title: NULL for none. tags: a JSON array of distinct strings in the order
-- given, '[]' for none. created_by/updated_by: the name of the token that
-- made and last changed the link ('cli' for the command line); NULL for
-- links made before this migration.
ALTER TABLE links ADD COLUMN title TEXT;
ALTER TABLE links ADD COLUMN tags JSONB NOT NULL DEFAULT '[]';
ALTER TABLE links ADD COLUMN created_by TEXT;
ALTER TABLE links ADD COLUMN updated_by TEXT;

-- The links of a target: GET /api/v1/links?url=, and "reuse"; in id order.
CREATE INDEX links_url ON links (url, id);

-- The links of a tag: tags @> '["t"]'.
CREATE INDEX links_tags ON links USING gin (tags jsonb_path_ops);

-- ?q=: a case-insensitive substring of code, url, title or a tag, found
-- through trigrams (pg_trgm, a trusted extension: the database's owner may
-- create it) rather than by reading every link. The text indexed is the
-- four joined; the store checks each field itself after the index.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX links_search ON links USING gin (
	lower(code || E'\n' || url || E'\n' || coalesce(title, '') || E'\n' || (tags::text)) gin_trgm_ops);
