-- Click history per link and UTC day (days since 1970-01-01), and per
-- referring host and day. Rows go with their link.
CREATE TABLE clicks_daily (
	link_id    INTEGER NOT NULL REFERENCES links (id) ON DELETE CASCADE,
	day        INTEGER NOT NULL,
	clicks     INTEGER NOT NULL DEFAULT 0,
	bot_clicks INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (link_id, day)
) WITHOUT ROWID;

CREATE TABLE referrers_daily (
	link_id INTEGER NOT NULL REFERENCES links (id) ON DELETE CASCADE,
	day     INTEGER NOT NULL,
	host    TEXT    NOT NULL,
	clicks  INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (link_id, day, host)
) WITHOUT ROWID;
