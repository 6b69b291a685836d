-- Version 7, as sql/sqlite/007_link_search_contentless.sql, which makes
-- SQLite's FTS5 trigram index keep no copy of the text it indexes.
-- PostgreSQL's trigram index (005: links_search, a GIN index over an
-- expression of the row) never kept one, and its rows follow every insert,
-- update, upsert and delete of links by themselves: nothing changes here
-- but the version, which both dialects keep in step.
COMMENT ON INDEX links_search IS 'the links of ?q=: trigrams of code, url, title and tags (pg_trgm)';
