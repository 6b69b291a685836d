-- Version 8, as sql/sqlite/008_click_chunks.sql, which packs SQLite's click
-- counts 128 links to a row so that a batch of clicks over thousands of
-- links rewrites a row for each 128 of them. PostgreSQL keeps the counts
-- where they were, in links and clicks_daily: nothing changes here but the
-- version, which both dialects keep in step.
COMMENT ON TABLE clicks_daily IS 'a link''s clicks and bot clicks of a UTC day';
