/*
 * The PostgreSQL backend of the storage interface, chosen by a postgres://
 * or postgresql:// URL (libpq's connection URI): connections, statements,
 * the schema (sql/postgres, embedded) and how link changes are learnt
 * (LISTEN/NOTIFY). The link cache and the retries of generated codes are
 * store.c's, above it; the rules are the same as SQLite's, and so are the
 * answers.
 *
 * Every thread that calls the store has a connection of its own (made at its
 * first call, made again after the server went away), with the statements
 * it has used prepared on it: reads and writes of different threads never
 * wait for each other here, and PostgreSQL serialises what must be. Every
 * write is one transaction; a transaction whose BEGIN finds the connection
 * broken (the server restarted since) is begun again once on a new one,
 * since nothing of it reached the server.
 *
 * Link changes: a trigger (sql/postgres/004_link_epoch.sql) notifies the
 * channel shortd_links when a transaction that changed what a redirect
 * reads commits, on whatever node or client. A listener thread, on a
 * connection of its own, moves the links' epoch at each notification, and at
 * least every EPOCH_TTL_S seconds as a backstop; its own node's updates and
 * deletes move it at once. While the listener is not connected but the
 * server can be reached, nothing says whether links changed:
 * links_changed_since answers that it cannot tell, so no cache answers.
 * While the server cannot be reached at all, nothing can change through it
 * and the caches answer as they are. The epoch moves again once it listens.
 *
 * Several nodes: a limited link's click is taken on the server with one
 * conditional update (links.reserved), so max_clicks holds across nodes;
 * clicks are added, never set, so the nodes' batches merge; migrations,
 * reuse and the revoke of an admin token run under advisory locks.
 *
 * libpq is called through the table that store_pg_lib.c loads at the first
 * open (struct pg's pq), never directly: a daemon on SQLite never loads it.
 *
 * Invariant: the password of the URL (or of the environment) is never
 * written anywhere: messages name the database by redacted_url().
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "migrations.h"
#include "store_backend.h"
#include "store_pg_lib.h"
#include "thread_registry.h"

/* Seconds to wait for a connection (libpq's least is 2), and milliseconds
 * for a statement or a lock: past them a write answers 503 rather than hang. */
#define CONNECT_TIMEOUT_S "2"
#define SESSION_SETTINGS                                                                                               \
	"SET statement_timeout = 5000; SET lock_timeout = 5000; SET idle_in_transaction_session_timeout = 60000; "     \
	"SET client_min_messages = warning"
/* The backstop: every cache is forgotten at least this often, notified or not. */
#define EPOCH_TTL_S 60
/* How often the listener, and each thread, tries again while the server
 * is away. */
#define LISTEN_RETRY_MS 500
#define CONNECT_RETRY_MS 1000
/* The key of the advisory lock that migrations are applied under. */
#define MIGRATION_LOCK_KEY "7358003541"
#define NOTIFY_CHANNEL "shortd_links"
#define TEXTOID 25 /* the type text, as pg_type.h has it */

/* What a redirect reads of a link; then the labels. */
#define REDIRECT_COLUMNS                                                                                               \
	"id, code, url, status, forward_query, disabled, created_at, updated_at, expires_at, "                         \
	"max_clicks, clicks, bot_clicks, last_click_at"
#define REDIRECT_COLUMN_COUNT 13
#define LINK_COLUMNS REDIRECT_COLUMNS ", title, tags::text, created_by, updated_by"

/* The text that the trigram index links_search (sql/postgres/005) holds. */
#define SEARCH_TEXT "lower(code || E'\\n' || url || E'\\n' || coalesce(title, '') || E'\\n' || (tags::text))"

/* The shortest q the trigram index can answer; a shorter one is matched
 * field by field, link by link, as SQLite does. */
#define TRIGRAM_MIN 3

#define TOKEN_COLUMNS "name, role, created_at, encode(hash, 'hex'), id, last_used_at"

/* The key of the transaction lock that revokes by id take, so that two
 * nodes revoking the last two admin tokens at once cannot both pass. */
#define TOKENS_LOCK_KEY "7358003543"

/* The key of the transaction lock that creates with "reuse" take, so that
 * identical requests racing on several nodes make one link. */
#define REUSE_LOCK_KEY "7358003542"

enum stmt {
	S_LOOKUP,
	S_RESOLVE,
	S_LOOKUP_FOR_UPDATE,
	S_LIST,
	S_INSERT_LINK,
	S_IMPORT_LINK,
	S_CODE_TAKEN,
	S_REUSE,
	S_UPDATE_LINK,
	S_DELETE_LINK,
	S_TAKE_CLICK,
	S_CLICK_LINK,
	S_CLICK_DAILY,
	S_CLICK_REFERRER,
	S_DAILY,
	S_REFERRERS,
	S_TOKEN_ADD,
	S_TOKEN_FIND,
	S_TOKEN_LIST,
	S_TOKEN_REVOKE,
	S_TOKEN_REVOKE_ID,
	S_TOKEN_REVOKE_NAME,
	S_TOKEN_EXISTS,
	S_TOKEN_NAME_EXISTS,
	S_TOKEN_USED,
	S_TOKEN_COUNT,
	S_DUMP_DAILY,
	S_DUMP_REFERRERS,
	S_LOAD_DAILY,
	S_LOAD_REFERRER,
	S_LOAD_TOKEN,
	S_COUNT, /* at most 32: struct pconn's prepared is a bit set */
};

static const char *const stmt_sql[S_COUNT] = {
    [S_LOOKUP] = "SELECT " LINK_COLUMNS " FROM links WHERE code = $1",
    [S_RESOLVE] = "SELECT " REDIRECT_COLUMNS " FROM links WHERE code = $1",
    [S_LOOKUP_FOR_UPDATE] = "SELECT " LINK_COLUMNS " FROM links WHERE code = $1 FOR UPDATE",
    [S_LIST] = "SELECT " LINK_COLUMNS " FROM links WHERE id > $1 ORDER BY id LIMIT $2",
    [S_INSERT_LINK] = "INSERT INTO links (code, url, status, forward_query, disabled, created_at, updated_at, "
                      "expires_at, max_clicks, title, tags, created_by, updated_by) "
                      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id",
    [S_IMPORT_LINK] = "INSERT INTO links (code, url, status, forward_query, disabled, created_at, updated_at, "
                      "expires_at, max_clicks, title, tags, created_by, updated_by, clicks, bot_clicks, "
                      "last_click_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) "
                      "RETURNING id",
    [S_CODE_TAKEN] = "SELECT 1 FROM links WHERE code = $1",
    [S_REUSE] = "SELECT " LINK_COLUMNS " FROM links WHERE url = $1 AND status = $2 AND forward_query = $3 "
                "AND expires_at IS NOT DISTINCT FROM $4::bigint AND max_clicks IS NOT DISTINCT FROM $5::bigint "
                "AND disabled = 0 ORDER BY id LIMIT 1",
    [S_UPDATE_LINK] = "UPDATE links SET url = $2, status = $3, forward_query = $4, disabled = $5, "
                      "expires_at = $6, max_clicks = $7, updated_at = $8, title = $9, tags = $10, "
                      "updated_by = $11 WHERE id = $1",
    [S_DELETE_LINK] = "DELETE FROM links WHERE code = $1",
    [S_TAKE_CLICK] = "UPDATE links SET reserved = greatest(reserved, clicks, $2) + 1 WHERE id = $1 AND "
                     "max_clicks IS NOT NULL AND greatest(reserved, clicks, $2) < max_clicks",
    [S_CLICK_LINK] = "UPDATE links SET clicks = clicks + $2, bot_clicks = bot_clicks + $3, "
                     "last_click_at = greatest(coalesce(last_click_at, $4), $4) WHERE id = $1",
    [S_CLICK_DAILY] = "INSERT INTO clicks_daily (link_id, day, clicks, bot_clicks) VALUES ($1, $2, $3, $4) "
                      "ON CONFLICT (link_id, day) DO UPDATE SET clicks = clicks_daily.clicks + excluded.clicks, "
                      "bot_clicks = clicks_daily.bot_clicks + excluded.bot_clicks",
    [S_CLICK_REFERRER] = "INSERT INTO referrers_daily (link_id, day, host, clicks) VALUES ($1, $2, $3, $4) "
                         "ON CONFLICT (link_id, day, host) DO UPDATE SET "
                         "clicks = referrers_daily.clicks + excluded.clicks",
    [S_DAILY] = "SELECT day, clicks, bot_clicks FROM clicks_daily WHERE link_id = $1 AND day >= $2 "
                "ORDER BY day LIMIT $3",
    [S_REFERRERS] = "SELECT host, sum(clicks) AS n FROM referrers_daily WHERE link_id = $1 AND day >= $2 "
                    "GROUP BY host ORDER BY n DESC, host LIMIT $3",
    [S_TOKEN_ADD] = "INSERT INTO tokens (name, hash, role, created_at) VALUES ($1, decode($2, 'hex'), $3, $4)",
    [S_TOKEN_FIND] = "SELECT " TOKEN_COLUMNS " FROM tokens WHERE hash = decode($1, 'hex')",
    [S_TOKEN_LIST] = "SELECT " TOKEN_COLUMNS " FROM tokens ORDER BY id",
    [S_TOKEN_REVOKE] = "DELETE FROM tokens WHERE name = $1",
    [S_TOKEN_REVOKE_ID] = "DELETE FROM tokens WHERE id = $1 AND ($2 = 0 OR role <> 0 OR "
                          "(SELECT count(*) FROM tokens WHERE role = 0) > 1)",
    [S_TOKEN_REVOKE_NAME] = "DELETE FROM tokens WHERE name = $1 AND ($2 = 0 OR role <> 0 OR "
                            "(SELECT count(*) FROM tokens WHERE role = 0) > 1)",
    [S_TOKEN_EXISTS] = "SELECT 1 FROM tokens WHERE id = $1",
    [S_TOKEN_NAME_EXISTS] = "SELECT 1 FROM tokens WHERE name = $1",
    [S_TOKEN_USED] = "UPDATE tokens SET last_used_at = greatest(coalesce(last_used_at, $2), $2) WHERE id = $1",
    [S_TOKEN_COUNT] = "SELECT count(*) FROM tokens",
    /* The history of the links with ids in ($1, $2], in the order SQLite's
     * dump gives it (hosts by their bytes, whatever the collation). */
    [S_DUMP_DAILY] = "SELECT link_id, day, clicks, bot_clicks FROM clicks_daily WHERE link_id > $1 AND "
                     "link_id <= $2 ORDER BY link_id, day",
    [S_DUMP_REFERRERS] = "SELECT link_id, day, host, clicks FROM referrers_daily WHERE link_id > $1 AND "
                         "link_id <= $2 ORDER BY link_id, day, host COLLATE \"C\"",
    [S_LOAD_DAILY] = "INSERT INTO clicks_daily (link_id, day, clicks, bot_clicks) VALUES ($1, $2, $3, $4)",
    [S_LOAD_REFERRER] = "INSERT INTO referrers_daily (link_id, day, host, clicks) VALUES ($1, $2, $3, $4)",
    [S_LOAD_TOKEN] = "INSERT INTO tokens (name, hash, role, created_at, last_used_at) "
                     "VALUES ($1, decode($2, 'hex'), $3, $4, $5)",
};

