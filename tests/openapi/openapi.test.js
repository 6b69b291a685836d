/*
 * doc/openapi.json against a real validator and against the real daemon.
 *
 * 1. @apidevtools/swagger-parser validates the document against the
 *    OpenAPI 3.1 schema and resolves its references; a document broken on
 *    purpose must fail, so the check is known to bite.
 * 2. A daemon on 127.0.0.1:0 with a fresh database answers a walk through
 *    every operation, its successes and its refusals. Each answer must be
 *    one the document lists for that operation (the exact status), with a
 *    listed media type (one listed with parameters: exactly those), and
 *    its body (JSON lines as the array of their lines) and listed headers
 *    must match the schema (ajv, JSON Schema 2020-12, formats checked).
 *    A concrete path is matched before a templated one. Schemas of closed
 *    objects forbid other properties, so a field the daemon adds or drops
 *    fails here until the document says so. Each request the daemon took
 *    must fit the operation: its body the request schema, each query
 *    parameter one the operation lists with a value its schema allows. A
 *    request marked `outside` (a refusal the document can express: a title
 *    too long, a control character in a tag, an unknown query parameter)
 *    must not fit, so the document's limits are the daemon's.
 *    The export's two formats must hold the links the list does, the
 *    CSV's header row being ExportLink's properties; a method the document
 *    does not list for the export is 405 with Allow and an Error, but for
 *    PATCH and DELETE, which reach the link whose code is export.
 * 3. Every operation is seen with each success status it lists, and the
 *    daemon serves /api/v1/openapi.json as the file's exact bytes.
 *
 *   node tests/openapi/openapi.test.js [SHORTD_BIN]
 * Exits non-zero on the first failure.
 */
'use strict';

const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const SwaggerParser = require('@apidevtools/swagger-parser');
const shortdDaemon = require('../support/daemon.js');
const Ajv2020 = require('ajv/dist/2020').default;
const addFormats = require('ajv-formats').default;

const ROOT = path.resolve(__dirname, '..', '..');
const BIN = path.resolve(process.argv[2] || process.env.SHORTD_BIN || path.join(ROOT, 'build', 'shortd'));
const DOC = path.join(ROOT, 'doc', 'openapi.json');
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const API_BODY_MAX = 1024 * 1024; /* the document's 1 MiB; include/api.h */

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'shortd-openapi-'));
const db = path.join(tmp, 'shortd.db');
const admin = crypto.randomBytes(24).toString('base64url');
let daemon = null;
let base = null;

function log(msg) {
  process.stdout.write('openapi: ' + msg + '\n');
}

function startDaemon() {
  const started = shortdDaemon.start(BIN, db, { SHORTD_ADMIN_TOKEN: admin });
  daemon = started.child;
  return started.base;
}

/* fetch() sends no body with GET; node:http does. Answers as much of a
 * fetch Response as Checker.call reads. */
