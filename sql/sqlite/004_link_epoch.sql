-- A counter of changes to what a redirect reads of a link, moved by
-- triggers in the same transaction as the change, whichever process makes
-- it (serve, the CLI, the sqlite3 shell). A daemon's link cache compares it
-- after any commit and forgets its records when it moved. Click counts are
-- not watched: the cache never keeps links with max_clicks.
CREATE TABLE link_epoch (
	id INTEGER PRIMARY KEY CHECK (id = 1),
	n  INTEGER NOT NULL
);
INSERT INTO link_epoch (id, n) VALUES (1, 0);

CREATE TRIGGER links_changed AFTER UPDATE OF code, url, status, forward_query, disabled, expires_at,
	max_clicks ON links
BEGIN
	UPDATE link_epoch SET n = n + 1 WHERE id = 1;
END;

CREATE TRIGGER links_deleted AFTER DELETE ON links
BEGIN
	UPDATE link_epoch SET n = n + 1 WHERE id = 1;
END;

-- An INSERT OR REPLACE deletes the row it replaces without firing
-- links_deleted (unless recursive_triggers is on): move the epoch before it.
CREATE TRIGGER links_replaced BEFORE INSERT ON links
WHEN EXISTS (SELECT 1 FROM links WHERE code = NEW.code OR id = NEW.id)
BEGIN
	UPDATE link_epoch SET n = n + 1 WHERE id = 1;
END;