_Static_assert(S_COUNT <= 32, "struct pconn's prepared has a bit for each statement");

/* A thread's connection and the statements prepared on it. */
struct pconn {
	PGconn *c; /* NULL: not made yet */
	uint32_t prepared;
	bool down_logged;       /* its failure to connect was logged; quiet until it connects */
	int64_t retry_after_ms; /* after a failed connect, none is tried before (monotonic) */
};

/* What the listener knows of link changes. */
enum listen_state {
	LISTEN_OFF = 0, /* connected or not, not listening: changes may go unheard */
	LISTEN_ON,      /* every change is heard */
	LISTEN_AWAY,    /* the server cannot be reached: nothing can change through it */
};

struct pg {
	const struct pq_lib *pq; /* libpq, loaded at the first open */
	char *url;
	char name[512];                /* the URL without its password */
	struct thread_registry *conns; /* each calling thread's struct pconn */
	int version;
	int version_found;
	/* the listener */
	pthread_t listener;
	bool listener_started;
	int wake[2];         /* a byte written to wake[1] stops the listener */
	PGconn *listen_conn; /* made by open, then the listener's own */
	int64_t epoch;       /* __atomic: moves at every change learnt */
	int listening;       /* __atomic: an enum listen_state */
};

/* Query parameters, as text. */
struct params {
	int n;
	const char *v[16];
	char buf[16][24];
};

static void p_int(struct params *a, int64_t v)
{
	snprintf(a->buf[a->n], sizeof(a->buf[0]), "%lld", (long long)v);
	a->v[a->n] = a->buf[a->n];
	a->n++;
}

static void p_opt(struct params *a, int64_t v, int64_t absent)
{
	if (v == absent)
		a->v[a->n++] = NULL;
	else
		p_int(a, v);
}

static void p_text(struct params *a, const char *s)
{
	a->v[a->n++] = s;
}

/* "" as NULL: an absent title or author. */
static void p_opt_text(struct params *a, const char *s)
{
	a->v[a->n++] = s[0] != '\0' ? s : NULL;
}

/* ---- the URL, without its password ---- */

/*
 * Copies url to out without the password: the userinfo's ":password" and a
 * "password" parameter are left out. Anything else (user, host, port,
 * database, the other parameters) stays, to say which database is meant.
 */
static void redacted_url(const char *url, char *out, size_t size)
{
	const char *p = strstr(url, "://"), *q;
	size_t o = 0;

	if (size == 0)
		return;
#define PUT(s, n)                                                                                                      \
	do {                                                                                                           \
		size_t k_ = (n) < size - 1 - o ? (n) : size - 1 - o;                                                   \
		memcpy(out + o, (s), k_);                                                                              \
		o += k_;                                                                                               \
	} while (0)
	if (p == NULL) {
		PUT("(a PostgreSQL URL)", strlen("(a PostgreSQL URL)"));
		out[o] = '\0';
		return;
	}
	p += 3;
	PUT(url, (size_t)(p - url));
	/* The authority ends at the first '/', '?' or '#'; its userinfo at its
	 * last '@'. */
	q = p + strcspn(p, "/?#");
	{
		const char *at = NULL;
		for (const char *c = p; c < q; c++)
			if (*c == '@')
				at = c;
		if (at != NULL) {
			const char *colon = memchr(p, ':', (size_t)(at - p));
			PUT(p, (size_t)((colon != NULL ? colon : at) - p));
			p = at;
		}
	}
	PUT(p, (size_t)(q - p));
	p = q;
	q = p + strcspn(p, "?");
	PUT(p, (size_t)(q - p));
	p = q;
	if (*p == '?') {
		char sep = '?';
		p++;
		while (*p != '\0') {
			size_t n = strcspn(p, "&");
			if (!(n >= 9 && strncmp(p, "password=", 9) == 0)) {
				PUT(&sep, 1);
				PUT(p, n);
				sep = '&';
			}
			p += n;
			if (*p == '&')
				p++;
		}
	}
#undef PUT
	out[o] = '\0';
}

/* libpq's message on one line: its line breaks and the tabs that indent
 * its hints become one space each run. */
static void one_line(const char *msg, char *out, size_t size)
{
	size_t o = 0;

	for (const char *c = msg != NULL ? msg : ""; *c != '\0' && o + 1 < size; c++) {
		bool blank = *c == '\n' || *c == '\r' || *c == '\t' || *c == ' ';
		if (!blank)
			out[o++] = *c;
		else if (o > 0 && out[o - 1] != ' ')
			out[o++] = ' ';
	}
	while (o > 0 && out[o - 1] == ' ')
		o--;
	out[o] = '\0';
}

/* The store's status for a failed statement, by its SQLSTATE. */
static int map_sqlstate(const struct pq_lib *pq, const PGresult *r)
{
	const char *s = r != NULL ? pq->PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;

	if (s == NULL)
		return STORE_ERROR; /* no answer from the server at all */
	if (strncmp(s, "23", 2) == 0)
		return STORE_CONFLICT; /* integrity constraint violation */
	if (strcmp(s, "53100") == 0 || strcmp(s, "53200") == 0)
		return STORE_FULL; /* disk full, out of memory */
	if (strcmp(s, "25006") == 0 || strncmp(s, "42501", 5) == 0)
		return STORE_READONLY; /* read-only transaction, no privilege */
	if (strcmp(s, "XX001") == 0 || strcmp(s, "XX002") == 0)
		return STORE_CORRUPT;
	return STORE_ERROR;
}

/* Logs a failed call in libpq's words and maps it; a taken key is an
 * answer, not a failure, and is not logged. */
static int pg_error(struct pg *p, PGconn *c, const PGresult *r, const char *what)
{
	const struct pq_lib *pq = p->pq;
	int status = map_sqlstate(pq, r);
	char msg[512];

	if (status != STORE_CONFLICT) {
		one_line(pq->PQerrorMessage(c), msg, sizeof(msg));
		fprintf(stderr, "shortd: store: %s: %s: %s\n", p->name, what, msg);
	}
	return status;
}

