/*
 * doc/openapi.json against a real validator and against the real daemon.
 *
 * 1. @apidevtools/swagger-parser validates the document against the
 *    OpenAPI 3.1 schema and resolves its references; a document broken on
 *    purpose must fail, so the check is known to bite.
 * 2. A daemon on 127.0.0.1:0 with a fresh database answers a walk through
 *    every operation, its successes and its refusals. Each answer must be
 *    one the document lists for that operation (the exact status), with a
 *    listed media type, and its body (and WWW-Authenticate) must match the
 *    schema (ajv, JSON Schema 2020-12, formats checked). Schemas of closed
 *    objects forbid other properties, so a field the daemon adds or drops
 *    fails here until the document says so. Each body a request sent and the
 *    daemon took must match the operation's request schema too.
 * 3. Every operation is seen with its success status at least once, and the
 *    daemon serves /api/v1/openapi.json as the file's exact bytes.
 *
 *   node tests/openapi/openapi.test.js [SHORTD_BIN]
 * Exits non-zero on the first failure.
 */
'use strict';

const assert = require('node:assert/strict');
const { spawn, execFileSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const SwaggerParser = require('@apidevtools/swagger-parser');
const Ajv2020 = require('ajv/dist/2020').default;
const addFormats = require('ajv-formats').default;

const ROOT = path.resolve(__dirname, '..', '..');
const BIN = path.resolve(process.argv[2] || process.env.SHORTD_BIN || path.join(ROOT, 'build', 'shortd'));
const DOC = path.join(ROOT, 'doc', 'openapi.json');
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'shortd-openapi-'));
const db = path.join(tmp, 'shortd.db');
const admin = crypto.randomBytes(24).toString('base64url');
let daemon = null;
let base = null;

function log(msg) {
  process.stdout.write('openapi: ' + msg + '\n');
}

