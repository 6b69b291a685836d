-- Click history per link and UTC day (days since 1970-01-01), and per
-- referring host and day. Rows go with their link.
CREATE TABLE clicks_daily (
	link_id    BIGINT NOT NULL REFERENCES links (id) ON DELETE CASCADE,
	day        BIGINT NOT NULL,
	clicks     BIGINT NOT NULL DEFAULT 0,
	bot_clicks BIGINT NOT NULL DEFAULT 0,
	PRIMARY KEY (link_id, day)
);

CREATE TABLE referrers_daily (
	link_id BIGINT NOT NULL REFERENCES links (id) ON DELETE CASCADE,
	day     BIGINT NOT NULL,
	host    TEXT   COLLATE "C" NOT NULL,
	clicks  BIGINT NOT NULL DEFAULT 0,
	PRIMARY KEY (link_id, day, host)
);
