#!/usr/bin/env python3
"""make torture: failures injected one at a time, as curl's runtests.pl -t
and SQLite's OOM and I/O-error tests do.

The binaries of BUILD are built with ASan and UBSan and with
tests/torture/torture.c linked in; SHORTD_TORTURE_ALLOC=N fails their Nth
allocation (shortd's own, Jansson's and SQLite's), SHORTD_TORTURE_IO=N the Nth
read, write, sync, truncate or lock of SQLite's files. Three phases:

  unit-alloc  the unit tests (each in a child of its own, where N counts from
              the test's start) with N = 1, 2, ... until no test makes N
              allocations or N reaches --max. A test may fail its
              assertions (its allocation failed); it must not crash, hang,
              leak or trip a sanitizer: Check reports those as errors.
  unit-io     the same with storage calls, for the store's conformance tests
              and the click flusher (suites store, clicks, link_admin).
  daemon      shortd serve (with an access log) started with its Nth allocation failed, then
              Nth storage call, N = 1, 2, ...: it exits 1 with a message at
              start, or it goes through the scenario (create a link, follow
              it, read its stats, list the links, read /metrics and
              /healthz, SIGTERM) answering each step as documented
              or with 500/503, and exits 0 on SIGTERM with no sanitizer
              report. Then the database must pass PRAGMA integrity_check and
              hold every link acknowledged with 201 and every click a
              redirect was given for.

--unit-suites S1,S2 runs unit-alloc on those suites only (make coverage: the
modules whose own start-up allocations come first).

--startup-stride S runs only every Sth N of the daemon's allocations in
start-up (up to 100 before its first request), --stride S every Sth after
it: the bounded runs of .ci/run and make coverage. Its storage calls are
each run. --first N starts at N (with
--max N or --daemon-max N: that one run; SHORTD_TORTURE_TRACE=1 shows where
the failed call was made).

--jobs J runs J of the N at a time (default: one per CPU), each in a
directory of its own; they are reported in order of N.

Exit status 1 when any run is a defect; each is printed with its output.
"""
import argparse
import concurrent.futures
import itertools
import json
import os
import re
import select
import signal
import sqlite3
import struct
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

TOKEN = "torture-admin-token-0123456789abcdefghijklmn"
SANITIZER = re.compile(r"ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|SUMMARY: UndefinedBehavior")
SAN_ENV = {
    "ASAN_OPTIONS": "detect_leaks=1:abort_on_error=0:exitcode=86",
    "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1:exitcode=86",
    "LSAN_OPTIONS": "exitcode=87",
}


def log_lines(path):
    """The "alloc A io I injected X" lines each process wrote at exit."""
    out = []
    try:
        with open(path) as f:
            for line in f:
                p = line.split()
                if len(p) == 6:
                    out.append((int(p[1]), int(p[3]), p[5] == "1"))
    except FileNotFoundError:
        pass
    return out


def run_unit(binary, kind, n, suites, tmp):
    """One run of the unit tests with the Nth call of KIND failed: the
    defects seen (Check's errors, which are crashes, hangs, leaks and
    sanitizer reports; never its failures) and whether any test reached N."""
    work = tempfile.mkdtemp(dir=tmp)
    logpath = os.path.join(work, "unit.log")
    env = dict(os.environ, **SAN_ENV)
    env.update({"CK_FORK": "yes", "CK_DEFAULT_TIMEOUT": "20", "SHORTD_TORTURE_LOG": logpath,
                "SHORTD_TORTURE_" + kind.upper(): str(n), "CK_VERBOSITY": "normal"})
    defects, reached = [], False
    for suite in suites or [None]:
        # A suite by its file's name (test_NAME.c), as the runner takes it.
        argv = [binary] if suite is None else [binary, suite]
        p = subprocess.run(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, errors="replace", cwd=work)
        errors = [l for l in p.stdout.splitlines() if re.search(r":E:", l)]
        if errors:
            defects.append("%s N=%d%s:\n%s" % (kind, n, " suite " + suite if suite else "",
                                                "\n".join(errors)) + "\n--- output ---\n" + p.stdout[-6000:])
        elif p.returncode not in (0, 1):
            defects.append("%s N=%d: runner exit %d\n%s" % (kind, n, p.returncode, p.stdout[-6000:]))
    lines = log_lines(logpath)
    reached = any(x[2] for x in lines)
    subprocess.run(["rm", "-rf", work])
    return defects, reached, lines


