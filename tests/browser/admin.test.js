/*
 * The admin page in a real browser: Debian's chromium (/usr/bin/chromium,
 * or $CHROMIUM) driven by playwright-core, against the real daemon on
 * 127.0.0.1:0 with a fresh database. Nothing here downloads a browser.
 *
 * Each step asserts what the page shows and what the store holds, and saves
 * a screenshot under build/browser/ (desktop 1280 px and phone 360 px).
 * Last, doc/admin-page.png (the README's) is taken of the page showing fixed
 * data (answers from the API with fixed times, sho.rt for a base URL, in
 * UTC), so it changes only when the page's look does.
 * QR codes (the API's PNG and SVG, the CLI's PNG and SVG) are decoded with
 * zbarimg back to the exact short URL; an SVG is rasterised by chromium
 * first. Exits non-zero on the first failure.
 *
 *   node tests/browser/admin.test.js [SHORTD_BIN]
 */
'use strict';

const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { chromium } = require('playwright-core');
const shortdDaemon = require('../support/daemon.js');

const ROOT = path.resolve(__dirname, '..', '..');
const BIN = path.resolve(process.argv[2] || process.env.SHORTD_BIN || path.join(ROOT, 'build', 'shortd'));
const SHOTS = path.join(ROOT, 'build', 'browser');
const DOC_SHOT = path.join(ROOT, 'doc', 'admin-page.png');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 360, height: 780 };
/* A browser's agent without "Headless", so clicks count as human ones. */
const HUMAN_UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36';
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'shortd-browser-'));
const db = path.join(tmp, 'shortd.db');
const adminToken = crypto.randomBytes(24).toString('base64url');
let daemon = null;
let target = null;
let browser = null;
let step = 'setup';

function log(msg) {
  process.stdout.write('browser: ' + msg + '\n');
}

function cli(...args) {
  return execFileSync(BIN, args, { env: { ...process.env, SHORTD_DB: db }, stdio: ['ignore', 'pipe', 'pipe'] });
}

/* Starts serve on 127.0.0.1:0 and resolves with its base URL. */
function startDaemon() {
  const started = shortdDaemon.start(BIN, db, { SHORTD_ADMIN_TOKEN: adminToken });
  daemon = started.child;
  return started.base;
}

/* The links' target: a page that says where it was reached. */
function startTarget() {
  return new Promise((resolve) => {
    target = http.createServer((req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end('<!DOCTYPE html><title>target</title><h1 id="landed">landed</h1>');
    });
    target.listen(0, '127.0.0.1', () => resolve('http://127.0.0.1:' + target.address().port));
  });
}