function requestWithBody(method, url, headers, body) {
  return new Promise((resolve, reject) => {
    /* node:http frames no GET body by itself: Content-Length does */
    const req = http.request(url, { method, headers: { ...headers, 'Content-Length': Buffer.byteLength(body) } }, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => resolve({
        status: res.statusCode,
        headers: { get: (name) => res.headers[name.toLowerCase()] ?? null },
        arrayBuffer: async () => Buffer.concat(chunks),
      }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/* The path template of the document that a concrete path falls under; as
 * OpenAPI 3.1 says, a concrete path (/api/v1/links/export) before a
 * templated one that also matches (/api/v1/links/{code}). */
function templateOf(paths, concrete) {
  const templates = Object.keys(paths).sort((a, b) => a.split('{').length - b.split('{').length);
  for (const t of templates) {
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

  /* Why a request's query does not fit the operation: a parameter it does
   * not list, or a value (all of a repeated one for an array) its schema
   * refuses. [] when it fits. */
  queryProblems(pathItem, op, target) {
    const params = [...(pathItem.parameters || []), ...(op.parameters || [])].filter((p) => p.in === 'query');
    const query = new URLSearchParams(target.includes('?') ? target.slice(target.indexOf('?') + 1) : '');
    const problems = [];
    for (const name of new Set(query.keys())) {
      const p = params.find((q) => q.name === name);
      if (!p) {
        problems.push('query parameter ' + name + ' not listed');
        continue;
      }
      const values = query.getAll(name);
      let value = p.schema.type === 'array' ? values : values[values.length - 1];
      if (p.schema.type === 'integer' && /^-?[0-9]+$/.test(value)) value = Number(value);
      const v = this.validator(p.schema);
      if (!v(value)) problems.push('query parameter ' + name + ': ' + this.ajv.errorsText(v.errors));
    }
    return problems;
  }

  /* Sends one request and checks the answer against the operation. */
  async call(method, target, { token = admin, json, body, type, headers = {}, outside = false } = {}) {
    const h = { ...headers };
    if (token) h.Authorization = 'Bearer ' + token;
    let sent = body;
    if (json !== undefined) {
      sent = JSON.stringify(json);
      h['Content-Type'] = type || 'application/json';
    } else if (body !== undefined) {
      h['Content-Type'] = type || 'application/json';
    }
    const res = method === 'GET' && sent !== undefined
      ? await requestWithBody(method, base + target, h, sent)
      : await fetch(base + target, { method, headers: h, body: sent, redirect: 'manual' });
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

    /* A media type listed with parameters must be answered with exactly
     * those; one listed without them is matched by its type alone. */
    const full = (res.headers.get('content-type') || '').trim();
    const ctype = full.split(';')[0].trim();
    let parsed = null;
    if (!r.content) {
      assert.equal(raw.length, 0, what + ': a body where the document lists none');
    } else {
      const media = r.content[full] || r.content[ctype];
      assert.ok(media, what + ': Content-Type ' + full + ' not listed (' + Object.keys(r.content).join(', ') + ')');
      if (ctype === 'application/json') {
        parsed = JSON.parse(raw.toString('utf8'));
        this.assertMatches(media.schema, parsed, what);
      } else if (ctype === 'application/jsonl') {
        /* JSON lines, each ended by LF, checked as the array they make */
        const text = raw.toString('utf8');
        assert.ok(text === '' || text.endsWith('\n'), what + ': the last JSON line is not ended');
        parsed = text === '' ? [] : text.slice(0, -1).split('\n').map((line) => JSON.parse(line));
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
    /* A request the daemon took must be one the document allows; one it
     * refused for what the document can say must be outside it. */
    const problems = this.queryProblems(this.doc.paths[tpl], op, target);
    if (json !== undefined && op.requestBody) {
      const v = this.validator(op.requestBody.content['application/json'].schema);
      if (!v(json)) problems.push('request body: ' + this.ajv.errorsText(v.errors));
    }
    if (outside) {
      assert.ok(res.status >= 400, what + ': a request marked outside the document was taken');
      assert.ok(problems.length > 0, what + ': the document allows this request the daemon refuses');
    } else if (res.status < 300) {
      assert.deepEqual(problems, [], what + ': the daemon took a request the document does not allow');
    }
    return { status: res.status, json: parsed, raw, headers: res.headers };
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

/* Checks a refusal's error code, and its index (none: not a bulk refusal). */
function refused(answer, code, index) {
  assert.equal(answer.json.error.code, code, JSON.stringify(answer.json));
  assert.equal(answer.json.error.index, index, JSON.stringify(answer.json));
}

/* Titles, tags, who made and changed a link, reuse. */
async function labels(c, ops) {
  const guide = (await c.call('POST', '/api/v1/links', {
    json: { url: 'https://example.com/guide', code: 'guide', title: 'User guide', tags: ['docs', 'en', 'docs'] },
  })).json;
  assert.equal(guide.title, 'User guide');
  assert.deepEqual(guide.tags, ['docs', 'en']);
  assert.equal(guide.created_by, 'SHORTD_ADMIN_TOKEN');
  assert.equal(guide.updated_by, 'SHORTD_ADMIN_TOKEN');
  const plain = (await c.call('POST', '/api/v1/links', {
    json: { url: 'https://example.com/plain', code: 'plain', title: null, tags: null }, token: ops.token,
  })).json;
  assert.equal(plain.title, null);
  assert.deepEqual(plain.tags, []);
  assert.equal(plain.created_by, 'ops');
  /* the limits: 512 bytes of title, 32 tags of 64 characters (code points) */
  const wide = (await c.call('POST', '/api/v1/links', {
    json: {
      url: 'https://example.com/wide',
      code: 'wide',
      title: 't'.repeat(512),
      tags: [...Array.from({ length: 30 }, (_, i) => 'tag' + i), '\u00fc'.repeat(64), '\u{1F600}'.repeat(64), 'tag0'],
    },
  })).json;
  assert.equal(wide.tags.length, 32);
  assert.equal(wide.tags[31], '\u{1F600}'.repeat(64));
  const tooMany = Array.from({ length: 33 }, (_, i) => 'tag' + i);
  refused(await c.call('POST', '/api/v1/links', { json: { url: 'https://example.com/x', tags: tooMany } }), 'invalid_tags');
  for (const [bad, code] of [
    [{ title: 't'.repeat(513) }, 'invalid_title'],
    [{ title: 'a\u0085b' }, 'invalid_title'],
    [{ title: 7 }, 'invalid_type'],
    [{ tags: ['x'.repeat(65)] }, 'invalid_tags'],
    [{ tags: [''] }, 'invalid_tags'],
    [{ tags: ['a\u0007b'] }, 'invalid_tags'],
    [{ tags: 'docs' }, 'invalid_type'],
    [{ tags: [1] }, 'invalid_type'],
    [{ reuse: 'yes' }, 'invalid_type'],
  ]) {
    refused(await c.call('POST', '/api/v1/links', { json: { url: 'https://example.com/x', ...bad }, outside: true }), code);
    refused(await c.call('PATCH', '/api/v1/links/guide', { json: bad, outside: true }), 'reuse' in bad ? 'unknown_field' : code);
  }

  /* reuse: 200 with the identical link, 201 when none is */
  const again = await c.call('POST', '/api/v1/links', { json: { url: 'HTTPS://EXAMPLE.COM/guide', reuse: true } });
  assert.equal(again.status, 200);
  assert.equal(again.json.code, 'guide');
  assert.deepEqual(again.json.tags, ['docs', 'en']);
  const other = await c.call('POST', '/api/v1/links', { json: { url: 'https://example.com/guide', status: 301, reuse: true } });
  assert.equal(other.status, 201);
  assert.notEqual(other.json.code, 'guide');
  refused(await c.call('POST', '/api/v1/links', { json: { url: 'https://example.com/guide', code: 'guide', reuse: true } }), 'code_taken');

  /* PATCH of title and tags, by another token */
  const changed = (await c.call('PATCH', '/api/v1/links/guide', {
    json: { title: 'Guide v2', tags: ['docs', 'v2', 'docs'] }, token: ops.token,
  })).json;
  assert.equal(changed.title, 'Guide v2');
  assert.deepEqual(changed.tags, ['docs', 'v2']);
  assert.equal(changed.created_by, 'SHORTD_ADMIN_TOKEN');
  assert.equal(changed.updated_by, 'ops');
  const cleared = (await c.call('PATCH', '/api/v1/links/plain', { json: { title: null, tags: null } })).json;
  assert.equal(cleared.title, null);
  assert.deepEqual(cleared.tags, []);
  assert.equal(cleared.updated_by, 'SHORTD_ADMIN_TOKEN');
  const tagged = (await c.call('PATCH', '/api/v1/links/plain', { json: { title: 'Plain', tags: ['plain'] } })).json;
  assert.deepEqual([tagged.title, tagged.tags], ['Plain', ['plain']]);
  assert.deepEqual((await c.call('PATCH', '/api/v1/links/plain', { json: { tags: [] } })).json.tags, []);
  refused(await c.call('PATCH', '/api/v1/links/plain', { json: { tags: tooMany } }), 'invalid_tags');
}

/* An array of links: all created (201 with the array) or none. */
async function bulk(c) {
  const made = await c.call('POST', '/api/v1/links', {
    json: [
      { url: 'https://example.com/a', code: 'bulk-a', title: 'A' },
      { url: 'https://example.com/b', tags: ['bulk', 'b'] },
      { url: 'https://example.com/guide', reuse: true },
    ],
  });
  assert.equal(made.status, 201);
  assert.ok(Array.isArray(made.json));
  assert.equal(made.json.length, 3);
  assert.equal(made.json[0].code, 'bulk-a');
  assert.equal(made.json[2].code, 'guide'); /* reused, in its place */
  assert.deepEqual(made.json[1].tags, ['bulk', 'b']);
  const full = Array.from({ length: 1000 }, (_, i) => ({ url: 'https://example.com/many/' + i }));
  const many = await c.call('POST', '/api/v1/links', { json: full });
  assert.equal(many.json.length, 1000);
  assert.equal(many.json[999].url, 'https://example.com/many/999');

  /* refusals name the first link refused and create nothing */
  const post = (json, outside = false) => c.call('POST', '/api/v1/links', { json, outside });
  const first = { url: 'https://example.com/c' };
  refused(await post([first, { url: 'https://example.com/d', tags: ['a\u0007b'] }], true), 'invalid_tags', 1);
  refused(await post([first, { url: 'https://example.com/d', code: 'bulk-a' }]), 'code_taken', 1);
  const twice = [first, { url: 'https://example.com/d', code: 'dup' }, { url: 'https://example.com/e', code: 'dup' }];
  refused(await post(twice), 'code_taken', 2);
  refused(await post([{ ...first, shortcode: 'x' }], true), 'unknown_field', 0);
  refused(await post([first, 'https://example.com/'], true), 'invalid_json', 1);
  refused(await post([first, { url: 'ftp://example.com/' }]), 'invalid_url', 1);
  refused(await post([], true), 'invalid_json');
  refused(await post([...full, first], true), 'invalid_json');
  for (const url of ['https://example.com/c', 'https://example.com/d', 'https://example.com/e']) {
    assert.deepEqual((await c.call('GET', '/api/v1/links?url=' + encodeURIComponent(url))).json.items, []);
  }
}

/* Finding links by url, q and tag, with cursor paging. */
async function find(c) {
  const codes = async (query) => (await c.call('GET', '/api/v1/links?' + query)).json.items.map((l) => l.code).sort();
  const sameUrl = await codes('url=' + encodeURIComponent('HTTPS://EXAMPLE.COM/guide'));
  assert.equal(sameUrl.length, 2);
  assert.ok(sameUrl.includes('guide'));
  assert.deepEqual(await codes('q=GUIDE&tag=docs'), ['guide']);
  assert.deepEqual(await codes('tag=v2&tag=docs'), ['guide']);
  assert.deepEqual(await codes('tag=docs&tag=nope'), []);
  assert.deepEqual(await codes('q=' + encodeURIComponent('\u00fc\u00fc\u00fc')), ['wide']);
  assert.deepEqual(await codes('tag=' + encodeURIComponent('\u{1F600}'.repeat(64))), ['wide']);
  assert.equal((await codes('q=&limit=1000')).length, 1000);
  const page = (await c.call('GET', '/api/v1/links?q=guide&limit=1')).json;
  assert.equal(page.items.length, 1);
  assert.equal(typeof page.next_cursor, 'string');
  const rest = (await c.call('GET', '/api/v1/links?q=guide&limit=1&cursor=' + page.next_cursor)).json;
  assert.equal(rest.items.length, 1);
  assert.notEqual(rest.items[0].code, page.items[0].code);
  assert.equal(rest.next_cursor, null);

  /* an unknown parameter, and a filter breaking its rule */
  for (const query of ['tags=docs', 'search=guide', 'tag=', 'tag=' + 'x'.repeat(65), 'q=a%07b',
    'q=' + 'q'.repeat(513), Array.from({ length: 33 }, (_, i) => 'tag=t' + i).join('&')]) {
    refused(await c.call('GET', '/api/v1/links?' + query, { outside: true }), 'invalid_parameter');
  }
  refused(await c.call('GET', '/api/v1/links?url=' + encodeURIComponent('ftp://example.com/')), 'invalid_parameter');
  refused(await c.call('GET', '/api/v1/links?q=%ZZ'), 'invalid_parameter');
}

/* The rows of an RFC 4180 text with CRLF line ends; fails on anything
 * else (a bare quote, a quoted field not closed, a row not ended). */
function csvRows(text) {
  const rows = [];
  let row = [];
  let i = 0;
  while (i < text.length) {
    let field = '';
    if (text[i] === '"') {
      for (i++; ; i++) {
        assert.ok(i < text.length, 'CSV: a quoted field is not closed');
        if (text[i] === '"') {
          if (text[i + 1] !== '"') break;
          i++;
        }
        field += text[i];
      }
      i++;
    } else {
      for (; i < text.length && !',\r\n'.includes(text[i]); i++) {
        assert.notEqual(text[i], '"', 'CSV: a quote in an unquoted field at ' + i);
        field += text[i];
      }
    }
    row.push(field);
    if (text[i] === ',') {
      i++;
      continue;
    }
    assert.equal(text.slice(i, i + 2), '\r\n', 'CSV: a row not ended by CRLF at ' + i);
    rows.push(row);
    row = [];
    i += 2;
  }
  assert.deepEqual(row, [], 'CSV: the last row is not ended');
  return rows;
}

/* Every link, by the list's pages. */
async function allLinks(c) {
  const links = [];
  let query = 'limit=1000';
  for (;;) {
    const page = (await c.call('GET', '/api/v1/links?' + query)).json;
    links.push(...page.items);
    if (page.next_cursor === null) return links;
    query = 'limit=1000&cursor=' + page.next_cursor;
  }
}

/* The export: both formats hold every link, in creation order, as the
 * list has it plus the two counts; the CSV's header is ExportLink's
 * properties. Then its refusals, those the document cannot list (405)
 * included. */
async function exportLinks(c, viewer) {
  const EXPORT = '/api/v1/links/export';
  const { Link, ExportLink, Error: ErrorSchema } = c.doc.components.schemas;
  assert.ok(ExportLink, 'the document has no ExportLink schema');
  const columns = Object.keys(ExportLink.properties);
  assert.deepEqual(columns, [...Object.keys(Link.properties), 'bot_clicks', 'last_click_at'],
    'ExportLink is not the Link plus bot_clicks and last_click_at');
  assert.deepEqual(ExportLink.required, columns);
  assert.equal(ExportLink.additionalProperties, false);
  /* a title to quote, and a tag that makes the CSV's tags a JSON array */
  await c.call('POST', '/api/v1/links', {
    json: { url: 'https://example.com/quoted', code: 'quoted', title: 'Say "hi", then go', tags: ['a|b', 'c'] },
  });
  const links = await allLinks(c);

  const jsonl = await c.call('GET', EXPORT + '?format=jsonl');
  assert.equal(jsonl.headers.get('content-type'), 'application/jsonl');
  assert.equal(jsonl.headers.get('content-disposition'), 'attachment; filename="links.jsonl"');
  assert.deepEqual((await c.call('GET', EXPORT)).raw, jsonl.raw, 'the default format is not jsonl');
  assert.deepEqual(jsonl.json.map((l) => l.code), links.map((l) => l.code));
  jsonl.json.forEach((line, i) => {
    const { bot_clicks: bots, last_click_at: last, ...link } = line;
    assert.deepEqual(link, links[i], 'export line ' + (i + 1) + ' is not the link');
    assert.ok(last === null || bots > 0 || link.clicks > 0, 'a last click without a click: ' + JSON.stringify(line));
  });
  const docs = jsonl.json.find((l) => l.code === 'docs');
  assert.deepEqual([docs.clicks, docs.bot_clicks, typeof docs.last_click_at], [1, 0, 'string']);

  const csv = await c.call('GET', EXPORT + '?format=csv');
  assert.equal(csv.headers.get('content-type'), 'text/csv; charset=utf-8; header=present');
  assert.equal(csv.headers.get('content-disposition'), 'attachment; filename="links.csv"');
  const [header, ...rows] = csvRows(csv.raw.toString('utf8'));
  assert.deepEqual(header, columns, 'the CSV header is not the documented columns');
  assert.equal(rows.length, jsonl.json.length);
  rows.forEach((row, i) => {
    const line = jsonl.json[i];
    assert.equal(row.length, columns.length, 'CSV row ' + (i + 2));
    columns.forEach((name, k) => {
      const v = line[name];
      const what = 'CSV row ' + (i + 2) + ' ' + name;
      if (name === 'tags' && v.some((t) => t.includes('|') || t.startsWith('['))) {
        assert.deepEqual(JSON.parse(row[k]), v, what);
      } else {
        assert.equal(row[k], v === null ? '' : Array.isArray(v) ? v.join('|') : String(v), what);
      }
    });
  });
  assert.equal(rows.find((r) => r[0] === 'quoted')[columns.indexOf('title')], 'Say "hi", then go');

  const head = await fetch(base + EXPORT + '?format=csv', { method: 'HEAD', headers: { Authorization: 'Bearer ' + admin } });
  assert.equal(head.status, 200);
  assert.equal(head.headers.get('content-type'), 'text/csv; charset=utf-8; header=present');
  assert.equal((await head.arrayBuffer()).byteLength, 0);

  /* refusals, in the order of the checks */
  const wrong = crypto.randomBytes(32).toString('base64url');
  refused(await c.call('GET', EXPORT, { token: null }), 'unauthorized');
  refused(await c.call('GET', EXPORT + '?format=csv', { token: wrong }), 'unauthorized');
  refused(await c.call('GET', EXPORT + '?format=csv', { token: viewer.token }), 'forbidden');
  refused(await c.call('GET', EXPORT + '?format=xml', { token: viewer.token }), 'forbidden');
  for (const query of ['format=xml', 'format=CSV', 'format=', 'format=%ZZ']) {
    refused(await c.call('GET', EXPORT + '?' + query, { outside: true }), 'invalid_format');
  }
  for (const query of ['fmt=csv', 'format=csv&limit=3', 'limit=1000']) {
    refused(await c.call('GET', EXPORT + '?' + query, { outside: true }), 'invalid_parameter');
  }
  /* 405 with Allow for a method the document does not list for the path */
  const item = c.doc.paths[EXPORT];
  const allow = METHODS.filter((m) => item[m]).flatMap((m) => (m === 'get' ? ['GET', 'HEAD'] : [m.toUpperCase()]));
  const others = [['POST', admin], ['PUT', admin], ['POST', viewer.token]];
  for (const [method, token] of others) {
    assert.equal(item[method.toLowerCase()], undefined);
    const res = await fetch(base + EXPORT, { method, headers: { Authorization: 'Bearer ' + token } });
    const what = method + ' ' + EXPORT + ' -> ' + res.status;
    assert.equal(res.status, 405, what);
    assert.deepEqual((res.headers.get('allow') || '').split(', ').sort(), [...allow].sort(), what + ': Allow');
    const body = await res.json();
    c.assertMatches(ErrorSchema, body, what);
    assert.equal(body.error.code, 'method_not_allowed', what);
  }
  /* PATCH and DELETE there are the link named export's (updateLink,
   * deleteLink): no such link here, so 404, and 403 for a read-only token */
  for (const [method, token, status, code] of [['PATCH', admin, 404, 'not_found'], ['DELETE', admin, 404, 'not_found'],
    ['DELETE', viewer.token, 403, 'forbidden']]) {
    const res = await fetch(base + EXPORT, {
      method, headers: { Authorization: 'Bearer ' + token, 'Content-Type': 'application/json' },
      body: method === 'PATCH' ? '{"title":"x"}' : undefined,
    });
    const what = method + ' ' + EXPORT + ' -> ' + res.status;
    assert.equal(res.status, status, what);
    const body = await res.json();
    c.assertMatches(ErrorSchema, body, what);
    assert.equal(body.error.code, code, what);
  }
}

async function walk(c) {
  /* bodies one byte over the limit, and exactly at it */
  const padded = (text, size) => text.slice(0, -1) + ' '.repeat(size - Buffer.byteLength(text)) + '}';
  const big = padded('{"url":"https://example.com/"}', API_BODY_MAX + 1);
  const atLimit = padded('{"url":"https://example.com/limit"}', API_BODY_MAX);

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
  assert.equal((await c.call('POST', '/api/v1/tokens', { body: big })).status, 413);
  await c.call('GET', '/api/v1/tokens?role=read');
  await c.call('GET', '/api/v1/tokens', { token: viewer.token });
  await c.call('GET', '/api/v1/tokens', { token: null });
  await c.call('DELETE', '/api/v1/tokens/' + encodeURIComponent(viewer.name), { token: viewer.token });
  await c.call('DELETE', '/api/v1/tokens/nobody');
  await c.call('DELETE', '/api/v1/tokens/' + viewer.id);
  const odd = (await c.call('POST', '/api/v1/tokens', { json: { name: 'ci/deploy%1?#', role: 'read' } })).json;
  assert.equal((await c.call('DELETE', '/api/v1/tokens/' + encodeURIComponent(odd.name))).status, 204);

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
  assert.equal((await c.call('POST', '/api/v1/links', { body: big })).status, 413);
  assert.equal((await c.call('POST', '/api/v1/links', { body: atLimit })).status, 201);
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
  assert.equal((await c.call('PATCH', '/api/v1/links/docs', { body: big })).status, 413);

  await labels(c, ops);
  await bulk(c);
  await find(c);

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
  await exportLinks(c, viewer);

  /* a body over the limit is 413 on every operation, even one that takes none */
  for (const [method, target] of [['GET', '/api/v1/links'], ['GET', '/api/v1/links/docs'], ['GET', '/api/v1/links/docs/stats'],
    ['GET', '/api/v1/links/docs/qr'], ['GET', '/api/v1/links/export'], ['GET', '/api/v1/tokens'],
    ['DELETE', '/api/v1/links/docs'], ['DELETE', '/api/v1/tokens/' + encodeURIComponent(viewer.name)]]) {
    refused(await c.call(method, target, { body: big }), 'payload_too_large');
  }

  /* deletes last */
  await c.call('DELETE', '/api/v1/links/docs', { token: viewer.token });
  await c.call('DELETE', '/api/v1/links/docs', { token: ops.token });
  await c.call('DELETE', '/api/v1/links/docs');
  await c.call('DELETE', '/api/v1/tokens/' + encodeURIComponent(viewer.name));
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
      for (const s of Object.keys(item[m].responses).filter((code) => code.startsWith('2'))) {
        if (!c.seen.has(m.toUpperCase() + ' ' + tpl + ' ' + s)) missing.push(m.toUpperCase() + ' ' + tpl + ' ' + s);
      }
    }
  }
  assert.deepEqual(missing, [], 'success statuses never answered: ' + missing.join(', '));
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
