-- New links wait to be indexed for q. FTS5 writes a segment of its index at
-- the end of every transaction that changed it, and merges segments as they
-- pile up: for a link created on its own that was most of the create's cost
-- (about 290 of 380 us on a file of 100,000 links). shortd now indexes the
-- waiting links together, in one statement of the write that brings them to
-- 64, and until then q matches them one by one (store_sqlite.c, with the
-- trigram tokenizer's own folding of case).
--
-- The links waiting are those whose id is above link_search_indexed.upto;
-- every link at or below it is in link_search. links' ids only go up
-- (AUTOINCREMENT), so a new link waits without a write of its own. The
-- triggers keep this whoever writes links (serve, the CLI, the sqlite3
-- shell): an index entry is written or taken out only for a link at or
-- below upto, with its old text on the way out, as the index is
-- contentless. A row given an id at or below upto by hand is indexed at
-- once.
CREATE TABLE link_search_indexed (
	id   INTEGER PRIMARY KEY CHECK (id = 1),
	upto INTEGER NOT NULL
);
INSERT INTO link_search_indexed (id, upto) VALUES (1, coalesce((SELECT max(id) FROM links), 0));

DROP TRIGGER link_labels_added;
CREATE TRIGGER link_labels_added AFTER INSERT ON links
WHEN NOT EXISTS (SELECT 1 FROM link_search_replaced)
BEGIN
	INSERT INTO link_tag (link_id, tag) SELECT NEW.id, value FROM json_each(NEW.tags);
	INSERT INTO link_search (rowid, code, url, title, tags)
		SELECT NEW.id, NEW.code, NEW.url, NEW.title,
		       (SELECT group_concat(value, char(10)) FROM json_each(NEW.tags))
		WHERE NEW.id <= (SELECT upto FROM link_search_indexed);
END;

-- What an insert replaced leaves the index first, as in 007.
DROP TRIGGER link_labels_added_replacing;
CREATE TRIGGER link_labels_added_replacing AFTER INSERT ON links
WHEN EXISTS (SELECT 1 FROM link_search_replaced)
BEGIN
	DELETE FROM link_tag WHERE link_id IN (SELECT r.id FROM link_search_replaced AS r
		WHERE r.id = NEW.id OR NOT EXISTS (SELECT 1 FROM links WHERE links.id = r.id));
	INSERT INTO link_search (link_search, rowid, code, url, title, tags)
		SELECT 'delete', r.id, r.code, r.url, r.title, r.tags FROM link_search_replaced AS r
		WHERE (r.id = NEW.id OR NOT EXISTS (SELECT 1 FROM links WHERE links.id = r.id))
		AND r.id <= (SELECT upto FROM link_search_indexed);
	DELETE FROM link_search_replaced;
	INSERT INTO link_tag (link_id, tag) SELECT NEW.id, value FROM json_each(NEW.tags);
	INSERT INTO link_search (rowid, code, url, title, tags)
		SELECT NEW.id, NEW.code, NEW.url, NEW.title,
		       (SELECT group_concat(value, char(10)) FROM json_each(NEW.tags))
		WHERE NEW.id <= (SELECT upto FROM link_search_indexed);
END;

DROP TRIGGER link_search_changed;
CREATE TRIGGER link_search_changed AFTER UPDATE OF id, code, url, title, tags ON links
BEGIN
	DELETE FROM link_search_replaced WHERE id = OLD.id;
	INSERT INTO link_search (link_search, rowid, code, url, title, tags)
		SELECT 'delete', OLD.id, OLD.code, OLD.url, OLD.title,
		       (SELECT group_concat(value, char(10)) FROM json_each(OLD.tags))
		WHERE OLD.id <= (SELECT upto FROM link_search_indexed);
	INSERT INTO link_search (rowid, code, url, title, tags)
		SELECT NEW.id, NEW.code, NEW.url, NEW.title,
		       (SELECT group_concat(value, char(10)) FROM json_each(NEW.tags))
		WHERE NEW.id <= (SELECT upto FROM link_search_indexed);
END;

DROP TRIGGER link_labels_deleted;
CREATE TRIGGER link_labels_deleted AFTER DELETE ON links
BEGIN
	DELETE FROM link_tag WHERE link_id = OLD.id;
	DELETE FROM link_search_replaced WHERE id = OLD.id;
	INSERT INTO link_search (link_search, rowid, code, url, title, tags)
		SELECT 'delete', OLD.id, OLD.code, OLD.url, OLD.title,
		       (SELECT group_concat(value, char(10)) FROM json_each(OLD.tags))
		WHERE OLD.id <= (SELECT upto FROM link_search_indexed);
END;