function startDaemon() {
  return new Promise((resolve, reject) => {
    daemon = spawn(BIN, ['serve', '--listen', '127.0.0.1:0', '--db', db, '--flush-interval', '100'], {
      env: { ...process.env, SHORTD_ADMIN_TOKEN: admin },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    const timer = setTimeout(() => reject(new Error('no "listening on" line in 10 s: ' + err)), 10000);
    daemon.stderr.on('data', (chunk) => {
      err += chunk;
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    daemon.on('exit', (code) => reject(new Error('shortd exited with ' + code + ': ' + err)));
  });
}

/* The path template of the document that a concrete path falls under. */
function templateOf(paths, concrete) {
  for (const t of Object.keys(paths)) {
    const re = new RegExp('^' + t.replace(/[.]/g, '\\.').replace(/\{[^}]+\}/g, '[^/]+') + '$');
    if (re.test(concrete)) return t;
  }
  return null;
}

class Checker {
  constructor(doc) {
    this.doc = doc;
    this.ajv = new Ajv2020({ strict: true, allErrors: true });
    addFormats(this.ajv);
    this.compiled = new Map();
    this.seen = new Set(); /* "METHOD template status" */
    this.calls = 0;
  }

  validator(schema) {
    let v = this.compiled.get(schema);
    if (!v) {
      v = this.ajv.compile(schema);
      this.compiled.set(schema, v);
    }
    return v;
  }

  assertMatches(schema, value, what) {
    const v = this.validator(schema);
    if (!v(value)) {
      throw new Error(what + ' does not match the document: ' + this.ajv.errorsText(v.errors, { separator: '; ' }) +
        '\n' + JSON.stringify(value).slice(0, 2000));
    }
  }

  /* Sends one request and checks the answer against the operation. */
  async call(method, target, { token = admin, json, body, type, headers = {} } = {}) {
    const h = { ...headers };
    if (token) h.Authorization = 'Bearer ' + token;
    let sent = body;
    if (json !== undefined) {
      sent = JSON.stringify(json);
      h['Content-Type'] = type || 'application/json';
    } else if (body !== undefined) {
      h['Content-Type'] = type || 'application/json';
    }
    const res = await fetch(base + target, { method, headers: h, body: sent, redirect: 'manual' });
    const raw = Buffer.from(await res.arrayBuffer());
    const concrete = target.split('?')[0];
    const what = method + ' ' + target + ' -> ' + res.status;
    const tpl = templateOf(this.doc.paths, concrete);
    assert.ok(tpl, what + ': no path of the document matches ' + concrete);
    const op = this.doc.paths[tpl][method.toLowerCase()];
    assert.ok(op, what + ': the document has no ' + method + ' for ' + tpl);
    const r = op.responses[String(res.status)];
    assert.ok(r, what + ': status not listed (listed: ' + Object.keys(op.responses).join(', ') + '): ' +
      raw.toString('utf8').slice(0, 300));
    this.seen.add(method.toUpperCase() + ' ' + tpl + ' ' + res.status);
    this.calls++;

    const ctype = (res.headers.get('content-type') || '').split(';')[0].trim();
    let parsed = null;
    if (!r.content) {
      assert.equal(raw.length, 0, what + ': a body where the document lists none');
    } else {
      const media = r.content[ctype];
      assert.ok(media, what + ': Content-Type ' + ctype + ' not listed (' + Object.keys(r.content).join(', ') + ')');
      if (ctype === 'application/json') {
        parsed = JSON.parse(raw.toString('utf8'));
        this.assertMatches(media.schema, parsed, what);
      } else if (ctype.startsWith('text/') || ctype === 'image/svg+xml') {
        this.assertMatches(media.schema, raw.toString('utf8'), what);
      } else {
        assert.ok(raw.length > 0, what + ': an empty ' + ctype);
      }
    }
    for (const [name, hdr] of Object.entries(r.headers || {})) {
      const value = res.headers.get(name);
      assert.ok(value !== null, what + ': no ' + name + ' header');
      this.assertMatches(hdr.schema, value, what + ' header ' + name);
    }
    /* A body the daemon took must be one the document allows. */
    if (res.status < 300 && json !== undefined && op.requestBody) {
      this.assertMatches(op.requestBody.content['application/json'].schema, json, what + ' request body');
    }
    return { status: res.status, json: parsed, raw };
  }
}

async function validatorBites(doc) {
  const broken = structuredClone(doc);
  broken.paths['/api/v1/links'].get.responses = { ok: 'yes' };
  let failed = false;
  try {
    await SwaggerParser.validate(broken);
  } catch (e) {
    failed = true;
  }
  assert.ok(failed, 'swagger-parser accepted a document with a broken responses object');
  const dangling = structuredClone(doc);
  dangling.components.schemas.Link.properties.url = { $ref: '#/components/schemas/Nothing' };
  failed = false;
  try {
    await SwaggerParser.validate(dangling);
  } catch (e) {
    failed = true;
  }
  assert.ok(failed, 'swagger-parser accepted a dangling $ref');
}

async function walk(c) {
  const big = '{"url":"https://example.com/"' + ' '.repeat(64 * 1024) + '}';

  /* the server's own routes and the document */
  const served = await c.call('GET', '/api/v1/openapi.json', { token: null });
  assert.deepEqual(served.raw, fs.readFileSync(DOC), 'the served document differs from doc/openapi.json');
  await c.call('GET', '/healthz', { token: null });
  await c.call('GET', '/metrics', { token: null });

  /* tokens */
  const viewer = (await c.call('POST', '/api/v1/tokens', { json: { name: 'viewer', role: 'read' } })).json;
  const ops = (await c.call('POST', '/api/v1/tokens', { json: { name: 'ops', role: 'admin' } })).json;
  await c.call('GET', '/api/v1/tokens', { token: ops.token });
  await c.call('POST', '/api/v1/tokens', { json: { name: 'ops', role: 'admin' } });
  await c.call('POST', '/api/v1/tokens', { json: { name: 'x', role: 'root' } });
  await c.call('POST', '/api/v1/tokens', { body: '{', type: 'application/json' });
  await c.call('POST', '/api/v1/tokens', { body: '{"name":"x","role":"read"}', type: 'text/plain' });
  await c.call('POST', '/api/v1/tokens', { body: big });
  await c.call('GET', '/api/v1/tokens', { token: viewer.token });
  await c.call('GET', '/api/v1/tokens', { token: null });
  await c.call('DELETE', '/api/v1/tokens/' + viewer.id, { token: viewer.token });
  await c.call('DELETE', '/api/v1/tokens/99999');

  /* links */
  await c.call('POST', '/api/v1/links', { json: { url: 'https://example.com/docs', code: 'docs', status: 308 } });
  await c.call('POST', '/api/v1/links', {
    json: { url: 'https://example.com/sale?ref=mail', expires_at: '2030-01-31T12:00:00Z', max_clicks: 1000, forward_query: true },
  });
  await c.call('POST', '/api/v1/links', { json: { url: 'https://example.com/n', code: null, status: null, max_clicks: null, expires_at: null } });
  await c.call('POST', '/api/v1/links', { json: { url: 'https://example.com/other', code: 'docs' } });
  await c.call('POST', '/api/v1/links', { json: { url: 'ftp://example.com/' } });
  await c.call('POST', '/api/v1/links', { json: { url: 'https://example.com/', shortcode: 'x' } });
  await c.call('POST', '/api/v1/links', { body: 'url=https://example.com/', type: 'application/x-www-form-urlencoded' });
  await c.call('POST', '/api/v1/links', { body: big });
  await c.call('POST', '/api/v1/links', { json: { url: 'https://example.com/' }, token: null });
  await c.call('POST', '/api/v1/links', { json: { url: 'https://example.com/' }, token: viewer.token });
  const page = (await c.call('GET', '/api/v1/links?limit=1', { token: viewer.token })).json;
  assert.equal(typeof page.next_cursor, 'string');
  await c.call('GET', '/api/v1/links?limit=1000&cursor=' + page.next_cursor);
  await c.call('GET', '/api/v1/links?limit=0');
  await c.call('GET', '/api/v1/links?cursor=!!');
  await c.call('GET', '/api/v1/links/docs', { token: viewer.token });
  await c.call('GET', '/api/v1/links/nope');
  await c.call('PATCH', '/api/v1/links/docs', {
    json: { url: 'https://example.com/docs/v2', status: 301, expires_at: null, max_clicks: null, forward_query: false, disabled: false },
  });
  await c.call('PATCH', '/api/v1/links/docs', { json: { status: 308, max_clicks: 50, expires_at: '2031-01-01T00:00:00+02:00' } });
  await c.call('PATCH', '/api/v1/links/nope', { json: { disabled: true } });
  await c.call('PATCH', '/api/v1/links/docs', { json: { code: 'other' } });
  await c.call('PATCH', '/api/v1/links/docs', { json: { disabled: true }, token: viewer.token });
  await c.call('PATCH', '/api/v1/links/docs', { body: '{"disabled":true}', type: 'text/plain' });
  await c.call('PATCH', '/api/v1/links/docs', { body: big });

  /* stats and QR codes: a click with a referrer first */
  const click = await fetch(base + '/docs', { redirect: 'manual', headers: { Referer: 'https://news.example.org/post/1' } });
  assert.equal(click.status, 308);
  await click.arrayBuffer();
  const stats = (await c.call('GET', '/api/v1/links/docs/stats?days=3', { token: viewer.token })).json;
  assert.equal(stats.clicks, 1);
  assert.equal(stats.referrers.length, 1);
  await c.call('GET', '/api/v1/links/docs/stats');
  await c.call('GET', '/api/v1/links/docs/stats?days=0');
  await c.call('GET', '/api/v1/links/nope/stats');
  await c.call('GET', '/api/v1/links/docs/qr', { token: viewer.token });
  await c.call('GET', '/api/v1/links/docs/qr?format=png&size=4&margin=0');
  await c.call('GET', '/api/v1/links/docs/qr?format=gif');
  await c.call('GET', '/api/v1/links/nope/qr');

  /* deletes last */
  await c.call('DELETE', '/api/v1/links/docs', { token: viewer.token });
  await c.call('DELETE', '/api/v1/links/docs', { token: ops.token });
  await c.call('DELETE', '/api/v1/links/docs');
  await c.call('DELETE', '/api/v1/tokens/' + viewer.id);
  await c.call('GET', '/api/v1/links', { token: viewer.token });
  await c.call('GET', '/api/v1/tokens');
}

async function main() {
  const text = fs.readFileSync(DOC, 'utf8');
  const doc = JSON.parse(text);
  await SwaggerParser.validate(structuredClone(doc));
  await validatorBites(doc);
  log('doc/openapi.json is a valid OpenAPI ' + doc.openapi + ' document');

  const resolved = await SwaggerParser.dereference(structuredClone(doc));
  const c = new Checker(resolved);
  base = await startDaemon();
  await walk(c);

  const missing = [];
  for (const [tpl, item] of Object.entries(resolved.paths)) {
    for (const m of METHODS) {
      if (!item[m]) continue;
      const ok = Object.keys(item[m].responses).filter((s) => s.startsWith('2'));
      if (!ok.some((s) => c.seen.has(m.toUpperCase() + ' ' + tpl + ' ' + s))) missing.push(m.toUpperCase() + ' ' + tpl);
    }
  }
  assert.deepEqual(missing, [], 'operations never answered with success: ' + missing.join(', '));
  log(c.calls + ' answers match the document (' + c.seen.size + ' operation/status pairs)');
}

function stop() {
  if (daemon && daemon.exitCode === null) daemon.kill('SIGTERM');
  fs.rmSync(tmp, { recursive: true, force: true });
}

main().then(
  () => {
    stop();
    log('ok');
  },
  (e) => {
    stop();
    process.stderr.write('openapi: FAILED: ' + (e && e.stack ? e.stack : e) + '\n');
    process.exit(1);
  },
);
