# shellcheck shell=bash
# Sourced by the bench scripts (after bench/common.sh): fill N makes, once,
# $OUT/links-N.db (N links, made with $SHORTD init and sqlite3; one made
# by an older shortd is migrated),
# $OUT/uris-N.txt (their paths in random order) and $OUT/map-N.conf (an
# nginx map of them); a second call with the same N keeps them.
# Codes are 7 base62 digits of (i * 2654435761) mod 62^7: distinct (the
# multiplier is prime to 62^7) and valid; the reserved admin* prefix is
# skipped. Links are plain 302s to https://example.com/articles/i.
fill() {
	local n=$1 db=$OUT/links-$1.db
	if [ -f "$db" ] && [ "$(sqlite3 "$db" 'SELECT count(*) FROM links')" = "$n" ] &&
		[ -f "$OUT/uris-$n.txt" ] && [ -f "$OUT/map-$n.conf" ]; then
		"$SHORTD" init --db "$db" 2>/dev/null # an older one to this shortd's schema
		return
	fi
	rm -f "$db" "$db-wal" "$db-shm"
	"$SHORTD" init --db "$db" 2>/dev/null # creates the schema
	local digit='substr(a, x / %s %% 62 + 1, 1)' code="" p
	for p in 1 62 3844 238328 14776336 916132832 56800235584; do
		code="$code${code:+ || }$(printf "$digit" $p)"
	done
	sqlite3 "$db" "
		WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < $n * 2),
		k(i, x, a) AS (SELECT i, (i * 2654435761) % 3521614606208,
			'0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz' FROM seq),
		c(i, code) AS (SELECT i, $code FROM k)
		INSERT INTO links (code, url, status, created_at, updated_at)
		SELECT code, 'https://example.com/articles/' || i, 302, 1700000000, 1700000000
		FROM c WHERE lower(substr(code, 1, 5)) <> 'admin' LIMIT $n;
		PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
	sqlite3 "$db" "SELECT '/' || code FROM links ORDER BY random()" >"$OUT/uris-$n.txt"
	sqlite3 "$db" "SELECT '    /' || code || ' ' || url || ';' FROM links" >"$OUT/map-$n.conf"
}

# prev_db N (after fill N): $OUT/links-N-prev.db, the same N links at the
# schema of the shortd binary $PREV (perhaps older than $SHORTD's, whose
# files an older shortd refuses): made by its init and filled from
# links-N.db, again whenever another binary (path or time) is $PREV.
prev_db() {
	local n=$1 db=$OUT/links-$1-prev.db made
	made="$(realpath "$PREV") $(stat -c %Y "$PREV")"
	if [ ! -f "$db" ] || [ "$(cat "$db.made-by" 2>/dev/null)" != "$made" ]; then
		rm -f "$db" "$db-wal" "$db-shm"
		"$PREV" init --db "$db" 2>/dev/null
		sqlite3 "$db" "ATTACH '$OUT/links-$n.db' AS a;
			INSERT INTO links (id, code, url, status, created_at, updated_at)
			SELECT id, code, url, status, created_at, updated_at FROM a.links;
			PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
		echo "$made" >"$db.made-by"
	fi
}
