#!/usr/bin/env python3
"""Runs the README's examples in order and compares what they print.

Every fenced block that follows a line `<!-- readme-test -->` is run: each
`$ COMMAND` line (continued by a trailing backslash) is one command, and the
lines after it, up to the next `$ `, are what it must print (stdout and
stderr together). The blocks run in the order they appear, in one fresh
temporary directory, with the shortd under test first on PATH and no SHORTD_*
variable but those the examples set. `$ shortd serve ...` starts the daemon
in the background on a free port (SHORTD_LISTEN=127.0.0.1:0) and compares
the lines it prints up to `listening on`; the daemon is stopped with SIGTERM
at the end and must exit 0.

Only these may differ from the README: a port (127.0.0.1:8080 in the README
is the daemon's real address), times (RFC 3339, HTTP dates, days), tokens
(43 base64url characters) and generated codes (7 base62 characters with an
upper-case letter or a digit). A token or code seen in the README is bound to
the value printed in its place the first time and must stay the same after;
commands have it replaced, so `export TOKEN=...` and `shortd get CODE` use
the real values.

Usage: run.py README.md path/to/shortd
       run.py --self-test   (checks that the comparison lets through only
                             what it should; make docs-run runs it first)
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile

MARK = "<!-- readme-test -->"
README_ADDR = "127.0.0.1:8080"
CLASSES = [
    ("time", r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", False),
    ("httpdate", r"[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT", False),
    ("logtime", r"\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}", False),
    ("day", r"\d{4}-\d\d-\d\d", False),
    ("token", r"(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])", True),
    ("code", r"(?<![A-Za-z0-9_-])(?=[a-z]*[A-Z0-9])[A-Za-z0-9]{7}(?![A-Za-z0-9_-])", True),
]
ANY_CLASS = re.compile("|".join("(?P<%s>%s)" % (n, p) for n, p, _ in CLASSES))
CLASS_RE = {n: p for n, p, _ in CLASSES}
BINDS = {n for n, _, b in CLASSES if b}


class Failure(Exception):
    pass


def blocks(text):
    """[(line number of the block's first line, [lines])] of marked blocks."""
    lines = text.split("\n")
    found = []
    i = 0
    while i < len(lines):
        if lines[i].strip() != MARK:
            i += 1
            continue
        if i + 1 >= len(lines) or not lines[i + 1].startswith("```"):
            raise Failure("README.md:%d: %s not followed by a fenced block" % (i + 1, MARK))
        body = []
        j = i + 2
        while j < len(lines) and not lines[j].startswith("```"):
            body.append(lines[j])
            j += 1
        found.append((i + 3, body))
        i = j + 1
    return found


def steps(first, body):
    """[(line number, command, [expected lines])] of one block."""
    out = []
    i = 0
    while i < len(body):
        if not body[i].startswith("$ "):
            raise Failure("README.md:%d: expected a '$ ' command, got: %s" % (first + i, body[i]))
        lineno = first + i
        cmd = body[i][2:]
        while cmd.endswith("\\") and i + 1 < len(body):
            i += 1
            cmd += "\n" + body[i]
        i += 1
        expected = []
        while i < len(body) and not body[i].startswith("$ "):
            expected.append(body[i])
            i += 1
        while expected and expected[-1] == "":
            expected.pop()
        out.append((lineno, cmd, expected))
    return out


class Runner:
    def __init__(self, shortd, workdir):
        self.work = workdir
        bindir = os.path.join(workdir, ".bin")
        os.mkdir(bindir)
        os.symlink(os.path.abspath(shortd), os.path.join(bindir, "shortd"))
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("SHORTD_")}
        for k in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
            self.env.pop(k, None)
        self.env["PATH"] = bindir + os.pathsep + self.env.get("PATH", "/usr/bin:/bin")
        self.env["SHORTD_LISTEN"] = "127.0.0.1:0"
        self.addr = None  # the daemon's 127.0.0.1:PORT
        self.daemon = None
        self.bound = {}  # README value -> printed value

    def to_real(self, cmd):
        for readme, real in self.bound.items():
            if readme != real:
                cmd = re.sub(r"(?<![A-Za-z0-9_-])%s(?![A-Za-z0-9_-])" % re.escape(readme), real, cmd)
        if self.addr is not None:
            cmd = cmd.replace(README_ADDR, self.addr)
        return cmd

    def to_readme(self, line):
        line = line.rstrip("\r")
        if self.addr is not None:
            line = line.replace(self.addr, README_ADDR)
        return line

    def match(self, expected, actual):
        """Matches one line; returns the new bindings, or None."""
        pattern, pos, groups = "", 0, {}
        for m in ANY_CLASS.finditer(expected):
            kind = m.lastgroup
            value = m.group(0)
            pattern += re.escape(expected[pos : m.start()])
            pos = m.end()
            if kind not in BINDS:
                pattern += "(?:%s)" % CLASS_RE[kind]
            elif value in self.bound:
                pattern += re.escape(self.bound[value])
            elif value in groups:
                pattern += "(?P=%s)" % groups[value]
            else:
                groups[value] = "g%d" % len(groups)
                pattern += "(?P<%s>%s)" % (groups[value], CLASS_RE[kind])
        pattern += re.escape(expected[pos:])
        m = re.fullmatch(pattern, actual)
        if m is None:
            return None
        return {value: m.group(name) for value, name in groups.items()}

    def compare(self, lineno, cmd, expected, actual):
        actual = [self.to_readme(l) for l in actual]
        while actual and actual[-1] == "":
            actual.pop()
        new = {}
        ok = len(actual) == len(expected)
        for e, a in zip(expected, actual):
            if not ok:
                break
            got = self.match(e, a)
            if got is None:
                ok = False
            else:
                new.update(got)
        if not ok:
            raise Failure(
                "README.md:%d: `%s` printed what the README does not show\n--- README\n%s\n--- printed\n%s"
                % (lineno, cmd.split("\n")[0], "\n".join(expected), "\n".join(actual))
            )
        self.bound.update(new)

    def start_daemon(self, lineno, cmd, expected):
        if self.daemon is not None:
            raise Failure("README.md:%d: a second shortd serve" % lineno)
        self.daemon = subprocess.Popen(
            ["bash", "-c", "exec " + self.to_real(cmd)],
            cwd=self.work,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        lines = []
        while True:
            line = self.daemon.stderr.readline()
            if line == "":
                raise Failure("README.md:%d: shortd serve exited: %s" % (lineno, "".join(lines)))
            lines.append(line.rstrip("\n"))
            m = re.match(r"listening on http://(127\.0\.0\.1:\d+)$", lines[-1])
            if m:
                self.addr = m.group(1)
                break
        self.env["SHORTD_LISTEN"] = self.addr
        self.compare(lineno, cmd, expected, lines)

    def run(self, lineno, cmd, expected):
        if re.match(r"shortd serve\b", cmd):
            self.start_daemon(lineno, cmd, expected)
            return
        real = self.to_real(cmd)
        m = re.fullmatch(r"export (\w+)=(\S+)", real)
        if m:
            self.env[m.group(1)] = m.group(2)
            self.compare(lineno, cmd, expected, [])
            return
        try:
            p = subprocess.run(
                ["bash", "-c", real],
                cwd=self.work,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                timeout=60,
            )
        except subprocess.TimeoutExpired:
            raise Failure("README.md:%d: `%s` did not finish in 60 s" % (lineno, cmd))
        text = p.stdout.decode("utf-8", "replace")
        self.compare(lineno, cmd, expected, text.split("\n"))

    def stop(self):
        if self.daemon is None:
            return
        self.daemon.send_signal(signal.SIGTERM)
        try:
            rc = self.daemon.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.daemon.kill()
            self.daemon.wait()
            raise Failure("shortd serve did not stop within 20 s of SIGTERM")
        finally:
            self.daemon.stderr.close()
            self.daemon = None
        if rc != 0:
            raise Failure("shortd serve exited %d on SIGTERM" % rc)


def self_test():
    """The comparison's own cases: what may differ, and what may not."""
    r = Runner.__new__(Runner)
    r.bound, r.addr = {}, None
    cases = [
        # (README line, printed line, matches)
        ("exit 1", "exit 2", False),
        ("https://example.com/launch", "https://example.com/lunch", False),
        ("https://example.com/launch", "https://exemple.com/launch", False),
        ('"created_at":"2026-11-25T20:36:56Z"', '"created_at":"2031-01-02T03:04:05Z"', True),
        ("Date: Wed, 25 Nov 2026 21:38:09 GMT", "Date: Sat, 28 Nov 2026 06:00:00 GMT", True),
        ('"status":301', '"status":302', False),
        ("Content-Length: 190", "Content-Length: 191", False),
        ("http://127.0.0.1:8080/dwBkuMU", "http://127.0.0.1:8080/q9Zx0Ab", True),
        # bound above: the same README code must print the same value again
        ("dwBkuMU\t302", "q9Zx0Ab\t302", True),
        ("dwBkuMU\t302", "Zz9Zz9Z\t302", False),
        ("FcUijYJJIg6UreB_ZCY9rbrbgzUBrVlgOGtd3X1nv0A", "a" * 43, True),
        ("FcUijYJJIg6UreB_ZCY9rbrbgzUBrVlgOGtd3X1nv0A", "a" * 42, False),
        ("one token x", "one token y", False),
    ]
    for readme, printed, want in cases:
        try:
            r.compare(0, "self-test", [readme], [printed])
            got = True
        except Failure:
            got = False
        if got != want:
            print("readme: self-test FAIL: %r vs %r %s" % (readme, printed, "refused" if want else "accepted"),
                  file=sys.stderr)
            return 1
    print("readme: self-test: %d comparison cases ok" % len(cases))
    return 0


def main():
    if sys.argv[1:] == ["--self-test"]:
        return self_test()
    if len(sys.argv) != 3:
        print("usage: run.py README.md path/to/shortd", file=sys.stderr)
        return 2
    with open(sys.argv[1], encoding="utf-8") as f:
        text = f.read()
    work = tempfile.mkdtemp(prefix="shortd-readme-")
    runner = Runner(sys.argv[2], work)
    count = 0
    try:
        all_blocks = blocks(text)
        if not all_blocks:
            raise Failure("no %s block in %s" % (MARK, sys.argv[1]))
        for first, body in all_blocks:
            for lineno, cmd, expected in steps(first, body):
                runner.run(lineno, cmd, expected)
                count += 1
        runner.stop()
    except Failure as e:
        print("readme: FAIL: %s" % e, file=sys.stderr)
        return 1
    finally:
        if runner.daemon is not None:
            runner.daemon.kill()
            runner.daemon.wait()
        shutil.rmtree(work, ignore_errors=True)
    print("readme: %d examples in %d blocks ran as README.md shows them" % (count, len(all_blocks)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