async function apiCall(base, token, method, p, body) {
  const res = await fetch(base + p, {
    method,
    headers: { Authorization: 'Bearer ' + token, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text && res.headers.get('content-type') === 'application/json' ? JSON.parse(text) : null };
}

function zbar(file) {
  return execFileSync('zbarimg', ['--quiet', '--raw', file], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
}

/* A page that fails the test on any script error, console error (a CSP
 * violation is one), dialog, or a request to another origin. */
async function newPage(base, viewport) {
  const context = await browser.newContext({ viewport, userAgent: HUMAN_UA });
  const page = await context.newPage();
  page.problems = [];
  page.on('pageerror', (e) => page.problems.push('page error: ' + e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of 4\d\d/.test(m.text()))
      page.problems.push('console: ' + m.text());
  });
  page.on('dialog', (d) => {
    page.problems.push('dialog: ' + d.message());
    d.dismiss();
  });
  page.on('request', (r) => {
    const u = r.url();
    if (!u.startsWith(base) && !u.startsWith('data:') && !u.startsWith('http://127.0.0.1:'))
      page.problems.push('request to another origin: ' + u);
  });
  return page;
}

function noProblems(page) {
  assert.deepEqual(page.problems, [], 'the page ran into problems');
}

/* The whole page, and on a phone also the first screenful, as one sees it. */
async function shot(page, name) {
  await page.screenshot({ path: path.join(SHOTS, name + '.png'), fullPage: true });
  if (page.viewportSize().width <= PHONE.width)
    await page.screenshot({ path: path.join(SHOTS, name + '-screen.png') });
}

async function signIn(page, base, token) {
  await page.goto(base + '/admin');
  await page.locator('input[name="token"]').fill(token);
  await page.locator('#signin-form button[type="submit"]').click();
  await page.locator('#app').waitFor({ state: 'visible' });
  await page.locator('#page-label').filter({ hasText: 'Page' }).waitFor();
}

async function rowOf(page, code) {
  return page.locator(`#rows tr[data-code="${code}"]`);
}

async function fitsWidth(page, width) {
  const w = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(w <= width, `the page is ${w} px wide at a ${width} px viewport`);
}

async function main() {
  fs.mkdirSync(SHOTS, { recursive: true });
  const targetBase = await startTarget();
  const base = await startDaemon();
  log('shortd at ' + base + ', target at ' + targetBase);
  const viewer = cli('token', 'create', '--name', 'viewer', '--read-only').toString().trim();
  const doomed = cli('token', 'create', '--name', 'doomed').toString().trim();
  const searchable = (await apiCall(base, adminToken, 'GET', '/api/v1/links?q=no-link-has-this-text')).status === 200 &&
    (await apiCall(base, adminToken, 'POST', '/api/v1/links', { url: targetBase + '/probe', code: 'zz-probe' })).status === 201 &&
    (await apiCall(base, adminToken, 'GET', '/api/v1/links?q=no-link-has-this-text')).json.items.length === 0;
  await apiCall(base, adminToken, 'DELETE', '/api/v1/links/zz-probe');
  assert.ok(searchable, 'the API filters by q');

  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    /* CI runs as root, where chromium's sandbox cannot start. */
    args: ['--disable-dev-shm-usage'].concat(process.getuid && process.getuid() === 0 ? ['--no-sandbox'] : []),
  });

  step = 'the page and its headers';
  const page = await newPage(base, DESKTOP);
  const res = await page.goto(base + '/admin');
  assert.equal(res.status(), 200);
  const h = res.headers();
  assert.equal(h['content-security-policy'], CSP);
  assert.equal(h['x-frame-options'], 'DENY');
  assert.equal(h['referrer-policy'], 'no-referrer');
  assert.equal(h['x-content-type-options'], 'nosniff');
  for (const asset of ['/admin/admin.js', '/admin/admin.css']) {
    const a = await page.request.get(base + asset);
    assert.equal(a.status(), 200, asset);
    assert.equal(a.headers()['content-security-policy'], CSP, asset);
  }
  assert.equal(await page.locator('script:not([src])').count(), 0, 'no inline script');
  await page.locator('#signin').waitFor({ state: 'visible' });
  await shot(page, '01-signin');

  step = 'sign in with the keyboard';
  for (let i = 0; i < 10 && (await page.evaluate(() => document.activeElement.name)) !== 'token'; i++)
    await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.name), 'token');
  await page.keyboard.type('not-a-token');
  await page.keyboard.press('Enter');
  await page.locator('#token-error').filter({ hasText: 'refused' }).waitFor();
  await shot(page, '02-signin-refused');
  await page.keyboard.type(adminToken);
  await page.keyboard.press('Enter');
  await page.locator('#app').waitFor({ state: 'visible' });
  assert.equal(await page.locator('#role').textContent(), 'admin');
  assert.equal(await page.evaluate(() => document.cookie), '', 'no cookie');
  assert.equal(new URL(page.url()).search, '', 'no token in the URL');
  assert.equal(await page.evaluate(() => sessionStorage.getItem('shortd.token')), adminToken);
  await shot(page, '03-empty');

  step = 'create through the form, errors next to their fields';
  const form = page.locator('#create-form');
  assert.equal(await page.locator('#create').getAttribute('open'), '', 'open while there are no links');
  for (const name of ['url', 'code', 'status', 'expires_at', 'max_clicks', 'forward_query'])
    assert.equal(await form.locator(`[name="${name}"]`).count(), 1, 'the create form has ' + name);
  await form.locator('[name="url"]').fill('ftp://example.com/file');
  await form.locator('[name="code"]').fill('docs');
  await form.locator('button[type="submit"]').click();
  const urlError = form.locator('.error[data-for="url"]');
  await urlError.filter({ hasText: /./ }).waitFor();
  const apiSays = (await apiCall(base, adminToken, 'POST', '/api/v1/links', { url: 'ftp://example.com/file' })).json.error.message;
  assert.equal(await urlError.textContent(), apiSays, 'the API\'s own words, next to the url field');
  assert.equal(await form.locator('[name="url"]').getAttribute('aria-invalid'), 'true');
  await shot(page, '04-create-error');

  await form.locator('[name="url"]').fill(targetBase + '/docs');
  await form.locator('[name="status"]').selectOption('302');
  assert.match(await form.locator('[data-status-help]').textContent(), /every click/);
  await form.locator('[name="expires_at"]').fill('2099-12-31T12:00');
  await form.locator('[name="max_clicks"]').fill('1000');
  await form.locator('[name="forward_query"]').check();
  await form.locator('button[type="submit"]').click();
  await page.locator('#flash').filter({ hasText: 'Created' }).waitFor();
  const created = (await apiCall(base, adminToken, 'GET', '/api/v1/links/docs')).json;
  assert.equal(created.url, targetBase + '/docs');
  assert.equal(created.status, 302);
  assert.equal(created.max_clicks, 1000);
  assert.equal(created.forward_query, true);
  assert.equal(new Date(created.expires_at).getTime(), new Date('2099-12-31T12:00').getTime());
  assert.equal(await (await rowOf(page, 'docs')).count(), 1);

  await form.locator('[name="url"]').fill(targetBase + '/other');
  await form.locator('[name="code"]').fill('docs');
  await form.locator('button[type="submit"]').click();
  await form.locator('.error[data-for="code"]').filter({ hasText: /./ }).waitFor();
  assert.equal(await form.locator('[name="code"]').getAttribute('aria-invalid'), 'true');
  await form.locator('[name="code"]').fill('');
  await form.locator('[name="url"]').fill('');

  step = 'paging';
  for (let i = 0; i < 30; i++) {
    const r = await apiCall(base, adminToken, 'POST', '/api/v1/links',
      { url: `${targetBase}/page/${i}`, code: 'p' + String(i).padStart(2, '0') });
    assert.equal(r.status, 201);
  }
  await page.locator('#search-form button[type="submit"]').click();
  await page.locator('#rows tr[data-code="p00"]').waitFor();
  assert.equal(await page.locator('#rows tr').count(), 25);
  assert.equal(await page.locator('#next-page').isDisabled(), false);
  await page.locator('#next-page').click();
  await page.locator('#page-label').filter({ hasText: 'Page 2' }).waitFor();
  assert.equal(await page.locator('#rows tr').count(), 6);
  assert.equal(await page.locator('#next-page').isDisabled(), true);
  assert.equal(await page.locator('#rows tr[data-code="p29"]').count(), 1);
  await page.locator('#first-page').click();
  await page.locator('#page-label').filter({ hasText: 'Page 1' }).waitFor();

  step = 'search';
  const search = page.locator('#search-form');
  const asked = page.waitForRequest((r) => r.url().includes('/api/v1/links?') && new URL(r.url()).searchParams.get('q') === 'docs');
  await search.locator('[name="q"]').fill('docs');
  await search.locator('button[type="submit"]').click();
  const sent = new URL((await asked).url());
  assert.equal(sent.searchParams.get('q'), 'docs');
  assert.equal(sent.searchParams.get('url'), null, 'empty filters are not sent');
  /* The docs row is on the first page already: wait for the table the
   * answer draws (one row), not for that row. */
  await page.waitForFunction(() => document.querySelectorAll('#rows tr').length === 1, null, { timeout: 10000 })
    .catch(() => assert.fail('the search did not leave only the link found'));
  assert.equal(await page.locator('#rows tr[data-code="docs"]').count(), 1, 'only the link found');
  await shot(page, '05-search');
  await search.locator('[name="q"]').fill('');

  /* The tag and url filters, and a title shown as text in the row found. */
  const tagged = await apiCall(base, adminToken, 'POST', '/api/v1/links',
    { url: targetBase + '/tagged', code: 'tagged', title: 'Tagged <i>link</i>', tags: ['blue', 'team'] });
  assert.equal(tagged.status, 201);
  await search.locator('summary').click();
  await search.locator('[name="tag"]').fill('blue');
  await search.locator('button[type="submit"]').click();
  await page.locator('#rows tr[data-code="tagged"]').waitFor();
  assert.equal(await page.locator('#rows tr').count(), 1, 'only the tagged link');
  assert.equal(await (await rowOf(page, 'tagged')).locator('.row-title').textContent(), 'Tagged <i>link</i>');
  await search.locator('[name="tag"]').fill('');
  await search.locator('[name="url"]').fill(targetBase + '/tagged');
  await search.locator('button[type="submit"]').click();
  await page.locator('#rows tr[data-code="tagged"]').waitFor();
  assert.equal(await page.locator('#rows tr').count(), 1, 'only the link of that target');
  await search.locator('[name="url"]').fill('');
  await search.locator('[name="q"]').fill('nothing-is-called-this');
  await search.locator('button[type="submit"]').click();
  /* The table showed the tagged link: wait for the answer's table, in
   * which no link is found. */
  await page.waitForFunction(() => document.querySelectorAll('#rows tr[data-code]').length === 0, null,
    { timeout: 10000 }).catch(() => assert.fail('a search for nothing still lists links'));
  assert.equal(await page.locator('#rows tr[data-code]').count(), 0, 'nothing found');
  assert.equal((await apiCall(base, adminToken, 'DELETE', '/api/v1/links/tagged')).status, 204);
  await search.locator('[name="q"]').fill('');
  await search.locator('button[type="submit"]').click();

  step = 'edit';
  await (await rowOf(page, 'docs')).locator('[data-open]').click();
  await page.locator('#detail').waitFor({ state: 'visible' });
  const edit = page.locator('#edit-form');
  assert.equal(await edit.locator('[name="url"]').inputValue(), targetBase + '/docs');
  await edit.locator('[name="url"]').fill(targetBase + '/docs/v2');
  await edit.locator('[name="status"]').selectOption('307');
  await edit.locator('[name="max_clicks"]').fill('');
  await edit.locator('button[type="submit"]').click();
  await page.locator('#flash').filter({ hasText: 'Saved docs' }).waitFor();
  let link = (await apiCall(base, adminToken, 'GET', '/api/v1/links/docs')).json;
  assert.equal(link.url, targetBase + '/docs/v2');
  assert.equal(link.status, 307);
  assert.equal(link.max_clicks, null);
  assert.equal(await (await rowOf(page, 'docs')).locator('.url').textContent(), targetBase + '/docs/v2');

  step = 'disable and enable';
  await page.locator('#d-toggle').click();
  await page.locator('#flash').filter({ hasText: 'Disabled docs' }).waitFor();
  assert.equal(await (await rowOf(page, 'docs')).locator('.state').textContent(), 'disabled');
  const away = await newPage(base, DESKTOP);
  assert.equal((await away.goto(base + '/docs')).status(), 410);
  await shot(page, '06-disabled');
  await page.locator('#d-toggle').click();
  await page.locator('#flash').filter({ hasText: 'Enabled docs' }).waitFor();
  assert.equal(await (await rowOf(page, 'docs')).locator('.state').textContent(), 'active');

  step = 'follow it in the browser, see the click';
  await away.goto(base + '/docs?from=browser', { referer: 'https://news.example.org/item?id=1' });
  assert.equal(away.url(), targetBase + '/docs/v2?from=browser');
  assert.equal(await away.locator('#landed').textContent(), 'landed');
  const bot = await fetch(base + '/docs', { redirect: 'manual', headers: { 'User-Agent': 'Googlebot/2.1' } });
  assert.equal(bot.status, 307);
  await page.locator('[data-days="90"]').click();
  await page.locator('[data-days="30"]').click();
  // The 90-day answer may come first and show the same counts: wait for
  // the 30-day chart itself.
  await page.waitForFunction(() => document.querySelectorAll('#d-chart g.day').length === 30);
  await page.locator('#d-clicks').filter({ hasText: '1' }).waitFor();
  assert.equal(await page.locator('#d-bots').textContent(), '1');
  assert.notEqual(await page.locator('#d-last').textContent(), 'never');
  assert.match(await page.locator('#d-refs').textContent(), /news\.example\.org/);
  const today = await page.locator('#d-chart g.day').last();
  assert.equal(await today.getAttribute('data-human'), '1');
  assert.equal(await today.getAttribute('data-bot'), '1');
  assert.equal(await today.locator('rect.human').count(), 1);
  assert.equal(await today.locator('rect.bot').count(), 1);
  assert.equal(await page.locator('#d-chart g.day').count(), 30);

  step = 'QR code shown, downloadable, decoded';
  const qr = page.locator('#d-qr');
  await page.waitForFunction(() => document.getElementById('d-qr').src.startsWith('data:image/svg+xml'));
  await page.waitForFunction(() => document.getElementById('d-qr').complete);
  await qr.screenshot({ path: path.join(SHOTS, 'qr-shown.png') });
  assert.equal(zbar(path.join(SHOTS, 'qr-shown.png')), base + '/docs', 'the QR shown (SVG)');
  const pngHref = await page.locator('#d-qr-png').getAttribute('href');
  assert.equal(await page.locator('#d-qr-png').getAttribute('download'), 'docs.png');
  assert.match(pngHref, /^data:image\/png;base64,/);
  fs.writeFileSync(path.join(SHOTS, 'qr-download.png'), Buffer.from(pngHref.split(',')[1], 'base64'));
  assert.equal(zbar(path.join(SHOTS, 'qr-download.png')), base + '/docs', 'the QR downloaded (PNG)');
  await page.evaluate(() => window.scrollTo(0, 0));
  await shot(page, '07-link');
  await page.setViewportSize(PHONE);
  await fitsWidth(page, PHONE.width);
  await shot(page, '08-link-phone');
  await page.setViewportSize(DESKTOP);

  step = 'QR codes from the API and the CLI';
  const apiPng = await fetch(base + '/api/v1/links/docs/qr?format=png&size=4&margin=2', { headers: { Authorization: 'Bearer ' + viewer } });
  assert.equal(apiPng.status, 200, 'a read-only token may read QR codes');
  assert.equal(apiPng.headers.get('content-type'), 'image/png');
  fs.writeFileSync(path.join(SHOTS, 'qr-api.png'), Buffer.from(await apiPng.arrayBuffer()));
  assert.equal(zbar(path.join(SHOTS, 'qr-api.png')), base + '/docs');
  const cliPng = cli('qr', 'docs', '--format', 'png', '--base-url', base);
  fs.writeFileSync(path.join(SHOTS, 'qr-cli.png'), cliPng);
  assert.equal(zbar(path.join(SHOTS, 'qr-cli.png')), base + '/docs');
  const cliSvg = cli('qr', 'docs', '--format', 'svg', '--base-url', base).toString();
  const svgPage = await newPage(base, DESKTOP);
  await svgPage.setContent(cliSvg);
  await svgPage.locator('svg').screenshot({ path: path.join(SHOTS, 'qr-cli-svg.png') });
  assert.equal(zbar(path.join(SHOTS, 'qr-cli-svg.png')), base + '/docs', 'the CLI\'s SVG');
  await svgPage.context().close();

  step = 'delete with a confirmation';
  await page.locator('#d-delete').click();
  await page.locator('#confirm').waitFor({ state: 'visible' });
  assert.equal(await page.locator('#confirm-code').textContent(), 'docs');
  await shot(page, '09-confirm-delete');
  await page.keyboard.press('Escape');
  await page.locator('#confirm').waitFor({ state: 'hidden' });
  assert.equal((await apiCall(base, adminToken, 'GET', '/api/v1/links/docs')).status, 200, 'Escape keeps the link');
  await page.locator('#d-delete').click();
  await page.locator('#confirm-delete').click();
  await page.locator('#flash').filter({ hasText: 'Deleted docs' }).waitFor();
  assert.equal((await apiCall(base, adminToken, 'GET', '/api/v1/links/docs')).status, 404);
  assert.equal(await (await rowOf(page, 'docs')).count(), 0);
  assert.equal(await page.locator('#detail').isVisible(), false);
  noProblems(page);
  noProblems(away);

  step = 'hostile values are text';
  const hostileTitle = '<script>window.__pwned = 1</script>';
  const hostileUrl = 'https://x.example/"><img src=x onerror="window.__pwned=2">';
  for (const url of ['https://x.example/"><img/src=x/onerror=window.__pwned=2>', 'https://x.example/<script>window.__pwned=3</script>'])
    assert.equal((await apiCall(base, adminToken, 'POST', '/api/v1/links', { url })).status, 201);
  const titled = await apiCall(base, adminToken, 'POST', '/api/v1/links', { url: targetBase + '/t', code: 'titled', title: hostileTitle });
  /* Whatever the API holds, the page must show it as text: the list is also
   * served to the page with the hostile values verbatim. */
  await page.route(base + '/api/v1/links?*', async (route) => {
    const r = await route.fetch();
    const body = await r.json();
    body.items.push({
      code: 'evil', short_url: base + '/evil', url: hostileUrl, title: hostileTitle, status: 302,
      forward_query: false, created_at: '2026-01-01T00:00:00Z', updated_at: '2026-01-01T00:00:00Z',
      expires_at: '"><img src=x onerror="window.__pwned=4">', max_clicks: null, clicks: 0, disabled: false,
      tags: ['<b onmouseover=window.__pwned=6>x</b>'],
    });
    await route.fulfill({ response: r, json: body });
  });
  await page.locator('#search-form button[type="submit"]').click();
  await page.locator('#page-label').filter({ hasText: 'Page 1' }).waitFor();
  await page.locator('#next-page').click();
  const evil = await rowOf(page, 'evil');
  await evil.waitFor();
  assert.equal(await evil.locator('.row-title').textContent(), hostileTitle);
  assert.equal(await evil.locator('.url').textContent(), hostileUrl);
  assert.equal(await evil.locator('.c-expires').textContent(), '"><img src=x onerror="window.__pwned=4">');
  assert.equal(await evil.locator('.tag').textContent(), '<b onmouseover=window.__pwned=6>x</b>');
  assert.equal(titled.status, 201);
  assert.equal(await (await rowOf(page, 'titled')).locator('.row-title').textContent(), hostileTitle);
  await form.locator('[name="url"]').fill(targetBase + '/x');
  await form.locator('[name="code"]').fill('<img src=x onerror="window.__pwned=5">');
  await form.locator('button[type="submit"]').click();
  await form.locator('.error[data-for="code"]').filter({ hasText: /./ }).waitFor();
  await page.waitForTimeout(300);
  assert.equal(await page.evaluate(() => window.__pwned), undefined, 'no hostile value ran');
  assert.equal(await page.locator('#rows img, #rows script, .error img').count(), 0);
  await shot(page, '10-hostile');
  await page.unroute(base + '/api/v1/links?*');
  noProblems(page);

  step = 'a read-only token sees no write controls';
  const ro = await newPage(base, DESKTOP);
  await signIn(ro, base, viewer);
  assert.equal(await ro.locator('#role').textContent(), 'read-only');
  await ro.locator('#rows tr').first().waitFor();
  assert.equal(await ro.locator('#create').isVisible(), false);
  assert.equal(await ro.locator('button[type="submit"]:visible').count(), 1, 'only the search form submits');
  assert.equal(await ro.locator('#search-form button[type="submit"]').isVisible(), true);
  await ro.locator('#rows tr').first().locator('[data-open]').click();
  await ro.locator('#detail').waitFor({ state: 'visible' });
  for (const sel of ['#edit-form', '#d-toggle', '#d-delete'])
    assert.equal(await ro.locator(sel).isVisible(), false, sel + ' is hidden');
  await ro.waitForFunction(() => document.getElementById('d-qr').src.startsWith('data:'));
  await shot(ro, '11-read-only');
  await ro.setViewportSize(PHONE);
  await fitsWidth(ro, PHONE.width);
  await shot(ro, '12-read-only-phone');
  noProblems(ro);

  step = 'a revoked token goes back to sign-in';
  const gone = await newPage(base, PHONE);
  await signIn(gone, base, doomed);
  await fitsWidth(gone, PHONE.width);
  await shot(gone, '13-list-phone');
  cli('token', 'revoke', 'doomed');
  await gone.locator('#next-page').click();
  await gone.locator('#signin').waitFor({ state: 'visible' });
  assert.match(await gone.locator('#token-error').textContent(), /revoked/);
  assert.equal(await gone.evaluate(() => sessionStorage.getItem('shortd.token')), null);
  await shot(gone, '14-revoked-phone');
  noProblems(gone);
  step = 'the README\'s screenshot';
  await docScreenshot(base);
  log('all steps passed; screenshots in ' + path.relative(ROOT, SHOTS) + ', ' + path.relative(ROOT, DOC_SHOT));
}

