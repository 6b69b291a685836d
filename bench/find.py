#!/usr/bin/env python3
"""Finding links at 1,000,000, and bulk creation: by hand, never in make check.

Fills a database (made by `shortd init`, so the schema is shortd's own) with
N links through SQL in one transaction, the triggers of sql/sqlite/005
keeping link_tag and the trigram index as they do for shortd, then starts
`shortd serve` on it and times, each the median of REPEAT runs:

  api   GET /api/v1/links?url= / ?q= / ?tag= through HTTP (what a client
        waits for, HTTP and JSON included; a page of up to 100 links);
  index the statement shortd runs for it (store_sqlite.c's find_sql),
        through Python's sqlite3 on the same file: the lookup alone, without
        HTTP and the JSON of up to 100 Links;
  scan  the same question answered by reading every link (SQLite with
        NOT INDEXED, LIKE over code, url, title and tags; json_each over
        every link's tags): what a search without the indexes costs.

Then POSTs BULK arrays of 1,000 new links each to /api/v1/links (the bulk
create, one transaction per array) and prints links/s. Prints one table.

Knobs (environment): N=1000000 REPEAT=7 BULK=20 BUILD=build KEEP=0 (1 keeps
bench/out/find.db for another run with FILL=0).
"""
import json
import os
import random
import signal
import sqlite3
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
N = int(os.environ.get("N", "1000000"))
REPEAT = int(os.environ.get("REPEAT", "7"))
BULK = int(os.environ.get("BULK", "20"))
BUILD = os.environ.get("BUILD", "build")
FILL = os.environ.get("FILL", "1") == "1"
OUT = os.path.join(ROOT, "bench", "out")
DB = os.path.join(OUT, "find.db")
SHORTD = os.path.join(ROOT, BUILD, "shortd")
TOKEN = "bench-find-token-0123456789abcdefghijklmnopqr"

WORDS = ("alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa "
         "quebec romeo sierra tango uniform victor whiskey xray yankee zulu").split()
TAGS = ["team-%d" % i for i in range(40)] + ["campaign", "internal", "press", "social", "email"]


def fill(n):
    """n links in one transaction, 250 a statement (FTS5 writes its pending
    index at every statement, so row by row is 5x slower); link i's URL,
    title and tags follow from i."""
    db = sqlite3.connect(DB, isolation_level=None)
    rnd = random.Random(1)
    t0 = time.monotonic()
    db.execute("BEGIN")
    per = 250
    sql = ("INSERT INTO links (code, url, status, created_at, updated_at, title, tags, created_by) VALUES " +
           ",".join(["(?, ?, ?, ?, ?, ?, ?, ?)"] * per))
    for start in range(0, n, per):
        args = []
        for i in range(start, start + per):
            title = " ".join(rnd.choice(WORDS) for _ in range(3)) if i % 3 == 0 else None
            args += ["c%07d" % i, "https://site%d.example/p/%d/%s" % (i % 5000, i, rnd.choice(WORDS)), 302,
                     1700000000, 1700000000, title, json.dumps(rnd.sample(TAGS, i % 4)), "bench"]
        db.execute(sql, args)
    db.execute("COMMIT")
    took = time.monotonic() - t0
    db.close()
    return took


def median_ms(fn):
    times = []
    for _ in range(REPEAT):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def api_get(port, query):
    def call():
        req = urllib.request.Request("http://127.0.0.1:%d/api/v1/links?%s" % (port, query),
                                     headers={"Authorization": "Bearer " + TOKEN})
        with urllib.request.urlopen(req) as r:
            body = json.load(r)
        call.found = len(body["items"])
    call.found = 0
    return call


def scan(db, sql, args):
    def call():
        call.found = len(db.execute(sql, args).fetchall())
    call.found = 0
    return call


def start_daemon():
    env = dict(os.environ, SHORTD_ADMIN_TOKEN=TOKEN)
    p = subprocess.Popen([SHORTD, "serve", "--db", DB, "--listen", "127.0.0.1:0"], env=env,
                         stderr=subprocess.PIPE, text=True)
    for line in p.stderr:
        if line.startswith("listening on http://"):
            return p, int(line.strip().rsplit(":", 1)[1])
    raise SystemExit("shortd did not start")


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bulk(port, batches):
    made = 0
    t0 = time.monotonic()
    for b in range(batches):
        items = [{"url": "https://bulk.example/%d/%d" % (b, i), "title": "bulk %d" % i, "tags": ["bulk", "b%d" % b]}
                 for i in range(1000)]
        req = urllib.request.Request("http://127.0.0.1:%d/api/v1/links" % port, data=json.dumps(items).encode(),
                                     headers={"Authorization": "Bearer " + TOKEN,
                                              "Content-Type": "application/json"}, method="POST")
        with urllib.request.urlopen(req) as r:
            made += len(json.load(r))
    return made, time.monotonic() - t0


