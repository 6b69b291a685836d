-- Labels and authorship of a link, and the indexes that find links by them.
-- title: NULL for none. tags: a JSON array of distinct strings (the form
-- link_json writes), '[]' for none; link_tag holds one row per tag, kept by
-- the triggers below whoever writes links (serve, the CLI, the sqlite3
-- shell). created_by/updated_by: the name of the token that made and last
-- changed the link ('cli' for the command line); NULL for links made before
-- this migration.
ALTER TABLE links ADD COLUMN title TEXT;
ALTER TABLE links ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';
ALTER TABLE links ADD COLUMN created_by TEXT;
ALTER TABLE links ADD COLUMN updated_by TEXT;

-- The links of a target: GET /api/v1/links?url=, and "reuse". With id, so a
-- page of one URL's links is read in id order from the index.
CREATE INDEX links_url ON links (url, id);

-- The links of a tag, in id order: GET /api/v1/links?tag=.
CREATE TABLE link_tag (
	link_id INTEGER NOT NULL REFERENCES links (id) ON DELETE CASCADE,
	tag     TEXT    NOT NULL,
	PRIMARY KEY (link_id, tag)
) WITHOUT ROWID;
CREATE INDEX link_tag_by_tag ON link_tag (tag, link_id);

-- ?q=: a case-insensitive substring of code, url, title or a tag, found
-- through trigrams rather than by reading every link. Its own copy of the
-- text, tags one a line; rowid is the link's id.
CREATE VIRTUAL TABLE link_search USING fts5 (code, url, title, tags, tokenize = 'trigram');

INSERT INTO link_search (rowid, code, url, title, tags)
	SELECT id, code, url, title, '' FROM links;

-- An INSERT OR REPLACE removes the row it replaces (by code or by id)
-- without the delete trigger (unless recursive_triggers is on): what that
-- row left goes first. Only then, so a plain insert pays nothing for it.
CREATE TRIGGER link_labels_replaced BEFORE INSERT ON links
WHEN EXISTS (SELECT 1 FROM links WHERE code = NEW.code OR id = NEW.id)
BEGIN
	DELETE FROM link_tag WHERE link_id IN (SELECT id FROM links WHERE code = NEW.code OR id = NEW.id);
	DELETE FROM link_search WHERE rowid IN (SELECT id FROM links WHERE code = NEW.code OR id = NEW.id);
END;

CREATE TRIGGER link_labels_added AFTER INSERT ON links
BEGIN
	INSERT INTO link_tag (link_id, tag) SELECT NEW.id, value FROM json_each(NEW.tags);
	INSERT INTO link_search (rowid, code, url, title, tags)
		VALUES (NEW.id, NEW.code, NEW.url, NEW.title,
		        (SELECT group_concat(value, char(10)) FROM json_each(NEW.tags)));
END;

CREATE TRIGGER link_tags_changed AFTER UPDATE OF tags ON links
BEGIN
	DELETE FROM link_tag WHERE link_id = OLD.id;
	INSERT INTO link_tag (link_id, tag) SELECT NEW.id, value FROM json_each(NEW.tags);
END;

CREATE TRIGGER link_search_changed AFTER UPDATE OF code, url, title, tags ON links
BEGIN
	DELETE FROM link_search WHERE rowid = OLD.id;
	INSERT INTO link_search (rowid, code, url, title, tags)
		VALUES (NEW.id, NEW.code, NEW.url, NEW.title,
		        (SELECT group_concat(value, char(10)) FROM json_each(NEW.tags)));
END;

-- link_tag goes by its foreign key too; not when foreign_keys is off.
CREATE TRIGGER link_labels_deleted AFTER DELETE ON links
BEGIN
	DELETE FROM link_tag WHERE link_id = OLD.id;
	DELETE FROM link_search WHERE rowid = OLD.id;
END;