/* Fixed data for doc/admin-page.png: the links list, one link, its stats
 * and QR code (drawn by `shortd qr` for https://sho.rt/launch). */
function demoLink(code, url, extra) {
  return Object.assign({
    code, short_url: 'https://sho.rt/' + code, url, status: 302, forward_query: false,
    created_at: '2026-10-01T09:00:00Z', updated_at: '2026-10-01T09:00:00Z', expires_at: null, max_clicks: null,
    clicks: 0, disabled: false,
  }, extra);
}

async function docScreenshot(base) {
  const links = [
    demoLink('launch', 'https://example.com/blog/2026/launch-announcement', { clicks: 1342, status: 301 }),
    demoLink('docs', 'https://docs.example.com/getting-started', { clicks: 877 }),
    demoLink('webinar', 'https://events.example.com/webinar/q4', { clicks: 96, expires_at: '2030-12-15T17:00:00Z' }),
    demoLink('api-v2', 'https://api.example.com/v2/', { clicks: 12, status: 308, forward_query: true }),
    demoLink('beta', 'https://example.com/beta-signup', { clicks: 250, max_clicks: 250 }),
    demoLink('old-pricing', 'https://example.com/pricing-2025', { clicks: 41, disabled: true }),
  ];
  const launch = links[0];
  const daily = [];
  for (let i = 0; i < 30; i++) {
    const date = new Date(Date.UTC(2026, 9, 30 + i)).toISOString().slice(0, 10);
    const clicks = Math.round(22 + 18 * Math.sin(i / 3.2) + (i % 7 === 5 ? 25 : 0) + i * 0.9);
    daily.push({ date, clicks, bot_clicks: 3 + (i * 7) % 5 });
  }
  const stats = {
    code: 'launch', clicks: 1342, bot_clicks: 153, last_click_at: '2026-11-28T09:41:00Z', days: 30, daily,
    referrers: [
      { host: 'news.ycombinator.com', clicks: 512 }, { host: 'www.linkedin.com', clicks: 233 },
      { host: 'mail.example.com', clicks: 97 }, { host: 'www.reddit.com', clicks: 64 },
    ],
  };
  assert.equal((await apiCall(base, adminToken, 'POST', '/api/v1/links', { url: launch.url, code: 'launch' })).status, 201);
  const svg = cli('qr', 'launch', '--base-url', 'https://sho.rt');
  const context = await browser.newContext({ viewport: DESKTOP, timezoneId: 'UTC', locale: 'en-US', userAgent: HUMAN_UA });
  const page = await context.newPage();
  await page.route(base + '/api/v1/links?*', (r) => r.fulfill({ json: { items: links, next_cursor: null } }));
  await page.route(base + '/api/v1/links/launch', (r) => r.fulfill({ json: launch }));
  await page.route(base + '/api/v1/links/launch/stats?*', (r) => r.fulfill({ json: stats }));
  await page.route(base + '/api/v1/links/launch/qr?*', (r) => r.fulfill({ contentType: 'image/svg+xml', body: svg }));
  await signIn(page, base, adminToken);
  await page.locator('#rows tr[data-code="launch"] [data-open]').click();
  await page.locator('#d-refs li').first().waitFor();
  await page.waitForFunction(() => document.getElementById('d-qr').complete &&
    document.getElementById('d-qr').src.startsWith('data:'));
  await page.evaluate(() => document.activeElement.blur());
  await page.screenshot({ path: DOC_SHOT, fullPage: true });
  await context.close();
}

async function stop() {
  if (browser)
    await browser.close();
  if (target)
    target.close();
  if (daemon && daemon.exitCode === null) {
    daemon.removeAllListeners('exit');
    const exited = new Promise((resolve) => daemon.on('exit', resolve));
    daemon.kill('SIGTERM');
    const code = await exited;
    assert.equal(code, 0, 'shortd exits 0 on SIGTERM');
  }
  fs.rmSync(tmp, { recursive: true, force: true });
}

main().then(stop).then(() => process.exit(0), async (e) => {
  process.stderr.write(`browser: FAILED at "${step}": ${e.stack || e}\n`);
  try {
    await stop();
  } catch (ignored) {
    /* the first failure is the one reported */
  }
  process.exit(1);
});
