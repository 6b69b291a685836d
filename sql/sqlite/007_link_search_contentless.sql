-- The trigram index of q keeps no copy of the text it indexes: it is
-- contentless (content = ''), as nothing reads its columns, only the rowids
-- MATCH finds, and it keeps no column sizes (columnsize = 0), which no
-- query of shortd ranks by. Each link written costs about a tenth less of
-- SQLite's work (a bulk create's 1,000 links: one row fewer in each of
-- link_search_content and link_search_docsize a link).
--
-- A contentless index forgets a row only when told the text it indexed
-- for it: every trigger that takes a link out of the index writes the
-- 'delete' command with the link's old code, url, title and tags, the same
-- expressions that indexed them (tags one a line, NULL for none). So the
-- index stays exact whoever writes links (serve, the CLI, the sqlite3
-- shell), as long as these triggers are in place.
DROP TRIGGER link_labels_replaced;
DROP TRIGGER link_labels_added;
DROP TRIGGER link_search_changed;
DROP TRIGGER link_labels_deleted;
DROP TABLE link_search;

CREATE VIRTUAL TABLE link_search USING fts5 (code, url, title, tags, tokenize = 'trigram', content = '',
	columnsize = 0);

INSERT INTO link_search (rowid, code, url, title, tags)
	SELECT id, code, url, title, (SELECT group_concat(value, char(10)) FROM json_each(links.tags)) FROM links;

-- An INSERT OR REPLACE removes the row it replaces (by code or by id)
-- without the delete trigger (unless recursive_triggers is on). Before any
-- insert that meets an existing row, that row's indexed text is put aside
-- in link_search_replaced; the insert trigger then takes out of the index
-- (and link_tag) whatever was put aside for a row that is no longer there
-- or was replaced under the same id. An insert that did not replace (an
-- upsert's DO UPDATE or DO NOTHING, INSERT OR IGNORE) leaves its row
-- indexed as it was; the update and delete triggers forget what was put
-- aside for their row. A plain insert pays two looks into an empty table
-- for it (the insert triggers' WHEN).
CREATE TABLE link_search_replaced (
	id    INTEGER PRIMARY KEY,
	code  TEXT,
	url   TEXT,
	title TEXT,
	tags  TEXT
);

-- One trigger with 004's links_replaced (which moved the epoch under the
-- same condition): each row a bulk create inserts pays its two lookups
-- once, not twice.
DROP TRIGGER links_replaced;
CREATE TRIGGER links_replaced BEFORE INSERT ON links
WHEN EXISTS (SELECT 1 FROM links WHERE code = NEW.code OR id = NEW.id)
BEGIN
	UPDATE link_epoch SET n = n + 1 WHERE id = 1;
	INSERT OR REPLACE INTO link_search_replaced (id, code, url, title, tags)
		SELECT id, code, url, title, (SELECT group_concat(value, char(10)) FROM json_each(links.tags))
		FROM links WHERE code = NEW.code OR id = NEW.id;
END;

CREATE TRIGGER link_labels_added AFTER INSERT ON links
WHEN NOT EXISTS (SELECT 1 FROM link_search_replaced)
BEGIN
	INSERT INTO link_tag (link_id, tag) SELECT NEW.id, value FROM json_each(NEW.tags);
	INSERT INTO link_search (rowid, code, url, title, tags)
		VALUES (NEW.id, NEW.code, NEW.url, NEW.title,
		        (SELECT group_concat(value, char(10)) FROM json_each(NEW.tags)));
END;

-- The same, after an insert that met existing rows: what they left goes
-- first (before the new row's text, which may have their id). A trigger of
-- its own, as any statement on link_search in a trigger costs each row
-- that fires it, rows or none.
CREATE TRIGGER link_labels_added_replacing AFTER INSERT ON links
WHEN EXISTS (SELECT 1 FROM link_search_replaced)
BEGIN
	DELETE FROM link_tag WHERE link_id IN (SELECT r.id FROM link_search_replaced AS r
		WHERE r.id = NEW.id OR NOT EXISTS (SELECT 1 FROM links WHERE links.id = r.id));
	INSERT INTO link_search (link_search, rowid, code, url, title, tags)
		SELECT 'delete', r.id, r.code, r.url, r.title, r.tags FROM link_search_replaced AS r
		WHERE r.id = NEW.id OR NOT EXISTS (SELECT 1 FROM links WHERE links.id = r.id);
	DELETE FROM link_search_replaced;
	INSERT INTO link_tag (link_id, tag) SELECT NEW.id, value FROM json_each(NEW.tags);
	INSERT INTO link_search (rowid, code, url, title, tags)
		VALUES (NEW.id, NEW.code, NEW.url, NEW.title,
		        (SELECT group_concat(value, char(10)) FROM json_each(NEW.tags)));
END;

-- id too: a row given another id (by hand) is indexed under the new one.
CREATE TRIGGER link_search_changed AFTER UPDATE OF id, code, url, title, tags ON links
BEGIN
	DELETE FROM link_search_replaced WHERE id = OLD.id;
	INSERT INTO link_search (link_search, rowid, code, url, title, tags)
		VALUES ('delete', OLD.id, OLD.code, OLD.url, OLD.title,
		        (SELECT group_concat(value, char(10)) FROM json_each(OLD.tags)));
	INSERT INTO link_search (rowid, code, url, title, tags)
		VALUES (NEW.id, NEW.code, NEW.url, NEW.title,
		        (SELECT group_concat(value, char(10)) FROM json_each(NEW.tags)));
END;

-- link_tag goes by its foreign key too; not when foreign_keys is off.
CREATE TRIGGER link_labels_deleted AFTER DELETE ON links
BEGIN
	DELETE FROM link_tag WHERE link_id = OLD.id;
	DELETE FROM link_search_replaced WHERE id = OLD.id;
	INSERT INTO link_search (link_search, rowid, code, url, title, tags)
		VALUES ('delete', OLD.id, OLD.code, OLD.url, OLD.title,
		        (SELECT group_concat(value, char(10)) FROM json_each(OLD.tags)));
END;
