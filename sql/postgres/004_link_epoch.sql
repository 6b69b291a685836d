-- Every node keeps a link cache; a change to what a redirect reads of a
-- link (or a link gone), whoever makes it (any node, the CLI, psql), is
-- announced on the channel shortd_links when its transaction commits, and
-- each node that listens forgets its cached links. Click counts are not
-- watched: no cache keeps links with max_clicks. The same columns as
-- SQLite's link_epoch triggers; an INSERT ... ON CONFLICT DO UPDATE fires
-- the UPDATE trigger too.
CREATE FUNCTION shortd_links_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_notify('shortd_links', '');
	RETURN NULL;
END;
$$;

CREATE TRIGGER links_changed AFTER UPDATE OF code, url, status, forward_query, disabled, expires_at,
	max_clicks OR DELETE OR TRUNCATE ON links
	FOR EACH STATEMENT EXECUTE FUNCTION shortd_links_changed();