static void quiet_notices(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

/* A new connection to the database, with the session's settings; NULL with
 * the reason in msg when there is none. */
static PGconn *connect_db(const struct pg *p, char *msg, size_t size)
{
	const struct pq_lib *pq = p->pq;
	static const char *const keys[] = {"connect_timeout", "application_name", "dbname", NULL};
	const char *vals[] = {CONNECT_TIMEOUT_S, "shortd", p->url, NULL};
	PGconn *c = pq->PQconnectdbParams(keys, vals, 1);
	PGresult *r;

	if (c == NULL) {
		snprintf(msg, size, "out of memory");
		return NULL;
	}
	if (pq->PQstatus(c) != CONNECTION_OK) {
		one_line(pq->PQerrorMessage(c), msg, size);
		pq->PQfinish(c);
		return NULL;
	}
	pq->PQsetNoticeProcessor(c, quiet_notices, NULL);
	r = pq->PQexec(c, SESSION_SETTINGS);
	if (pq->PQresultStatus(r) != PGRES_COMMAND_OK) {
		one_line(pq->PQerrorMessage(c), msg, size);
		pq->PQclear(r);
		pq->PQfinish(c);
		return NULL;
	}
	pq->PQclear(r);
	return c;
}

/* ---- each thread's connection ---- */

static void *pconn_new(void *arg)
{
	(void)arg;
	return calloc(1, sizeof(struct pconn));
}

static void pconn_free(void *obj, void *arg)
{
	const struct pq_lib *pq = ((const struct pg *)arg)->pq;
	struct pconn *pc = obj;

	pq->PQfinish(pc->c);
	free(pc);
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Makes pc's connection anew; STORE_OK or STORE_ERROR (logged once until
 * a connection is made again). After a failure the thread tries again only
 * CONNECT_RETRY_MS later, failing at once meanwhile: a server away costs
 * each request no wait, and each thread one connect a while. */
static int pconn_connect(struct pg *p, struct pconn *pc)
{
	const struct pq_lib *pq = p->pq;
	char msg[512];

	pq->PQfinish(pc->c);
	pc->c = NULL;
	pc->prepared = 0;
	if (mono_ms() < pc->retry_after_ms)
		return STORE_ERROR;
	pc->c = connect_db(p, msg, sizeof(msg));
	if (pc->c == NULL) {
		pc->retry_after_ms = mono_ms() + CONNECT_RETRY_MS;
		if (!pc->down_logged)
			fprintf(stderr, "shortd: store: %s: cannot connect: %s\n", p->name, msg);
		pc->down_logged = true;
		return STORE_ERROR;
	}
	if (pc->down_logged)
		fprintf(stderr, "shortd: store: %s: connected again\n", p->name);
	pc->down_logged = false;
	return STORE_OK;
}

/* The calling thread's connection, made when there is none or it broke;
 * NULL when it cannot be. */
static struct pconn *pconn_get(struct pg *p)
{
	const struct pq_lib *pq = p->pq;
	struct pconn *pc = thread_registry_get(p->conns);

	if (pc == NULL)
		return NULL;
	if ((pc->c == NULL || pq->PQstatus(pc->c) != CONNECTION_OK) && pconn_connect(p, pc) != STORE_OK)
		return NULL;
	return pc;
}

static bool is_broken(const struct pg *p, const struct pconn *pc)
{
	const struct pq_lib *pq = p->pq;

	return pc->c == NULL || pq->PQstatus(pc->c) == CONNECTION_BAD;
}

/* Runs statement which with a's parameters on pc; the result when it
 * answered with want (the caller clears it), else NULL with *status set and
 * the failure logged. */
static PGresult *run(struct pg *p, struct pconn *pc, enum stmt which, const struct params *a, ExecStatusType want,
                     int *status)
{
	const struct pq_lib *pq = p->pq;
	char name[8];
	PGresult *r;

	snprintf(name, sizeof(name), "s%d", (int)which);
	if (!(pc->prepared & (1u << which))) {
		r = pq->PQprepare(pc->c, name, stmt_sql[which], 0, NULL);
		if (pq->PQresultStatus(r) != PGRES_COMMAND_OK) {
			*status = pg_error(p, pc->c, r, "prepare");
			pq->PQclear(r);
			return NULL;
		}
		pq->PQclear(r);
		pc->prepared |= 1u << which;
	}
	r = pq->PQexecPrepared(pc->c, name, a != NULL ? a->n : 0, a != NULL ? a->v : NULL, NULL, NULL, 0);
	if (pq->PQresultStatus(r) != want) {
		*status = pg_error(p, pc->c, r, stmt_sql[which]);
		pq->PQclear(r);
		return NULL;
	}
	*status = STORE_OK;
	return r;
}

/* A read on the calling thread's connection, tried once more on a new one
 * when the connection turns out to have broken (the server restarted). */
static PGresult *read_stmt(struct pg *p, enum stmt which, const struct params *a, int *status)
{
	struct pconn *pc = pconn_get(p);
	PGresult *r;

	*status = STORE_ERROR;
	if (pc == NULL)
		return NULL;
	r = run(p, pc, which, a, PGRES_TUPLES_OK, status);
	if (r == NULL && is_broken(p, pc) && pconn_connect(p, pc) == STORE_OK)
		r = run(p, pc, which, a, PGRES_TUPLES_OK, status);
	return r;
}

/* Runs sql (one or more statements, no parameters) on pc. */
static int exec_simple(struct pg *p, struct pconn *pc, const char *sql)
{
	const struct pq_lib *pq = p->pq;
	PGresult *r = pq->PQexec(pc->c, sql);
	int status = STORE_OK;

	if (pq->PQresultStatus(r) != PGRES_COMMAND_OK && pq->PQresultStatus(r) != PGRES_TUPLES_OK)
		status = pg_error(p, pc->c, r, sql);
	pq->PQclear(r);
	return status;
}

/* Begins a write on the calling thread's connection into *out. A BEGIN
 * that finds the connection broken sent nothing that could commit: it is
 * tried once more on a new connection. */
static int begin(struct pg *p, struct pconn **out)
{
	struct pconn *pc = pconn_get(p);
	int status;

	*out = pc;
	if (pc == NULL)
		return STORE_ERROR;
	status = exec_simple(p, pc, "BEGIN");
	if (status != STORE_OK && is_broken(p, pc) && pconn_connect(p, pc) == STORE_OK)
		status = exec_simple(p, pc, "BEGIN");
	return status;
}

/* Commits when status is STORE_OK, else rolls back; the final status. */
static int finish(struct pg *p, struct pconn *pc, int status)
{
	const struct pq_lib *pq = p->pq;

	if (status == STORE_OK)
		status = exec_simple(p, pc, "COMMIT");
	if (status != STORE_OK && !is_broken(p, pc))
		pq->PQclear(pq->PQexec(pc->c, "ROLLBACK"));
	return status;
}

/* ---- rows ---- */

static int64_t col_int(const struct pq_lib *pq, const PGresult *r, int row, int col, int64_t null_value)
{
	return pq->PQgetisnull(r, row, col) ? null_value : strtoll(pq->PQgetvalue(r, row, col), NULL, 10);
}

static void col_copy(const struct pq_lib *pq, const PGresult *r, int row, int col, char *dst, size_t size)
{
	snprintf(dst, size, "%s", pq->PQgetvalue(r, row, col));
}

static void link_from_row(const struct pq_lib *pq, const PGresult *r, int row, struct link *l)
{
	l->id = col_int(pq, r, row, 0, 0);
	col_copy(pq, r, row, 1, l->code, sizeof(l->code));
	col_copy(pq, r, row, 2, l->url, sizeof(l->url));
	l->status = (int)col_int(pq, r, row, 3, 0);
	l->forward_query = col_int(pq, r, row, 4, 0) != 0;
	l->disabled = col_int(pq, r, row, 5, 0) != 0;
	l->created_at = col_int(pq, r, row, 6, 0);
	l->updated_at = col_int(pq, r, row, 7, 0);
	l->expires_at = col_int(pq, r, row, 8, LINK_NO_TIME);
	l->max_clicks = col_int(pq, r, row, 9, LINK_NO_LIMIT);
	l->clicks = col_int(pq, r, row, 10, 0);
	l->bot_clicks = col_int(pq, r, row, 11, 0);
	l->last_click_at = col_int(pq, r, row, 12, LINK_NO_TIME);
	if (pq->PQnfields(r) == REDIRECT_COLUMN_COUNT) { /* a redirect's read: no labels */
		l->title[0] = '\0';
		l->n_tags = 0;
		l->created_by[0] = '\0';
		l->updated_by[0] = '\0';
		return;
	}
	col_copy(pq, r, row, 13, l->title, sizeof(l->title));
	link_tags_from_json(pq->PQgetisnull(r, row, 14) ? NULL : pq->PQgetvalue(r, row, 14), l);
	col_copy(pq, r, row, 15, l->created_by, sizeof(l->created_by));
	col_copy(pq, r, row, 16, l->updated_by, sizeof(l->updated_by));
}

/* ---- link changes: the listener ---- */

static void epoch_move(struct pg *p)
{
	__atomic_add_fetch(&p->epoch, 1, __ATOMIC_RELEASE);
}

static void set_listening(struct pg *p, enum listen_state state)
{
	__atomic_store_n(&p->listening, (int)state, __ATOMIC_RELEASE);
}

/* A connection that listens on the channel, or NULL with *away set when
 * the server could not be reached at all. */
static PGconn *listen_connect(struct pg *p, bool *away, char *msg, size_t size)
{
	const struct pq_lib *pq = p->pq;
	PGconn *c = connect_db(p, msg, size);
	PGresult *r;

	*away = c == NULL;
	if (c == NULL)
		return NULL;
	r = pq->PQexec(c, "LISTEN " NOTIFY_CHANNEL);
	if (pq->PQresultStatus(r) != PGRES_COMMAND_OK)
		one_line(pq->PQerrorMessage(c), msg, size);
	else if (pq->PQsetnonblocking(c, 1) != 0)
		snprintf(msg, size, "cannot make the connection non-blocking");
	if (pq->PQresultStatus(r) != PGRES_COMMAND_OK || pq->PQisnonblocking(c) == 0) {
		pq->PQfinish(c);
		c = NULL;
	}
	pq->PQclear(r);
	return c;
}

/* Drains the notifications that arrived; false when the connection broke. */
static bool take_notifications(struct pg *p, PGconn *c)
{
	const struct pq_lib *pq = p->pq;
	PGnotify *n;
	bool any = false;

	if (pq->PQconsumeInput(c) == 0)
		return false;
	while ((n = pq->PQnotifies(c)) != NULL) {
		any = true;
		pq->PQfreemem(n);
	}
	if (any)
		epoch_move(p);
	return pq->PQstatus(c) == CONNECTION_OK;
}

/* The listener makes its connection again until it listens; false when
 * it cannot yet. The epoch moves before it says it listens: changes made
 * while nobody listened were never heard. */
static bool listen_again(struct pg *p, PGconn **c, bool *logged)
{
	char msg[512];
	bool away;

	*c = listen_connect(p, &away, msg, sizeof(msg));
	if (*c == NULL) {
		set_listening(p, away ? LISTEN_AWAY : LISTEN_OFF);
		if (!*logged)
			fprintf(stderr, "shortd: store: %s: not listening for link changes (%s); %s\n", p->name, msg,
			        away ? "the server is away: cached links answer as they were"
			             : "the link cache is not used until it listens again");
		*logged = true;
		return false;
	}
	epoch_move(p);
	set_listening(p, LISTEN_ON);
	if (*logged)
		fprintf(stderr, "shortd: store: %s: listening for link changes again\n", p->name);
	*logged = false;
	return true;
}

static void *listener_main(void *arg)
{
	struct pg *p = arg;
	const struct pq_lib *pq = p->pq;
	PGconn *c = p->listen_conn;
	bool logged = false;
	int64_t last_move = mono_ms();

	(void)pthread_setname_np(pthread_self(), "shortd-pg-watch");

	for (;;) {
		struct pollfd fds[2] = {{p->wake[0], POLLIN, 0}, {-1, POLLIN, 0}};
		int timeout = 1000;

		if (c == NULL) {
			if (listen_again(p, &c, &logged))
				last_move = mono_ms();
			else
				timeout = LISTEN_RETRY_MS;
		}
		if (c != NULL)
			fds[1].fd = pq->PQsocket(c);
		if (poll(fds, c != NULL ? 2 : 1, timeout) < 0 && errno != EINTR)
			break;
		if (fds[0].revents != 0)
			break;
		if (c != NULL && fds[1].revents != 0 && !take_notifications(p, c)) {
			/* Not trusted from now until it listens again or finds the
			 * server away; the cache is kept for the second case. */
			set_listening(p, LISTEN_OFF);
			pq->PQfinish(c);
			c = NULL;
			continue;
		}
		if (c != NULL && mono_ms() - last_move >= EPOCH_TTL_S * 1000) {
			epoch_move(p);
			last_move = mono_ms();
		}
	}
	set_listening(p, LISTEN_OFF);
	pq->PQfinish(c);
	p->listen_conn = NULL;
	return NULL;
}

/*
 * Whether links changed since epoch: one atomic read while the listener
 * listens. While it does not, and the server can be reached, nothing can
 * tell: the caller reads the store. While the server cannot be reached at
 * all, no change can be made through it, and the cache answers as it is
 * (the epoch moves when the listener listens again). A thread's first call
 * is answered in every state: its cache is empty.
 */
static int pg_links_changed_since(void *impl, void **thread, int64_t epoch, int64_t *now)
{
	struct pg *p = impl;

	(void)thread;
	if (epoch != STORE_EPOCH_UNKNOWN && __atomic_load_n(&p->listening, __ATOMIC_ACQUIRE) == LISTEN_OFF)
		return STORE_ERROR;
	*now = __atomic_load_n(&p->epoch, __ATOMIC_ACQUIRE);
	return STORE_OK;
}

/* ---- open, migrations, close ---- */

static int latest_version(void)
{
	return postgres_migrations_count > 0 ? postgres_migrations[postgres_migrations_count - 1].version : 0;
}

/* One integer from a one-row query on pc; STORE_NOT_FOUND when no row. */
static int query_int(struct pg *p, struct pconn *pc, const char *sql, int64_t *out)
{
	const struct pq_lib *pq = p->pq;
	PGresult *r = pq->PQexec(pc->c, sql);
	int status = STORE_OK;

	if (pq->PQresultStatus(r) != PGRES_TUPLES_OK)
		status = pg_error(p, pc->c, r, sql);
	else if (pq->PQntuples(r) == 0 || pq->PQgetisnull(r, 0, 0))
		status = STORE_NOT_FOUND;
	else
		*out = strtoll(pq->PQgetvalue(r, 0, 0), NULL, 10);
	pq->PQclear(r);
	return status;
}

/* Applies the migrations the database lacks, under the advisory lock, so
 * that of N nodes started at once one migrates and the others find it
 * done. create: the schema may be made in an empty database. */
static int migrate(struct pg *p, struct pconn *pc, bool create, char *err, size_t errlen)
{
	const struct pq_lib *pq = p->pq;
	int64_t v = 0, present = 0;
	int status;

	status = exec_simple(p, pc, "SELECT pg_advisory_lock(" MIGRATION_LOCK_KEY ")");
	if (status != STORE_OK) {
		snprintf(err, errlen, "%s: cannot take the migration lock", p->name);
		return status;
	}
	status = query_int(p, pc,
	                   "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND "
	                   "tablename = 'shortd_schema'",
	                   &present);
	if (status == STORE_OK && present == 0 && !create) {
		snprintf(err, errlen, "no database at %s: it has no shortd schema (shortd init --db URL makes it)",
		         p->name);
		status = STORE_NOT_FOUND;
		goto unlock;
	}
	if (status == STORE_OK && present == 0)
		status = exec_simple(p, pc,
		                     "CREATE TABLE shortd_schema (id INTEGER PRIMARY KEY CHECK (id = 1), "
		                     "version INTEGER NOT NULL); INSERT INTO shortd_schema VALUES (1, 0)");
	if (status == STORE_OK)
		status = query_int(p, pc, "SELECT version FROM shortd_schema WHERE id = 1", &v);
	if (status != STORE_OK) {
		if (status != STORE_NOT_FOUND || err[0] == '\0')
			snprintf(err, errlen, "%s: cannot read the schema version", p->name);
		status = status == STORE_NOT_FOUND ? STORE_CORRUPT : status;
		goto unlock;
	}
	p->version = p->version_found = (int)v;
	if (p->version > latest_version()) {
		snprintf(err, errlen,
		         "%s: database schema version %d is newer than this shortd supports (%d); use a newer shortd",
		         p->name, p->version, latest_version());
		status = STORE_TOO_NEW;
		goto unlock;
	}
	for (int i = 0; i < postgres_migrations_count && status == STORE_OK; i++) {
		char set[80];
		if (postgres_migrations[i].version <= p->version)
			continue;
		snprintf(set, sizeof(set), "UPDATE shortd_schema SET version = %d WHERE id = 1",
		         postgres_migrations[i].version);
		status = exec_simple(p, pc, "BEGIN");
		if (status == STORE_OK)
			status = exec_simple(p, pc, postgres_migrations[i].sql);
		if (status == STORE_OK)
			status = exec_simple(p, pc, set);
		status = finish(p, pc, status);
		if (status != STORE_OK)
			snprintf(err, errlen, "%s: migration %s failed", p->name, postgres_migrations[i].name);
		else
			p->version = postgres_migrations[i].version;
	}
	if (status == STORE_OK && p->version != p->version_found)
		fprintf(stderr, "shortd: store: %s: schema migrated from version %d to %d\n", p->name, p->version_found,
		        p->version);
unlock:
	if (!is_broken(p, pc))
		pq->PQclear(pq->PQexec(pc->c, "SELECT pg_advisory_unlock(" MIGRATION_LOCK_KEY ")"));
	return status;
}

static void pg_close(void *impl)
{
	struct pg *p = impl;

	if (p == NULL)
		return;
	if (p->listener_started) {
		ssize_t w = write(p->wake[1], "x", 1);
		(void)w;
		pthread_join(p->listener, NULL);
	}
	for (int i = 0; i < 2; i++) {
		if (p->wake[i] >= 0)
			close(p->wake[i]);
	}
	if (p->pq != NULL) /* NULL only when libpq could not be loaded */
		p->pq->PQfinish(p->listen_conn);
	thread_registry_free(p->conns);
	free(p->url);
	free(p);
}

static int pg_open(const char *url, bool create, void **impl, char *err, size_t errlen)
{
	struct pg *p = calloc(1, sizeof(*p));
	struct pconn *pc;
	char msg[512];
	int status;

	*impl = NULL;
	if (p == NULL || (p->url = strdup(url)) == NULL) {
		free(p);
		snprintf(err, errlen, "out of memory");
		return STORE_ERROR;
	}
	p->wake[0] = p->wake[1] = -1;
	redacted_url(url, p->name, sizeof(p->name));
	p->pq = store_pg_lib(msg, sizeof(msg));
	if (p->pq == NULL) {
		snprintf(err, errlen, "%s: %s", p->name, msg);
		pg_close(p);
		return STORE_ERROR;
	}
	if (thread_registry_new(pconn_new, pconn_free, p, &p->conns) != 0 ||
	    (pc = thread_registry_get(p->conns)) == NULL) {
		snprintf(err, errlen, "out of memory or thread keys");
		pg_close(p);
		return STORE_ERROR;
	}
	pc->c = connect_db(p, msg, sizeof(msg));
	if (pc->c == NULL) {
		snprintf(err, errlen, "%s: cannot connect: %s", p->name, msg);
		pg_close(p);
		return strstr(msg, "does not exist") != NULL ? STORE_NOT_FOUND : STORE_ERROR;
	}
	err[0] = '\0';
	status = migrate(p, pc, create, err, errlen);
	if (status == STORE_OK) {
		bool away;
		p->listen_conn = listen_connect(p, &away, msg, sizeof(msg));
		if (p->listen_conn == NULL) {
			snprintf(err, errlen, "%s: cannot listen for link changes: %s", p->name, msg);
			status = STORE_ERROR;
		}
		set_listening(p, LISTEN_ON);
	}
	if (status == STORE_OK && pipe2(p->wake, O_CLOEXEC) != 0) {
		snprintf(err, errlen, "%s: cannot make a pipe: %s", p->name, strerror(errno));
		status = STORE_ERROR;
	}
	if (status == STORE_OK) {
		if (pthread_create(&p->listener, NULL, listener_main, p) != 0) {
			snprintf(err, errlen, "%s: cannot start the listener thread", p->name);
			status = STORE_ERROR;
		} else {
			p->listener_started = true;
		}
	}
	if (status != STORE_OK) {
		pg_close(p);
		return status;
	}
	*impl = p;
	return STORE_OK;
}

/* Connections are made by each thread at its first call. */
static int pg_open_readers(void *impl, int n, char *err, size_t errlen)
{
	(void)impl;
	(void)n;
	(void)err;
	(void)errlen;
	return STORE_OK;
}

static int pg_schema_version(void *impl)
{
	return ((struct pg *)impl)->version;
}

static int pg_schema_version_found(void *impl)
{
	return ((struct pg *)impl)->version_found;
}

/* A server's database is always the one opened. */
static int pg_check(void *impl)
{
	(void)impl;
	return STORE_OK;
}

static int pg_ping(void *impl)
{
	struct pg *p = impl;
	struct pconn *pc = pconn_get(p);
	int64_t one = 0;
	int status;

	if (pc == NULL)
		return STORE_ERROR;
	status = query_int(p, pc, "SELECT 1", &one);
	if (status != STORE_OK && is_broken(p, pc) && pconn_connect(p, pc) == STORE_OK)
		status = query_int(p, pc, "SELECT 1", &one);
	return status;
}

/* ---- links ---- */

/* The link with this code by statement which (S_LOOKUP or S_RESOLVE). */
static int lookup_by(void *impl, enum stmt which, const char *code, struct link *out)
{
	const struct pq_lib *pq = ((const struct pg *)impl)->pq;
	struct params a = {0};
	PGresult *r;
	int status;

	p_text(&a, code);
	r = read_stmt(impl, which, &a, &status);
	if (r == NULL)
		return status;
	if (pq->PQntuples(r) == 0)
		status = STORE_NOT_FOUND;
	else
		link_from_row(pq, r, 0, out);
	pq->PQclear(r);
	return status;
}

static int pg_link_lookup(void *impl, const char *code, struct link *out)
{
	return lookup_by(impl, S_LOOKUP, code, out);
}

static int pg_link_resolve(void *impl, const char *code, struct link *out)
{
	return lookup_by(impl, S_RESOLVE, code, out);
}

/* Inserts l inside pc's transaction and fills l->id; with its counts too
 * when with_counts (an import). */
static int insert_row(struct pg *p, struct pconn *pc, struct link *l, bool with_counts)
{
	const struct pq_lib *pq = p->pq;
	struct params a = {0};
	char *tags = link_tags_to_json(l);
	PGresult *r;
	int status;

	if (tags == NULL)
		return STORE_ERROR;
	p_text(&a, l->code);
	p_text(&a, l->url);
	p_int(&a, l->status);
	p_int(&a, l->forward_query);
	p_int(&a, l->disabled);
	p_int(&a, l->created_at);
	p_int(&a, l->updated_at);
	p_opt(&a, l->expires_at, LINK_NO_TIME);
	p_opt(&a, l->max_clicks, LINK_NO_LIMIT);
	p_opt_text(&a, l->title);
	p_text(&a, tags);
	p_opt_text(&a, l->created_by);
	p_opt_text(&a, l->updated_by);
	if (with_counts) {
		p_int(&a, l->clicks);
		p_int(&a, l->bot_clicks);
		p_opt(&a, l->last_click_at, LINK_NO_TIME);
	}
	r = run(p, pc, with_counts ? S_IMPORT_LINK : S_INSERT_LINK, &a, PGRES_TUPLES_OK, &status);
	if (r != NULL)
		l->id = col_int(pq, r, 0, 0, 0);
	pq->PQclear(r);
	free(tags);
	return status;
}

static int insert_link(struct pg *p, struct pconn *pc, struct link *l)
{
	return insert_row(p, pc, l, false);
}

static int pg_link_create(void *impl, struct link *l)
{
	struct pg *p = impl;
	struct pconn *pc;
	int status = begin(p, &pc);

	if (status != STORE_OK)
		return status;
	status = finish(p, pc, insert_link(p, pc, l));
	if (status != STORE_OK)
		l->id = 0;
	return status;
}

/* The oldest enabled link with l's url and options into *out (which may
 * be l), inside pc's transaction: STORE_OK, STORE_NOT_FOUND or an error. */
static int find_same(struct pg *p, struct pconn *pc, const struct link *l, struct link *out)
{
	const struct pq_lib *pq = p->pq;
	struct params a = {0};
	PGresult *r;
	int status;

	p_text(&a, l->url);
	p_int(&a, l->status);
	p_int(&a, l->forward_query);
	p_opt(&a, l->expires_at, LINK_NO_TIME);
	p_opt(&a, l->max_clicks, LINK_NO_LIMIT);
	r = run(p, pc, S_REUSE, &a, PGRES_TUPLES_OK, &status);
	if (r != NULL && pq->PQntuples(r) == 0)
		status = STORE_NOT_FOUND;
	else if (r != NULL)
		link_from_row(pq, r, 0, out);
	pq->PQclear(r);
	return status;
}

/* All or none in one transaction. A batch that may reuse takes the reuse
 * lock first: the check and the insert of identical requests on several
 * nodes then follow each other, and make one link. */
static int pg_link_create_batch(void *impl, struct store_new_link *items, size_t n, size_t *bad)
{
	struct pg *p = impl;
	struct pconn *pc;
	size_t i = 0;
	int status = begin(p, &pc);

	*bad = 0;
	if (status != STORE_OK)
		return status;
	for (size_t k = 0; k < n && status == STORE_OK; k++) {
		if (items[k].reuse) {
			status = exec_simple(p, pc, "SELECT pg_advisory_xact_lock(" REUSE_LOCK_KEY ")");
			break;
		}
	}
	for (i = 0; i < n && status == STORE_OK; i++) {
		struct store_new_link *it = &items[i];
		it->reused = false;
		if (it->reuse) {
			status = find_same(p, pc, &it->link, &it->link);
			if (status == STORE_OK) {
				it->reused = true;
				continue;
			}
			if (status != STORE_NOT_FOUND)
				break;
		}
		status = insert_link(p, pc, &it->link);
		if (status != STORE_OK)
			break;
	}
	status = finish(p, pc, status);
	if (status != STORE_OK)
		*bad = i < n ? i : 0;
	return status;
}

/* Changes the link with code by patch inside pc's transaction, the row
 * locked first; the link as it is now into *out. */
static int update_locked(struct pg *p, struct pconn *pc, const char *code, const struct link_patch *patch, int64_t now,
                         struct link *out)
{
	const struct pq_lib *pq = p->pq;
	struct params a = {0}, b = {0};
	char *tags;
	PGresult *r;
	int status;

	p_text(&a, code);
	r = run(p, pc, S_LOOKUP_FOR_UPDATE, &a, PGRES_TUPLES_OK, &status);
	if (r == NULL)
		return status;
	if (pq->PQntuples(r) == 0)
		status = STORE_NOT_FOUND;
	else
		link_from_row(pq, r, 0, out);
	pq->PQclear(r);
	if (status != STORE_OK)
		return status;
	store_patch_apply(out, patch);
	out->updated_at = now;
	if ((tags = link_tags_to_json(out)) == NULL)
		return STORE_ERROR;
	p_int(&b, out->id);
	p_text(&b, out->url);
	p_int(&b, out->status);
	p_int(&b, out->forward_query);
	p_int(&b, out->disabled);
	p_opt(&b, out->expires_at, LINK_NO_TIME);
	p_opt(&b, out->max_clicks, LINK_NO_LIMIT);
	p_int(&b, now);
	p_opt_text(&b, out->title);
	p_text(&b, tags);
	p_opt_text(&b, out->updated_by);
	pq->PQclear(run(p, pc, S_UPDATE_LINK, &b, PGRES_COMMAND_OK, &status));
	free(tags);
	return status;
}

static int pg_link_update(void *impl, const char *code, const struct link_patch *patch, int64_t now, struct link *out)
{
	struct pg *p = impl;
	struct pconn *pc;
	int status = begin(p, &pc);

	if (status != STORE_OK)
		return status;
	status = finish(p, pc, update_locked(p, pc, code, patch, now, out));
	if (status == STORE_OK)
		epoch_move(p); /* this node's caches at once; the others when notified */
	return status;
}

/* Whether a link has code, inside pc's transaction: STORE_OK (taken),
 * STORE_NOT_FOUND or an error. */
static int code_taken(struct pg *p, struct pconn *pc, const char *code)
{
	const struct pq_lib *pq = p->pq;
	struct params a = {0};
	PGresult *r;
	int status;

	p_text(&a, code);
	r = run(p, pc, S_CODE_TAKEN, &a, PGRES_TUPLES_OK, &status);
	if (r != NULL && pq->PQntuples(r) == 0)
		status = STORE_NOT_FOUND;
	pq->PQclear(r);
	return status;
}

/* Changes the fields an imported row names in the link with its code. */
static int update_imported(struct pg *p, struct pconn *pc, const struct store_import_row *row, int64_t now)
{
	struct link_patch *patch = malloc(sizeof(*patch));
	struct link *cur = malloc(sizeof(*cur));
	int status = STORE_ERROR;

	if (patch != NULL && cur != NULL) {
		store_import_patch(row, patch);
		status = update_locked(p, pc, row->link.code, patch, now, cur);
	}
	free(cur);
	free(patch);
	return status;
}

/*
 * One transaction: each row's code looked up first (a taken one is a
 * conflict, skipped or updated as mode says), then the free ones inserted
 * with their counts in order; a code given twice among them is a conflict
 * (store_import_repeated(), as on SQLite). A row another node inserts meanwhile
 * makes the insert fail on the unique code: a conflict of that row.
 */
static int pg_links_import(void *impl, struct store_import_row *rows, size_t n, enum store_import_mode mode,
                           int64_t now, size_t *conflict)
{
	struct pg *p = impl;
	size_t *idx = malloc((n != 0 ? n : 1) * sizeof(*idx)), m = 0;
	struct pconn *pc;
	bool changed = false;
	int status = idx != NULL ? begin(p, &pc) : STORE_ERROR;

	if (status != STORE_OK) {
		free(idx);
		return status;
	}
	for (size_t i = 0; i < n && status == STORE_OK; i++) {
		status = code_taken(p, pc, rows[i].link.code);
		if (status == STORE_NOT_FOUND) {
			status = STORE_OK;
			rows[i].result = STORE_IMPORT_CREATED;
			idx[m++] = i;
		} else if (status == STORE_OK && (rows[i].code_drawn || mode == STORE_IMPORT_FAIL)) {
			*conflict = i;
			status = STORE_CONFLICT;
		} else if (status == STORE_OK && mode == STORE_IMPORT_SKIP) {
			rows[i].result = STORE_IMPORT_SKIPPED;
		} else if (status == STORE_OK) {
			rows[i].result = STORE_IMPORT_UPDATED;
			status = update_imported(p, pc, &rows[i], now);
			changed = true;
		}
	}
	if (status == STORE_OK)
		status = store_import_repeated(rows, idx, m, conflict);
	for (size_t k = 0; k < m && status == STORE_OK; k++) {
		status = insert_row(p, pc, &rows[idx[k]].link, true);
		if (status == STORE_CONFLICT)
			*conflict = idx[k];
	}
	free(idx);
	status = finish(p, pc, status);
	if (status == STORE_OK && changed)
		epoch_move(p);
	return status;
}

/* Runs a delete by one text key (which) in a transaction of its own:
 * STORE_NOT_FOUND when it deleted nothing. */
static int delete_by(struct pg *p, enum stmt which, const char *key)
{
	const struct pq_lib *pq = p->pq;
	struct params a = {0};
	struct pconn *pc;
	PGresult *r;
	int status = begin(p, &pc);

	if (status != STORE_OK)
		return status;
	p_text(&a, key);
	r = run(p, pc, which, &a, PGRES_COMMAND_OK, &status);
	if (r != NULL && strcmp(pq->PQcmdTuples(r), "0") == 0)
		status = STORE_NOT_FOUND;
	pq->PQclear(r);
	return finish(p, pc, status);
}

static int pg_link_delete(void *impl, const char *code)
{
	int status = delete_by(impl, S_DELETE_LINK, code);

	if (status == STORE_OK)
		epoch_move(impl);
	return status;
}

static int pg_link_list(void *impl, int64_t after_id, int limit, store_link_fn fn, void *ctx)
{
	const struct pq_lib *pq = ((const struct pg *)impl)->pq;
	struct params a = {0};
	struct link *l;
	PGresult *r;
	int status;

	if (limit <= 0)
		return STORE_OK;
	p_int(&a, after_id);
	p_int(&a, limit);
	r = read_stmt(impl, S_LIST, &a, &status);
	if (r == NULL)
		return status;
	l = malloc(sizeof(*l));
	if (l == NULL)
		status = STORE_ERROR;
	for (int i = 0; l != NULL && i < pq->PQntuples(r); i++) {
		link_from_row(pq, r, i, l);
		if (fn(l, ctx) != 0)
			break;
	}
	free(l);
	pq->PQclear(r);
	return status;
}

/*
 * A limited link's click, taken on the server: reserved counts the clicks
 * admitted while it had a limit, clicks those written by the flushers of
 * every node (later), known those this node has counted, written or not:
 * the largest is what is used up. One
 * statement, committed on its own; not tried again on a broken connection,
 * since it may have counted.
 */
static int pg_link_take_click(void *impl, const struct link *l, int64_t known, bool *taken)
{
	struct pg *p = impl;
	const struct pq_lib *pq = p->pq;
	struct params a = {0};
	struct pconn *pc = pconn_get(p);
	PGresult *r;
	int status = STORE_ERROR;

	*taken = false;
	if (pc == NULL)
		return STORE_ERROR;
	p_int(&a, l->id);
	p_int(&a, known);
	r = run(p, pc, S_TAKE_CLICK, &a, PGRES_COMMAND_OK, &status);
	if (r != NULL)
		*taken = strcmp(pq->PQcmdTuples(r), "1") == 0;
	pq->PQclear(r);
	return status;
}

/* ---- finding links ---- */

/* The number of characters (UTF-8 lead bytes) of s. */
static size_t utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

/* Whether q, lowered, is found as it is in the indexed text: JSON writes
 * '"', '\\' and control characters of a tag otherwise. */
static bool q_is_indexable(const char *q)
{
	if (utf8_chars(q) < TRIGRAM_MIN)
		return false;
	for (const unsigned char *c = (const unsigned char *)q; *c != '\0'; c++) {
		if (*c == '"' || *c == '\\' || *c < 0x20)
			return false;
	}
	return true;
}

/* s as a LIKE pattern that matches it anywhere, '\\' escaping LIKE's own
 * '%' and '_'; the caller frees it. */
static char *like_pattern(const char *s)
{
	char *out = malloc(2 * strlen(s) + 3), *o = out;

	if (out == NULL)
		return NULL;
	*o++ = '%';
	for (; *s != '\0'; s++) {
		if (*s == '%' || *s == '_' || *s == '\\')
			*o++ = '\\';
		*o++ = *s;
	}
	*o++ = '%';
	*o = '\0';
	return out;
}

/* One tag as a JSON array of it, for tags @> $n; the caller frees it. */
static char *tag_array(const char *tag)
{
	struct link one;

	one.n_tags = 1;
	snprintf(one.tags[0], sizeof(one.tags[0]), "%s", tag);
	return link_tags_to_json(&one);
}

/*
 * The statement for f. Parameters: $1 the id after which, $2 the limit, $3
 * the url, $4 q's LIKE pattern, $5... each tag as a JSON array. The url
 * (links_url), the tags (links_tags) and q through the trigram index
 * (links_search) narrow the rows; q is then checked field by field, so the
 * answer is SQLite's: a substring of the code, the url, the title or one
 * tag, without regard to case.
 */
static int find_sql(const struct link_filter *f, char *sql, size_t size)
{
	size_t n = 0;

#define ADD(...) n += (size_t)snprintf(sql + n, n < size ? size - n : 0, __VA_ARGS__)
	ADD("SELECT " LINK_COLUMNS " FROM links WHERE id > $1::bigint");
	if (f->url != NULL)
		ADD(" AND url = $3");
	for (size_t i = 0; i < f->n_tags; i++)
		ADD(" AND tags @> $%d::jsonb", (int)i + 5);
	if (f->q != NULL && q_is_indexable(f->q))
		ADD(" AND " SEARCH_TEXT " LIKE lower($4)");
	if (f->q != NULL)
		ADD(" AND (code ILIKE $4 OR url ILIKE $4 OR title ILIKE $4 OR "
		    "EXISTS (SELECT 1 FROM jsonb_array_elements_text(tags) AS t WHERE t ILIKE $4))");
	ADD(" ORDER BY id LIMIT $2::bigint");
#undef ADD
	return n < size ? 0 : -1;
}

static int pg_link_find(void *impl, const struct link_filter *f, int64_t after_id, int limit, store_link_fn fn,
                        void *ctx)
{
	struct pg *p = impl;
	const struct pq_lib *pq = p->pq;
	struct pconn *pc = pconn_get(p);
	const char *vals[4 + LINK_TAGS_MAX] = {0};
	Oid types[4 + LINK_TAGS_MAX];
	char *tags[LINK_TAGS_MAX] = {0}, *pattern = NULL, sql[4096], first[24], second[24];
	struct link *l = NULL;
	PGresult *r = NULL;
	int status = STORE_ERROR, nparams = 4;

	if (limit <= 0)
		return STORE_OK;
	if (pc == NULL || f->n_tags > LINK_TAGS_MAX || find_sql(f, sql, sizeof(sql)) != 0)
		return STORE_ERROR;
	snprintf(first, sizeof(first), "%lld", (long long)after_id);
	snprintf(second, sizeof(second), "%d", limit);
	vals[0] = first;
	vals[1] = second;
	vals[2] = f->url;
	if (f->q != NULL && (vals[3] = pattern = like_pattern(f->q)) == NULL)
		goto out;
	for (size_t i = 0; i < f->n_tags; i++) {
		if ((vals[4 + i] = tags[i] = tag_array(f->tags[i])) == NULL)
			goto out;
		nparams = 5 + (int)i;
	}
	l = malloc(sizeof(*l));
	if (l == NULL)
		goto out;
	/* Every parameter is text, those the statement does not use as well. */
	for (int i = 0; i < nparams; i++)
		types[i] = TEXTOID;
	r = pq->PQexecParams(pc->c, sql, nparams, types, vals, NULL, NULL, 0);
	if (pq->PQresultStatus(r) != PGRES_TUPLES_OK) {
		status = pg_error(p, pc->c, r, "find links");
		goto out;
	}
	status = STORE_OK;
	for (int i = 0; i < pq->PQntuples(r); i++) {
		link_from_row(pq, r, i, l);
		if (fn(l, ctx) != 0)
			break;
	}
out:
	pq->PQclear(r);
	free(l);
	free(pattern);
	for (size_t i = 0; i < f->n_tags && i < LINK_TAGS_MAX; i++)
		free(tags[i]);
	return status;
}

/* ---- clicks ---- */

/* Additive updates only, so batches of several nodes merge whatever their
 * order; the rows come sorted by link, so two nodes lock links in the same
 * order. */
static int pg_clicks_write(void *impl, const struct click_row *rows, size_t n)
{
	struct pg *p = impl;
	const struct pq_lib *pq = p->pq;
	struct pconn *pc;
	PGresult *r;
	int status;

	if (n == 0)
		return STORE_OK;
	status = begin(p, &pc);
	for (size_t i = 0; i < n && status == STORE_OK; i++) {
		const struct click_row *c = &rows[i];
		struct params a = {0};
		bool gone;

		p_int(&a, c->link_id);
		p_int(&a, c->clicks);
		p_int(&a, c->bot_clicks);
		p_int(&a, c->last_at);
		r = run(p, pc, S_CLICK_LINK, &a, PGRES_COMMAND_OK, &status);
		gone = r != NULL && strcmp(pq->PQcmdTuples(r), "0") == 0;
		pq->PQclear(r);
		if (status != STORE_OK || gone)
			continue; /* the link is gone: its clicks go with it */
		a.n = 0;
		p_int(&a, c->link_id);
		p_int(&a, c->day);
		p_int(&a, c->clicks);
		p_int(&a, c->bot_clicks);
		pq->PQclear(run(p, pc, S_CLICK_DAILY, &a, PGRES_COMMAND_OK, &status));
		if (status != STORE_OK || c->referrer == NULL || c->referrer[0] == '\0' || c->clicks == 0)
			continue;
		a.n = 0;
		p_int(&a, c->link_id);
		p_int(&a, c->day);
		p_text(&a, c->referrer);
		p_int(&a, c->clicks);
		pq->PQclear(run(p, pc, S_CLICK_REFERRER, &a, PGRES_COMMAND_OK, &status));
	}
	if (pc == NULL)
		return status;
	return finish(p, pc, status);
}

static int pg_link_daily(void *impl, int64_t link_id, int64_t since, struct store_daily *out, size_t max, size_t *n)
{
	const struct pq_lib *pq = ((const struct pg *)impl)->pq;
	struct params a = {0};
	PGresult *r;
	int status;

	*n = 0;
	p_int(&a, link_id);
	p_int(&a, since);
	p_int(&a, (int64_t)max);
	r = read_stmt(impl, S_DAILY, &a, &status);
	if (r == NULL)
		return status;
	for (int i = 0; i < pq->PQntuples(r) && *n < max; i++) {
		out[*n].day = col_int(pq, r, i, 0, 0);
		out[*n].clicks = col_int(pq, r, i, 1, 0);
		out[*n].bot_clicks = col_int(pq, r, i, 2, 0);
		(*n)++;
	}
	pq->PQclear(r);
	return STORE_OK;
}

static int pg_link_referrers(void *impl, int64_t link_id, int64_t since, struct store_referrer *out, size_t max,
                             size_t *n)
{
	const struct pq_lib *pq = ((const struct pg *)impl)->pq;
	struct params a = {0};
	PGresult *r;
	int status;

	*n = 0;
	p_int(&a, link_id);
	p_int(&a, since);
	p_int(&a, (int64_t)max);
	r = read_stmt(impl, S_REFERRERS, &a, &status);
	if (r == NULL)
		return status;
	for (int i = 0; i < pq->PQntuples(r) && *n < max; i++) {
		col_copy(pq, r, i, 0, out[*n].host, sizeof(out[*n].host));
		out[*n].clicks = col_int(pq, r, i, 1, 0);
		(*n)++;
	}
	pq->PQclear(r);
	return STORE_OK;
}

/* ---- tokens ---- */

static void hex_of(const unsigned char *hash, char out[2 * STORE_TOKEN_HASH_LEN + 1])
{
	static const char digits[] = "0123456789abcdef";

	for (int i = 0; i < STORE_TOKEN_HASH_LEN; i++) {
		out[2 * i] = digits[hash[i] >> 4];
		out[2 * i + 1] = digits[hash[i] & 15];
	}
	out[2 * STORE_TOKEN_HASH_LEN] = '\0';
}

static int hex_digit(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : 0;
}

static void token_from_row(const struct pq_lib *pq, const PGresult *r, int row, struct store_token *t)
{
	const char *hex = pq->PQgetvalue(r, row, 3);

	col_copy(pq, r, row, 0, t->name, sizeof(t->name));
	t->role = col_int(pq, r, row, 1, 0) == 1 ? STORE_ROLE_READ_ONLY : STORE_ROLE_ADMIN;
	t->created_at = col_int(pq, r, row, 2, 0);
	t->id = col_int(pq, r, row, 4, 0);
	t->last_used_at = col_int(pq, r, row, 5, LINK_NO_TIME);
	memset(t->hash, 0, sizeof(t->hash));
	if (strlen(hex) == 2 * STORE_TOKEN_HASH_LEN) {
		for (int i = 0; i < STORE_TOKEN_HASH_LEN; i++)
			t->hash[i] = (unsigned char)(hex_digit(hex[2 * i]) << 4 | hex_digit(hex[2 * i + 1]));
	}
}

static int pg_token_add(void *impl, const char *name, const unsigned char *hash, enum store_role role, int64_t now)
{
	struct pg *p = impl;
	const struct pq_lib *pq = p->pq;
	char hex[2 * STORE_TOKEN_HASH_LEN + 1];
	struct params a = {0};
	struct pconn *pc;
	int status = begin(p, &pc);

	if (status != STORE_OK)
		return status;
	hex_of(hash, hex);
	p_text(&a, name);
	p_text(&a, hex);
	p_int(&a, role == STORE_ROLE_READ_ONLY ? 1 : 0);
	p_int(&a, now);
	pq->PQclear(run(p, pc, S_TOKEN_ADD, &a, PGRES_COMMAND_OK, &status));
	return finish(p, pc, status);
}

static int pg_token_find(void *impl, const unsigned char *hash, struct store_token *out)
{
	const struct pq_lib *pq = ((const struct pg *)impl)->pq;
	char hex[2 * STORE_TOKEN_HASH_LEN + 1];
	struct params a = {0};
	PGresult *r;
	int status;

	hex_of(hash, hex);
	p_text(&a, hex);
	r = read_stmt(impl, S_TOKEN_FIND, &a, &status);
	if (r == NULL)
		return status;
	if (pq->PQntuples(r) == 0)
		status = STORE_NOT_FOUND;
	else
		token_from_row(pq, r, 0, out);
	pq->PQclear(r);
	return status;
}

static int pg_token_list(void *impl, store_token_fn fn, void *ctx)
{
	const struct pq_lib *pq = ((const struct pg *)impl)->pq;
	struct store_token t;
	PGresult *r;
	int status;

	r = read_stmt(impl, S_TOKEN_LIST, NULL, &status);
	if (r == NULL)
		return status;
	for (int i = 0; i < pq->PQntuples(r); i++) {
		token_from_row(pq, r, i, &t);
		if (fn(&t, ctx) != 0)
			break;
	}
	pq->PQclear(r);
	return STORE_OK;
}

static int pg_token_revoke(void *impl, const char *name)
{
	return delete_by(impl, S_TOKEN_REVOKE, name);
}

/* Revokes the token named name, or else the one with this id, unless
 * keep_an_admin and it is the last admin token: the check and the delete
 * in one transaction, after the tokens lock, so that a revoke on another
 * node waits, then sees it. */
static int revoke_guarded(struct pg *p, const char *name, int64_t id, bool keep_an_admin)
{
	const struct pq_lib *pq = p->pq;
	struct params a = {0};
	struct pconn *pc;
	PGresult *r;
	int status = begin(p, &pc);

	if (status != STORE_OK)
		return status;
	status = exec_simple(p, pc, "SELECT pg_advisory_xact_lock(" TOKENS_LOCK_KEY ")");
	if (name != NULL)
		p_text(&a, name);
	else
		p_int(&a, id);
	p_int(&a, keep_an_admin ? 1 : 0);
	r = status == STORE_OK
	        ? run(p, pc, name != NULL ? S_TOKEN_REVOKE_NAME : S_TOKEN_REVOKE_ID, &a, PGRES_COMMAND_OK, &status)
	        : NULL;
	if (r != NULL && strcmp(pq->PQcmdTuples(r), "0") == 0) {
		/* Nothing deleted: the token is absent, or it is the last admin one. */
		a.n = 1;
		pq->PQclear(r);
		r = run(p, pc, name != NULL ? S_TOKEN_NAME_EXISTS : S_TOKEN_EXISTS, &a, PGRES_TUPLES_OK, &status);
		if (r != NULL)
			status = pq->PQntuples(r) > 0 ? STORE_CONFLICT : STORE_NOT_FOUND;
	}
	pq->PQclear(r);
	return finish(p, pc, status);
}

static int pg_token_revoke_id(void *impl, int64_t id, bool keep_an_admin)
{
	return revoke_guarded(impl, NULL, id, keep_an_admin);
}

static int pg_token_revoke_name(void *impl, const char *name, bool keep_an_admin)
{
	return revoke_guarded(impl, name, 0, keep_an_admin);
}

static int pg_token_uses_write(void *impl, const struct store_token_use *uses, size_t n)
{
	struct pg *p = impl;
	const struct pq_lib *pq = p->pq;
	struct pconn *pc;
	int status;

	if (n == 0)
		return STORE_OK;
	status = begin(p, &pc);
	for (size_t i = 0; i < n && status == STORE_OK; i++) {
		struct params a = {0};
		p_int(&a, uses[i].id);
		p_int(&a, uses[i].at);
		/* a token revoked since matches no row */
		pq->PQclear(run(p, pc, S_TOKEN_USED, &a, PGRES_COMMAND_OK, &status));
	}
	if (pc == NULL)
		return status;
	return finish(p, pc, status);
}

static int pg_token_count(void *impl, int64_t *count)
{
	const struct pq_lib *pq = ((const struct pg *)impl)->pq;
	PGresult *r;
	int status;

	r = read_stmt(impl, S_TOKEN_COUNT, NULL, &status);
	if (r == NULL)
		return status;
	*count = col_int(pq, r, 0, 0, 0);
	pq->PQclear(r);
	return STORE_OK;
}

/* ---- the whole database: dump and load ---- */

/* Links a dump reads at a time, with their history. */
#define DUMP_PAGE 256

/* The rows of one page of links (ordered by id) and of their history
 * (ordered by link id), merged: each link, then its rows. */
static int dump_page(const struct pq_lib *pq, const PGresult *links, const PGresult *daily, const PGresult *refs,
                     const struct store_dump_fns *fns, void *ctx)
{
	struct store_history_row h;
	struct link *l = malloc(sizeof(*l));
	int d = 0, f = 0, status = STORE_OK;

	if (l == NULL)
		return STORE_ERROR;
	for (int i = 0; i < pq->PQntuples(links) && status == STORE_OK; i++) {
		link_from_row(pq, links, i, l);
		status = fns->link(l, ctx);
		h.link_id = l->id;
		h.host = NULL;
		for (; status == STORE_OK && d < pq->PQntuples(daily) && col_int(pq, daily, d, 0, 0) == l->id; d++) {
			h.day = col_int(pq, daily, d, 1, 0);
			h.clicks = col_int(pq, daily, d, 2, 0);
			h.bot_clicks = col_int(pq, daily, d, 3, 0);
			status = fns->history(&h, ctx);
		}
		h.bot_clicks = 0;
		for (; status == STORE_OK && f < pq->PQntuples(refs) && col_int(pq, refs, f, 0, 0) == l->id; f++) {
			h.day = col_int(pq, refs, f, 1, 0);
			h.host = pq->PQgetvalue(refs, f, 2);
			h.clicks = col_int(pq, refs, f, 3, 0);
			status = fns->history(&h, ctx);
		}
	}
	free(l);
	return status;
}

static int dump_links(struct pg *p, struct pconn *pc, const struct store_dump_fns *fns, void *ctx)
{
	const struct pq_lib *pq = p->pq;
	PGresult *links, *daily = NULL, *refs = NULL;
	int64_t after = 0, last;
	struct params a;
	int status = STORE_OK;

	for (;;) {
		a.n = 0;
		p_int(&a, after);
		p_int(&a, DUMP_PAGE);
		if ((links = run(p, pc, S_LIST, &a, PGRES_TUPLES_OK, &status)) == NULL)
			return status;
		if (pq->PQntuples(links) == 0)
			break;
		last = col_int(pq, links, pq->PQntuples(links) - 1, 0, 0);
		a.n = 0;
		p_int(&a, after);
		p_int(&a, last);
		daily = run(p, pc, S_DUMP_DAILY, &a, PGRES_TUPLES_OK, &status);
		if (daily != NULL)
			refs = run(p, pc, S_DUMP_REFERRERS, &a, PGRES_TUPLES_OK, &status);
		if (refs != NULL)
			status = dump_page(pq, links, daily, refs, fns, ctx);
		pq->PQclear(links);
		pq->PQclear(daily);
		pq->PQclear(refs);
		daily = refs = NULL;
		if (status != STORE_OK)
			return status;
		after = last;
	}
	pq->PQclear(links);
	return status;
}

static int dump_tokens(struct pg *p, struct pconn *pc, const struct store_dump_fns *fns, void *ctx)
{
	const struct pq_lib *pq = p->pq;
	struct store_token t;
	int status;
	PGresult *r = run(p, pc, S_TOKEN_LIST, NULL, PGRES_TUPLES_OK, &status);

	for (int i = 0; r != NULL && i < pq->PQntuples(r) && status == STORE_OK; i++) {
		token_from_row(pq, r, i, &t);
		if (strlen(pq->PQgetvalue(r, i, 3)) != 2 * STORE_TOKEN_HASH_LEN) {
			fprintf(stderr, "shortd: store: token '%s': its stored hash is %zu bytes, not %d\n", t.name,
			        strlen(pq->PQgetvalue(r, i, 3)) / 2, STORE_TOKEN_HASH_LEN);
			status = STORE_CORRUPT;
		} else {
			status = fns->token(&t, ctx);
		}
	}
	pq->PQclear(r);
	return status;
}

/* One read-only transaction at REPEATABLE READ: every read sees one
 * snapshot, whatever the nodes write meanwhile. */
static int pg_dump(void *impl, const struct store_dump_fns *fns, void *ctx)
{
	struct pg *p = impl;
	const struct pq_lib *pq = p->pq;
	struct pconn *pc = pconn_get(p);
	int status;

	if (pc == NULL)
		return STORE_ERROR;
	status = exec_simple(p, pc, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY");
	if (status != STORE_OK)
		return status;
	status = dump_links(p, pc, fns, ctx);
	if (status == STORE_OK)
		status = dump_tokens(p, pc, fns, ctx);
	if (!is_broken(p, pc))
		pq->PQclear(pq->PQexec(pc->c, "ROLLBACK")); /* a read: nothing to keep */
	return status;
}

struct pg_loader {
	struct store_loader ld;
	struct pg *p;
	struct pconn *pc;
};

static int load_link(struct store_loader *ld, struct link *l)
{
	struct pg_loader *pl = (struct pg_loader *)ld;

	return insert_row(pl->p, pl->pc, l, true);
}

static int load_history(struct store_loader *ld, const struct store_history_row *h)
{
	struct pg_loader *pl = (struct pg_loader *)ld;
	const struct pq_lib *pq = pl->p->pq;
	struct params a = {0};
	int status;

	p_int(&a, h->link_id);
	p_int(&a, h->day);
	if (h->host == NULL) {
		p_int(&a, h->clicks);
		p_int(&a, h->bot_clicks);
	} else {
		p_text(&a, h->host);
		p_int(&a, h->clicks);
	}
	pq->PQclear(
	    run(pl->p, pl->pc, h->host == NULL ? S_LOAD_DAILY : S_LOAD_REFERRER, &a, PGRES_COMMAND_OK, &status));
	return status;
}

static int load_token(struct store_loader *ld, const struct store_token *t)
{
	struct pg_loader *pl = (struct pg_loader *)ld;
	const struct pq_lib *pq = pl->p->pq;
	char hex[2 * STORE_TOKEN_HASH_LEN + 1];
	struct params a = {0};
	int status;

	hex_of(t->hash, hex);
	p_text(&a, t->name);
	p_text(&a, hex);
	p_int(&a, t->role == STORE_ROLE_READ_ONLY ? 1 : 0);
	p_int(&a, t->created_at);
	p_opt(&a, t->last_used_at, LINK_NO_TIME);
	pq->PQclear(run(pl->p, pl->pc, S_LOAD_TOKEN, &a, PGRES_COMMAND_OK, &status));
	return status;
}

/* The tables' EXCLUSIVE lock lets readers in and keeps every other writer
 * (a node, the CLI) out until the load ends, so the database it found
 * empty stays so. */
static int pg_load(void *impl, store_fill_fn fill, void *ctx)
{
	struct pg *p = impl;
	struct pg_loader l = {{load_link, load_history, load_token}, p, NULL};
	int64_t not_empty = 0;
	int status = begin(p, &l.pc);

	if (l.pc == NULL)
		return status;
	if (status == STORE_OK)
		status = exec_simple(p, l.pc, "LOCK TABLE links, tokens IN EXCLUSIVE MODE");
	if (status == STORE_OK)
		status = query_int(p, l.pc, STORE_SQL_NOT_EMPTY, &not_empty);
	if (status == STORE_OK && not_empty != 0)
		status = STORE_CONFLICT;
	if (status == STORE_OK)
		status = fill(&l.ld, ctx);
	status = finish(p, l.pc, status);
	if (status == STORE_OK)
		epoch_move(p);
	return status;
}

static const char *pg_display_name(void *impl)
{
	return ((struct pg *)impl)->name;
}

const struct store_ops store_pg_ops = {
    .name = "postgresql",
    .shared = true,
    .open = pg_open,
    .open_readers = pg_open_readers,
    .close = pg_close,
    .schema_version = pg_schema_version,
    .schema_version_found = pg_schema_version_found,
    .check = pg_check,
    .ping = pg_ping,
    .link_lookup = pg_link_lookup,
    .link_resolve = pg_link_resolve,
    .links_changed_since = pg_links_changed_since,
    .link_create = pg_link_create,
    .link_create_batch = pg_link_create_batch,
    .link_update = pg_link_update,
    .link_delete = pg_link_delete,
    .links_import = pg_links_import,
    .link_list = pg_link_list,
    .link_take_click = pg_link_take_click,
    .link_find = pg_link_find,
    .clicks_write = pg_clicks_write,
    .link_daily = pg_link_daily,
    .link_referrers = pg_link_referrers,
    .token_add = pg_token_add,
    .token_find = pg_token_find,
    .token_list = pg_token_list,
    .token_revoke = pg_token_revoke,
    .token_count = pg_token_count,
    .token_revoke_id = pg_token_revoke_id,
    .token_revoke_name = pg_token_revoke_name,
    .token_uses_write = pg_token_uses_write,
    .dump = pg_dump,
    .load = pg_load,
    .display_name = pg_display_name,
};
