-- Links: one row per short code. Times are unix seconds (UTC); NULL means
-- absent (no expiry, no limit, never clicked). AUTOINCREMENT keeps ids of
-- deleted links from coming back, so clicks in flight can never be counted
-- for a newer link, and id order is creation order for pagination.
CREATE TABLE links (
	id            INTEGER PRIMARY KEY AUTOINCREMENT,
	code          TEXT    NOT NULL UNIQUE,
	url           TEXT    NOT NULL,
	status        INTEGER NOT NULL CHECK (status IN (301, 302, 303, 307, 308)),
	forward_query INTEGER NOT NULL DEFAULT 0,
	disabled      INTEGER NOT NULL DEFAULT 0,
	created_at    INTEGER NOT NULL,
	updated_at    INTEGER NOT NULL,
	expires_at    INTEGER,
	max_clicks    INTEGER CHECK (max_clicks IS NULL OR max_clicks >= 0),
	clicks        INTEGER NOT NULL DEFAULT 0,
	bot_clicks    INTEGER NOT NULL DEFAULT 0,
	last_click_at INTEGER
);
