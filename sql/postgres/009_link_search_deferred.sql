-- Version 9, as sql/sqlite/009_link_search_deferred.sql, which lets SQLite's
-- FTS5 trigram index take new links in batches rather than one segment of
-- the index a transaction. PostgreSQL's GIN index over the trigrams (005:
-- links_search) does the same by itself: with fastupdate, on by default, new
-- entries go to its pending list, which searches read as well and which is
-- merged into the index in bulk. Nothing changes here but the version, which
-- both dialects keep in step.
COMMENT ON INDEX links_search IS 'the links of ?q=: trigrams of code, url, title and tags (pg_trgm, fastupdate)';
