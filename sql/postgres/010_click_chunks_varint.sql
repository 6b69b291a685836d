-- Version 10, as sql/sqlite/010_click_chunks_varint.sql, which writes
-- SQLite's packed click counts in fewer bytes. PostgreSQL keeps the counts
-- where they were, in links and clicks_daily: nothing changes here but the
-- version, which both dialects keep in step.
COMMENT ON TABLE clicks_daily IS 'a link''s clicks and bot clicks of a UTC day';