def waves(numbers, jobs, run):
    """RUN(n) for each n of NUMBERS, JOBS at a time, yielding (n, result) in
    order; the caller stops taking them at the first n past the end."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        it = iter(numbers)
        while True:
            wave = [n for _, n in zip(range(jobs), it)]
            if not wave:
                return
            for n, fut in [(n, pool.submit(run, n)) for n in wave]:
                yield n, fut.result()


def unit_phase(build, kind, maximum, suites, tmp, first=1, jobs=1):
    binary = os.path.abspath(os.path.join(build, "unit_tests"))
    defects, runs, n = [], 0, first - 1
    numbers = itertools.count(first) if maximum == 0 else range(first, maximum + 1)
    for n, (d, reached, _) in waves(numbers, jobs, lambda n: run_unit(binary, kind, n, suites, tmp)):
        runs += 1
        defects += d
        for x in d:
            print("torture: DEFECT " + x, flush=True)
        if not reached:
            break
        if n % 10 == 0:
            print("torture: unit-%s N=%d" % (kind, n), flush=True)
    print("torture: unit-%s: %d runs (N = %d..%d)%s, %d defects" %
          (kind, runs, first, n, "" if n < maximum or maximum == 0 else ", stopped at --max", len(defects)), flush=True)
    return defects, n


# ---- the daemon ----

class Daemon:
    def __init__(self, binary, db, extra_env):
        self.err = tempfile.TemporaryFile(mode="w+")
        env = dict(os.environ, **SAN_ENV)
        env.update(extra_env)
        env["SHORTD_ADMIN_TOKEN"] = TOKEN
        for k in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
            env.pop(k, None)
        # With an access log, so that its allocations and its writer are
        # failed in turn too.
        self.proc = subprocess.Popen([binary, "serve", "--listen", "127.0.0.1:0", "--db", db,
                                      "--flush-interval", "30", "--threads", "2",
                                      "--access-log", os.path.join(os.path.dirname(db), "access.log")],
                                     env=env, stdout=subprocess.DEVNULL, stderr=self.err)
        self.base = None

    def stderr(self):
        self.err.seek(0)
        return self.err.read()

    def wait_listening(self, seconds=20):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            m = re.search(r"listening on (http://\S+)", self.stderr())
            if m:
                self.base = m.group(1)
                return True
            if self.proc.poll() is not None:
                return False
            time.sleep(0.02)
        return False

    def stop(self, seconds=30):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(seconds)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return None


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


OPENER = urllib.request.build_opener(NoRedirect, urllib.request.ProxyHandler({}))


def http(method, url, body=None):
    headers = {"Authorization": "Bearer " + TOKEN}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with OPENER.open(req, timeout=20) as r:
            return r.status, r.read(), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read(), dict(e.headers)


def error_shape(status, body):
    """A 500/503 carries the documented JSON error object."""
    try:
        j = json.loads(body)
        return isinstance(j.get("error"), dict) and isinstance(j["error"].get("code"), str)
    except ValueError:
        return False


def scenario(d):
    """Create, redirect, stats; what was acknowledged, or a complaint."""
    acked = {"links": [], "clicks": {}}
    problems = []
    for code in ("tort1", "tort2"):
        st, body, _ = http("POST", d.base + "/api/v1/links", {"url": "https://example.com/" + code, "code": code})
        if st == 201:
            acked["links"].append(code)
        elif st in (500, 503):
            if not error_shape(st, body):
                problems.append("create %s: %d without the JSON error: %r" % (code, st, body[:200]))
        else:
            problems.append("create %s: %d %r" % (code, st, body[:200]))
    for code in ("tort1", "tort2"):
        for _ in range(3):
            st, body, headers = http("GET", d.base + "/" + code)
            if st == 302 or st == 301 or st == 307 or st == 308 or st == 303:
                if code not in acked["links"]:
                    # Created even though the create was not acknowledged:
                    # allowed (the client retries and gets 409), not lost.
                    pass
                acked["clicks"][code] = acked["clicks"].get(code, 0) + 1
            elif st == 404 and code not in acked["links"]:
                pass
            elif st in (500, 503):
                pass
            else:
                problems.append("GET /%s: %d" % (code, st))
    time.sleep(0.1)
    for code in acked["links"]:
        st, body, _ = http("GET", d.base + "/api/v1/links/%s/stats" % code)
        if st == 200:
            try:
                clicks = json.loads(body).get("clicks")
            except ValueError:
                problems.append("stats %s: 200 with a body that is not JSON: %r" % (code, body[:2000]))
                continue
            if not isinstance(clicks, int) or clicks > acked["clicks"].get(code, 0):
                problems.append("stats %s: %r" % (code, body[:200]))
        elif st not in (500, 503) or not error_shape(st, body):
            problems.append("stats %s: %d %r" % (code, st, body[:200]))
    st, body, _ = http("GET", d.base + "/api/v1/links?limit=10")
    if st == 200:
        try:
            listed = {item["code"] for item in json.loads(body)["items"]}
        except (ValueError, KeyError, TypeError):
            problems.append("list: 200 with %r" % body[:2000])
            listed = set(acked["links"])
        if not set(acked["links"]) <= listed:
            problems.append("list: %r lacks an acknowledged link" % body[:2000])
    elif st not in (500, 503) or not error_shape(st, body):
        problems.append("list: %d %r" % (st, body[:200]))
    st, body, _ = http("GET", d.base + "/metrics")
    if (st == 200 and b"shortd_start_time_seconds" not in body) or st not in (200, 500, 503):
        problems.append("metrics: %d %r" % (st, body[:200]))
    st, body, _ = http("GET", d.base + "/healthz")
    if st not in (200, 500, 503):
        problems.append("healthz: %d" % st)
    return acked, problems


def stored_clicks(con, tables, code):
    """A link's human clicks as stored, None when the link is not there: in
    its links row before schema 8, else in its chunk's click_totals blob
    (records of a slot byte and clicks, bot_clicks, last_click_at as
    little-endian int64s, see include/click_chunk.h)."""
    if "click_totals" not in tables:
        row = con.execute("SELECT clicks FROM links WHERE code = ?", (code,)).fetchone()
        return None if row is None else row[0]
    row = con.execute("SELECT id, (SELECT data FROM click_totals WHERE chunk = links.id >> 7) "
                      "FROM links WHERE code = ?", (code,)).fetchone()
    if row is None:
        return None
    link_id, blob = row
    for pos in range(0, len(blob or b""), 25):
        slot, clicks, _, _ = struct.unpack_from("<Bqqq", blob, pos)
        if slot == link_id & 127:
            return clicks
    return 0


def check_database(db, acked):
    problems = []
    if not os.path.exists(db):
        return ["no database file"] if acked["links"] else []
    con = sqlite3.connect(db)
    try:
        ok = con.execute("PRAGMA integrity_check").fetchone()[0]
        if ok != "ok":
            problems.append("integrity_check: " + ok)
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "links" not in tables:
            return problems + (["links table missing"] if acked["links"] else [])
        for code in acked["links"]:
            clicks = stored_clicks(con, tables, code)
            if clicks is None:
                problems.append("acknowledged link %s lost" % code)
            elif clicks < acked["clicks"].get(code, 0):
                problems.append("link %s: %d clicks stored, %d redirects given" %
                                (code, clicks, acked["clicks"].get(code, 0)))
    finally:
        con.close()
    return problems


def daemon_run(binary, kind, n, tmp):
    """One daemon scenario with the Nth call of KIND failed: the problems
    and whether the failure was injected."""
    work = tempfile.mkdtemp(dir=tmp)
    db = os.path.join(work, "t.db")
    logpath = os.path.join(work, "torture.log")
    d = Daemon(binary, db, {"SHORTD_TORTURE_" + kind.upper(): str(n), "SHORTD_TORTURE_LOG": logpath})
    problems = []
    acked = {"links": [], "clicks": {}}
    if not d.wait_listening():
        rc = d.stop()
        err = d.stderr()
        if rc != 1 or not re.search(r"^shortd: ", err, re.M):
            problems.append("start failed with exit %s and stderr:\n%s" % (rc, err[-4000:]))
    else:
        try:
            acked, problems = scenario(d)
        except (OSError, ValueError) as e:
            problems.append("scenario: %s" % e)
        rc = d.stop()
        if rc is None:
            problems.append("no exit within 30 s of SIGTERM")
        elif rc != 0:
            problems.append("exit %d after SIGTERM" % rc)
    err = d.stderr()
    if SANITIZER.search(err):
        problems.append("sanitizer report")
    if problems:
        problems.append("stderr:\n" + err[-6000:])
    problems += check_database(db, acked)
    lines = log_lines(logpath)
    injected = any(x[2] for x in lines)
    return problems, injected


def startup_count(binary, kind, tmp):
    """How many calls of KIND a daemon makes to start and stop with no
    request: N up to there fails start-up, N past it a request."""
    work = tempfile.mkdtemp(dir=tmp)
    logpath = os.path.join(work, "torture.log")
    d = Daemon(binary, os.path.join(work, "t.db"), {"SHORTD_TORTURE_LOG": logpath})
    d.wait_listening()
    d.stop()
    lines = log_lines(logpath)
    return (lines[-1][0] if kind == "alloc" else lines[-1][1]) if lines else 0


def daemon_phase(build, kind, maximum, tmp, first=1, startup_stride=1, stride=1, jobs=1):
    binary = os.path.abspath(os.path.join(build, "shortd"))
    defects, n, runs = [], first - 1, 0
    # With a stride, start-up is sampled (every stride-th N) up to a margin
    # before the first request; each N from there on is run.
    sampled_below = startup_count(binary, kind, tmp) - 100 if startup_stride > 1 else 0
    numbers = itertools.count(first) if maximum == 0 else range(first, maximum + 1)
    numbers = (n for n in numbers if n % (startup_stride if n < sampled_below else stride) == 0)
    ended = False
    for n, (problems, injected) in waves(numbers, jobs, lambda n: daemon_run(binary, kind, n, tmp)):
        runs += 1
        if problems:
            msg = "daemon-%s N=%d:\n%s" % (kind, n, "\n".join(problems))
            print("torture: DEFECT " + msg, flush=True)
            defects.append(msg)
        if not injected:
            ended = True
            break
        if n % 25 == 0:
            print("torture: daemon-%s N=%d" % (kind, n), flush=True)
    if not ended and maximum > 0:
        n = maximum  # the strides skipped the last N up to --daemon-max
    sampling = ""
    if sampled_below > 0:
        sampling += ", every %dth below %d" % (startup_stride, sampled_below)
    if stride > 1:
        sampling += ", every %dth past start-up" % stride
    print("torture: daemon-%s: %d runs (N = %d..%d%s)%s, %d defects" %
          (kind, runs, first, n, sampling, "" if n < maximum or maximum == 0 else ", stopped at --max",
           len(defects)), flush=True)
    return defects, n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--max", type=int, default=0, help="largest N for the unit tests (0: no bound)")
    ap.add_argument("--daemon-max", type=int, default=0, help="largest N for the daemon (0: no bound)")
    ap.add_argument("--startup-stride", type=int, default=1,
                    help="run only every Nth of the daemon's start-up allocations")
    ap.add_argument("--stride", type=int, default=1,
                    help="run only every Nth of the daemon's allocations past start-up")
    ap.add_argument("--first", type=int, default=1, help="the first N (to rerun one failure)")
    ap.add_argument("--jobs", type=lambda v: max(1, int(v)), default=len(os.sched_getaffinity(0)),
                    help="runs at a time (default: one per CPU)")
    ap.add_argument("--phases", default="unit-alloc,unit-io,daemon-alloc,daemon-io")
    ap.add_argument("--unit-suites", type=lambda v: v.split(","), default=None,
                    help="unit-alloc: only these suites, comma-separated (default: all)")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="shortd-torture.")
    defects = []
    start = time.monotonic()
    for phase in args.phases.split(","):
        if phase == "unit-alloc":
            defects += unit_phase(args.build, "alloc", args.max, args.unit_suites, tmp, args.first, args.jobs)[0]
        elif phase == "unit-io":
            defects += unit_phase(args.build, "io", args.max, ["store", "clicks", "link_admin"], tmp, args.first,
                                  args.jobs)[0]
        elif phase == "daemon-alloc":
            defects += daemon_phase(args.build, "alloc", args.daemon_max, tmp, args.first,
                                    args.startup_stride, args.stride, args.jobs)[0]
        elif phase == "daemon-io":
            # Some 130 calls in all: each one is run, whatever the strides.
            defects += daemon_phase(args.build, "io", args.daemon_max, tmp, args.first, jobs=args.jobs)[0]
        else:
            sys.exit("torture: unknown phase " + phase)
    subprocess.run(["rm", "-rf", tmp])
    print("torture: %d defects in %.0f s" % (len(defects), time.monotonic() - start))
    sys.exit(1 if defects else 0)


if __name__ == "__main__":
    main()
