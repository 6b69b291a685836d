-- The click counters of 128 links to a row (include/click_chunk.h): a
-- batch of clicks over thousands of links rewrites one row for each 128
-- of them, where it rewrote each link's row in links (code, URL, title,
-- tags) and its row in clicks_daily: about a tenth of SQLite's work and
-- two thirds of the pages a click.
--
-- click_totals: a link's clicks, bot_clicks and last_click_at, the row
-- chunk = id >> 7. click_days: a link's clicks and bot_clicks of a UTC day
-- (days since 1970-01-01, 0 to 2^20 - 1), the row key = (id >> 7) << 20 |
-- day, so a link's days are one range of keys. Each blob holds a record
-- only for the links of its chunk with counts; a chunk with none has no
-- row. Counts of a link deleted go with it (the delete takes its records
-- out); AUTOINCREMENT keeps its id from coming back.
--
-- shortd_click_totals(id, clicks, bot_clicks, last_click_at) and
-- shortd_click_days(link_id, day, clicks, bot_clicks) are aggregates of the
-- daemon's own, defined on its connections: the blob of one chunk from its
-- links' rows, in any order. They fail on an id below 1 or a day out of
-- range, and the migration with them.
CREATE TABLE click_totals (
	chunk INTEGER PRIMARY KEY,
	data  BLOB NOT NULL
);
CREATE TABLE click_days (
	key  INTEGER PRIMARY KEY,
	data BLOB NOT NULL
);

INSERT INTO click_totals (chunk, data)
SELECT id >> 7, shortd_click_totals(id, clicks, bot_clicks, last_click_at) FROM links
WHERE clicks <> 0 OR bot_clicks <> 0 OR last_click_at IS NOT NULL
GROUP BY id >> 7;

INSERT INTO click_days (key, data)
SELECT (link_id >> 7) << 20 | day, shortd_click_days(link_id, day, clicks, bot_clicks) FROM clicks_daily
WHERE clicks <> 0 OR bot_clicks <> 0
GROUP BY link_id >> 7, day;

DROP TABLE clicks_daily;
ALTER TABLE links DROP COLUMN clicks;
ALTER TABLE links DROP COLUMN bot_clicks;
ALTER TABLE links DROP COLUMN last_click_at;