def main():
    os.makedirs(OUT, exist_ok=True)
    if FILL:
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(DB + suffix):
                os.unlink(DB + suffix)
        subprocess.run([SHORTD, "init", "--db", DB], check=True, stderr=subprocess.DEVNULL)
        took = fill(N)
        print("fill: %d links in %.1f s (%.0f links/s through SQL with the triggers)" % (N, took, N / took))
    size = os.path.getsize(DB) + (os.path.getsize(DB + "-wal") if os.path.exists(DB + "-wal") else 0)
    print("database: %.0f MB" % (size / 1e6))

    rnd = random.Random(2)
    i = rnd.randrange(N)
    url = "https://site%d.example/p/%d/" % (i % 5000, i)
    db = sqlite3.connect(DB)
    url = db.execute("SELECT url FROM links WHERE code = ?", ("c%07d" % i,)).fetchone()[0]
    by_q = ("SELECT links.id FROM link_search CROSS JOIN links ON links.id = link_search.rowid "
            "WHERE link_search MATCH ?1 AND link_search.rowid > 0 ORDER BY link_search.rowid LIMIT 101")
    by_tag = ("SELECT links.id FROM link_tag AS t0 CROSS JOIN links ON links.id = t0.link_id "
              "WHERE t0.tag = ?1 AND t0.link_id > 0 ORDER BY t0.link_id LIMIT 101")
    by_tags = ("SELECT links.id FROM link_tag AS t0 CROSS JOIN links ON links.id = t0.link_id "
               "WHERE t0.tag = ?1 AND t0.link_id > 0 AND EXISTS (SELECT 1 FROM link_tag WHERE link_id = links.id "
               "AND tag = ?2) ORDER BY t0.link_id LIMIT 101")
    index = {
        "url": ("SELECT id FROM links WHERE links.id > 0 AND links.url = ?1 ORDER BY links.id LIMIT 101", (url,)),
        "code": (by_q, ('"c%07d"' % i,)),
        "site": (by_q, ('"site%d.example/p/%d/"' % (i % 5000, i),)),
        "word": (by_q, ('"WHISKEY"',)),
        "tag": (by_tag, ("team-7",)),
        "tags": (by_tags, ("team-7", "press")),
        "none": (by_tag, ("no-such-tag",)),
    }
    cases = [
        ("url= (one link's target)", "url=" + urllib.parse.quote(url, safe=""),
         "SELECT id FROM links NOT INDEXED WHERE url = ? ORDER BY id LIMIT 101", (url,), "url"),
        ("q= rare (a code)", "q=c%07d" % i,
         "SELECT id FROM links WHERE (code LIKE ?1 OR url LIKE ?1 OR title LIKE ?1 OR tags LIKE ?1) ORDER BY id LIMIT 101",
         ("%%c%07d%%" % i,), "code"),
        ("q= rare (site + path)", "q=" + urllib.parse.quote("site%d.example/p/%d/" % (i % 5000, i)),
         "SELECT id FROM links WHERE (code LIKE ?1 OR url LIKE ?1 OR title LIKE ?1 OR tags LIKE ?1) ORDER BY id LIMIT 101",
         ("%%site%d.example/p/%d/%%" % (i % 5000, i),), "site"),
        ("q= common (a word)", "q=WHISKEY",
         "SELECT id FROM links WHERE (code LIKE ?1 OR url LIKE ?1 OR title LIKE ?1 OR tags LIKE ?1) ORDER BY id LIMIT 101",
         ("%whiskey%",), "word"),
        ("tag= (1 in 60)", "tag=team-7",
         "SELECT id FROM links WHERE EXISTS (SELECT 1 FROM json_each(links.tags) WHERE value = ?) ORDER BY id LIMIT 101",
         ("team-7",), "tag"),
        ("tag= two tags", "tag=team-7&tag=press",
         "SELECT id FROM links WHERE EXISTS (SELECT 1 FROM json_each(links.tags) WHERE value = ?1) AND "
         "EXISTS (SELECT 1 FROM json_each(links.tags) WHERE value = ?2) ORDER BY id LIMIT 101",
         ("team-7", "press"), "tags"),
        ("tag= none match", "tag=no-such-tag",
         "SELECT id FROM links WHERE EXISTS (SELECT 1 FROM json_each(links.tags) WHERE value = ?) ORDER BY id LIMIT 101",
         ("no-such-tag",), "none"),
    ]
    p, port = start_daemon()
    try:
        print("%-26s %8s %9s %9s %10s %10s %6s" % ("lookup", "api ms", "index ms", "scan ms", "scan/api",
                                                    "scan/index", "found"))
        for name, query, sql, args, key in cases:
            a = api_get(port, query)
            x = scan(db, *index[key])
            s = scan(db, sql, args)
            a()  # warm the page cache once, as a running daemon has it
            x()
            api_ms, index_ms, scan_ms = median_ms(a), median_ms(x), median_ms(s)
            print("%-26s %8.2f %9.2f %9.1f %10.0f %10.0f %6d" % (name, api_ms, index_ms, scan_ms, scan_ms / api_ms,
                                                                  scan_ms / index_ms, a.found))
        if BULK > 0:
            cpu0 = cpu_seconds(p.pid)
            made, took = bulk(port, BULK)
            cpu = cpu_seconds(p.pid) - cpu0
            print("bulk create: %d links in %d arrays of 1,000 in %.2f s: %.0f links/s; shortd's CPU %.2f s, "
                  "%.0f links per CPU second" % (made, BULK, took, made / took, cpu, made / cpu))
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait()
        db.close()
    if os.environ.get("KEEP", "0") != "1" and FILL:
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(DB + suffix):
                os.unlink(DB + suffix)


if __name__ == "__main__":
    if not os.path.exists(SHORTD):
        sys.exit("no %s: run make first" % SHORTD)
    main()
