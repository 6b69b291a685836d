/*
 * shortd's admin page. It speaks only the public JSON API (/api/v1) with the
 * token the user signs in with, so it can do nothing the API cannot.
 *
 * Rules this file keeps:
 * - The token lives in sessionStorage only (gone when the tab closes); it is
 *   sent in the Authorization header, never in a URL, a cookie or a log.
 * - Every value from the API reaches the DOM as text (textContent, or an
 *   attribute that is not a URL or handler); links get an href only when it
 *   is an http(s) URL. No innerHTML anywhere.
 * - Any 401 sends the user back to sign-in: the token was revoked or is wrong.
 */
'use strict';

(function () {
  const TOKEN_KEY = 'shortd.token';
  const PAGE_SIZE = 25;
  /* Listing the tokens is for admin tokens only: the API answers 200 to an
   * admin token and 403 to a read-only one, which is how the page learns the
   * token's role. It only reads. */
  const ROLE_CHECK = '/api/v1/tokens';

  const STATUS_HELP = {
    '': 'The daemon\'s --default-status applies.',
    '301': 'Permanent: browsers and proxies cache it, so repeat clicks may not be counted; POST may become GET.',
    '302': 'Temporary: every click reaches shortd and is counted; POST may become GET. The usual choice.',
    '303': 'See other: the browser always follows with GET. For links that answer a form submission.',
    '307': 'Temporary, keeps the method and body (a POST stays a POST). For API endpoints.',
    '308': 'Permanent and keeps the method and body; cached like 301. For moved API endpoints.',
  };

  /* API error codes and the form field each concerns. */
  const ERROR_FIELD = {
    invalid_url: 'url',
    invalid_code: 'code',
    code_taken: 'code',
    invalid_status: 'status',
    invalid_expires_at: 'expires_at',
    invalid_max_clicks: 'max_clicks',
    invalid_parameter: 'search',
  };

  const state = {
    token: null,
    admin: false,
    cursor: null, /* the page shown */
    previous: [], /* cursors of the pages before it */
    next: null,
    filters: {},
    links: new Map(),
    current: null, /* the link in the detail panel */
    days: 30,
    opener: null, /* the button that opened the detail panel */
  };

  const $ = (id) => document.getElementById(id);

  class ApiError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  /* ---- DOM helpers: text only ---- */

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v !== null && v !== undefined && v !== false)
        e.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children) {
      if (c !== null && c !== undefined)
        e.append(typeof c === 'string' ? document.createTextNode(c) : c);
    }
    return e;
  }

  function isWebUrl(s) {
    return typeof s === 'string' && /^https?:\/\//i.test(s);
  }

  function setLink(a, url) {
    a.textContent = url;
    if (isWebUrl(url))
      a.href = url;
    else
      a.removeAttribute('href');
  }

  function flash(text) {
    const f = $('flash');
    f.textContent = text;
    f.classList.toggle('on', text !== '');
  }

  /* ---- the API ---- */

  async function api(method, path, body) {
    const headers = { Authorization: 'Bearer ' + state.token, Accept: 'application/json' };
    const init = { method, headers, cache: 'no-store', credentials: 'omit', referrerPolicy: 'no-referrer' };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const res = await fetch(path, init);
    if (res.status === 401) {
      signOut('The token was refused (revoked or wrong): sign in again.');
      throw new ApiError(401, 'unauthorized', 'the token is not valid');
    }
    if (!res.ok) {
      let err = {};
      try {
        err = (await res.json()).error || {};
      } catch (e) {
        /* not JSON: keep the status line */
      }
      throw new ApiError(res.status, err.code || 'http_' + res.status, err.message || res.statusText);
    }
    if (res.status === 204)
      return null;
    if ((res.headers.get('Content-Type') || '').startsWith('application/json'))
      return res.json();
    return res.blob();
  }

  function linkPath(code, rest) {
    return '/api/v1/links/' + encodeURIComponent(code) + (rest || '');
  }

  /* ---- times ---- */

  const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

  /* An RFC 3339 time as a Date, or null: Date() alone reads almost anything. */
  function parseTime(iso) {
    if (typeof iso !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(iso))
      return null;
    const d = new Date(iso);
    return isNaN(d) ? null : d;
  }

  /* A time for people, in their zone; what is not a time is shown as it came. */
  function showTime(iso) {
    if (!iso)
      return '';
    const d = parseTime(iso);
    return d ? dateTime.format(d) : String(iso);
  }

  /* datetime-local value (local time) -> RFC 3339 UTC, whole seconds. */
  function toRfc3339(local) {
    const d = new Date(local);
    if (isNaN(d))
      return local; /* let the API say what is wrong with it */
    return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
  }

  function toLocalInput(iso) {
    const d = parseTime(iso);
    if (!d)
      return '';
    const pad = (n) => String(n).padStart(2, '0');
    return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + 'T' + pad(d.getHours()) +
      ':' + pad(d.getMinutes());
  }

  function linkState(l) {
    if (l.disabled)
      return 'disabled';
    if (l.expires_at && parseTime(l.expires_at) && parseTime(l.expires_at) <= new Date())
      return 'expired';
    if (l.max_clicks !== null && l.max_clicks !== undefined && l.clicks >= l.max_clicks)
      return 'used up';
    return 'active';
  }

  /* ---- sign-in ---- */

  function showSignIn(message) {
    $('app').hidden = true;
    $('who').hidden = true;
    $('signin').hidden = false;
    $('token-error').textContent = message || '';
    $('token').setAttribute('aria-invalid', message ? 'true' : 'false');
    $('token').value = '';
    $('token').focus();
  }

  function signOut(message) {
    sessionStorage.removeItem(TOKEN_KEY);
    state.token = null;
    state.links.clear();
    $('rows').replaceChildren();
    $('detail').hidden = true;
    flash('');
    showSignIn(message);
  }

  /* Checks the token, learns its role and shows the page; false when refused. */
  async function start(token) {
    state.token = token;
    const check = await fetch(ROLE_CHECK, {
      method: 'GET',
      headers: { Authorization: 'Bearer ' + token },
      cache: 'no-store',
      credentials: 'omit',
    });
    await check.arrayBuffer();
    if (check.status === 401) {
      signOut('The token was refused (revoked or wrong).');
      return false;
    }
    if (check.status !== 200 && check.status !== 403)
      throw new Error('the token could not be checked (HTTP ' + check.status + ')');
    state.admin = check.status === 200;
    sessionStorage.setItem(TOKEN_KEY, token);
    document.body.classList.toggle('read-only', !state.admin);
    for (const w of document.querySelectorAll('[data-write]'))
      w.hidden = !state.admin;
    $('role').textContent = state.admin ? 'admin' : 'read-only';
    $('who').hidden = false;
    $('signin').hidden = true;
    $('app').hidden = false;
    await loadPage(null, []);
    return true;
  }

  $('signin-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const token = $('token').value.trim();
    if (token === '') {
      $('token-error').textContent = 'Enter a token.';
      return;
    }
    try {
      if (await start(token))
        $('main').focus();
    } catch (e) {
      $('token-error').textContent = 'Cannot reach shortd: ' + e.message;
    }
  });

  $('signout').addEventListener('click', () => signOut(''));

  /* ---- the table ---- */

  async function loadPage(cursor, previous) {
    const p = new URLSearchParams({ limit: String(PAGE_SIZE) });
    if (cursor)
      p.set('cursor', cursor);
    for (const [k, v] of Object.entries(state.filters))
      p.set(k, v);
    let page;
    try {
      page = await api('GET', '/api/v1/links?' + p.toString());
    } catch (e) {
      if (e.status !== 401)
        showErrors($('search-form'), e, 'search');
      return;
    }
    clearErrors($('search-form'));
    state.cursor = cursor;
    state.previous = previous;
    state.next = page.next_cursor;
    renderRows(page.items);
  }

  function renderRows(items) {
    state.links.clear();
    const rows = items.map((l) => {
      state.links.set(l.code, l);
      const st = linkState(l);
      const target = el('td', { class: 'target-cell c-target' });
      if (l.title)
        target.append(el('span', { class: 'row-title' }, l.title));
      target.append(el('span', { class: 'break url', title: l.url }, l.url));
      if (Array.isArray(l.tags) && l.tags.length > 0)
        target.append(el('span', { class: 'tags' }, ...l.tags.map((t) => el('span', { class: 'tag' }, String(t)))));
      return el('tr', { 'data-code': l.code },
        el('th', { scope: 'row', class: 'c-code' }, el('code', {}, l.code)),
        target,
        el('td', { 'data-label': 'Status', class: 'c-status' }, String(l.status)),
        el('td', { 'data-label': 'Clicks', class: 'num c-clicks' }, String(l.clicks)),
        el('td', { 'data-label': 'Expires', class: 'c-expires' }, l.expires_at ? showTime(l.expires_at) : '—'),
        el('td', { class: 'c-state' }, el('span', { class: 'state ' + st.replace(' ', '-') }, st)),
        el('td', { class: 'row-actions c-actions' },
          el('button', { type: 'button', 'data-copy': l.code, 'aria-label': 'Copy short URL of ' + l.code }, 'Copy'),
          el('button', { type: 'button', 'data-open': l.code, 'aria-label': 'Details of ' + l.code }, 'Details')));
    });
    $('rows').replaceChildren(...rows);
    $('empty').hidden = items.length !== 0;
    /* The create form starts folded, unless there is nothing yet. */
    if (items.length === 0 && state.cursor === null && Object.keys(state.filters).length === 0)
      $('create').open = true;
    $('next-page').disabled = !state.next;
    $('first-page').disabled = state.cursor === null;
    $('page-label').textContent = 'Page ' + (state.previous.length + 1);
  }

  $('rows').addEventListener('click', (ev) => {
    const b = ev.target.closest('button');
    if (!b)
      return;
    if (b.dataset.copy !== undefined)
      copyShort(state.links.get(b.dataset.copy));
    else if (b.dataset.open !== undefined)
      openDetail(b.dataset.open, b);
  });

  $('next-page').addEventListener('click', () => {
    if (state.next)
      loadPage(state.next, state.previous.concat([state.cursor]));
  });
  $('first-page').addEventListener('click', () => loadPage(null, []));

  $('search-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const f = ev.target;
    state.filters = {};
    for (const name of ['q', 'url', 'tag']) {
      const v = f.elements[name].value.trim();
      if (v !== '')
        state.filters[name] = v;
    }
    loadPage(null, []);
  });

  async function copyShort(l) {
    if (!l)
      return;
    try {
      await navigator.clipboard.writeText(l.short_url);
    } catch (e) {
      /* No clipboard API outside a secure context: copy a selection. */
      const t = el('textarea', { readonly: true, class: 'offscreen' });
      t.value = l.short_url;
      document.body.append(t);
      t.select();
      document.execCommand('copy');
      t.remove();
    }
    flash('Copied ' + l.short_url);
  }

  /* ---- errors next to their fields ---- */

  function clearErrors(form) {
    for (const p of form.querySelectorAll('.error'))
      p.textContent = '';
    for (const i of form.querySelectorAll('[aria-invalid]'))
      i.removeAttribute('aria-invalid');
  }

  function fieldOf(e) {
    if (ERROR_FIELD[e.code])
      return ERROR_FIELD[e.code];
    /* invalid_type and unknown_field name the field first: "max_clicks must be ..." */
    const first = (e.message || '').split(/[\s']/).filter(Boolean)[0];
    return first;
  }

  function showErrors(form, e, fallback) {
    clearErrors(form);
    const field = fieldOf(e);
    let slot = form.querySelector('.error[data-for="' + CSS.escape(field || '') + '"]');
    if (!slot)
      slot = form.querySelector('.error[data-for="' + (fallback || 'form') + '"]');
    slot.textContent = e.message;
    const input = field ? form.elements[field] : null;
    if (input && input.setAttribute) {
      input.setAttribute('aria-invalid', 'true');
      input.focus();
    }
  }

  /* The form's fields as an API body; create omits empty fields, edit sends null. */
  function linkBody(form, forCreate) {
    const f = form.elements;
    const body = { url: f.url.value.trim() };
    if (forCreate && f.code.value.trim() !== '')
      body.code = f.code.value.trim();
    if (f.status.value !== '')
      body.status = Number(f.status.value);
    const exp = f.expires_at.value;
    if (exp !== '')
      body.expires_at = toRfc3339(exp);
    else if (!forCreate)
      body.expires_at = null;
    const max = f.max_clicks.value.trim();
    if (max !== '')
      body.max_clicks = Number(max);
    else if (f.max_clicks.validity.badInput)
      body.max_clicks = f.max_clicks.value; /* the API names the problem */
    else if (!forCreate)
      body.max_clicks = null;
    if (forCreate) {
      if (f.forward_query.checked)
        body.forward_query = true;
    } else {
      body.forward_query = f.forward_query.checked;
    }
    return body;
  }

  /* Editing a field takes its error away. */
  for (const form of document.querySelectorAll('form')) {
    form.addEventListener('input', (ev) => {
      const name = ev.target.name;
      const slot = name ? form.querySelector('.error[data-for="' + CSS.escape(name) + '"]') : null;
      if (slot)
        slot.textContent = '';
      ev.target.removeAttribute('aria-invalid');
    });
  }

  for (const sel of document.querySelectorAll('select[name="status"]')) {
    const help = sel.closest('.field').querySelector('[data-status-help]');
    const update = () => {
      help.textContent = STATUS_HELP[sel.value] || '';
    };
    sel.addEventListener('change', update);
    update();
  }

  $('create-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const form = ev.target;
    clearErrors(form);
    if (form.elements.max_clicks.validity.badInput) {
      showErrors(form, new ApiError(400, 'invalid_max_clicks', 'max_clicks must be a whole number'));
      return;
    }
    try {
      const l = await api('POST', '/api/v1/links', linkBody(form, true));
      form.reset();
      form.elements.status.dispatchEvent(new Event('change'));
      await loadPage(state.cursor, state.previous);
      flash('Created ' + l.short_url);
      await openDetail(l.code, null);
    } catch (e) {
      if (e.status !== 401)
        showErrors(form, e);
    }
  });

  /* ---- one link: details, stats, QR, edit ---- */

  async function openDetail(code, opener) {
    let l;
    /* Hidden until filled with what the API says now: a panel still
     * showing an earlier fill must not take edits that the fill would
     * then overwrite. */
    $('detail').hidden = true;
    try {
      l = await api('GET', linkPath(code));
    } catch (e) {
      if (e.status !== 401)
        flash(e.message);
      return;
    }
    state.current = l;
    state.opener = opener;
    fillDetail(l);
    $('detail').hidden = false;
    $('detail-h').focus();
    $('detail').scrollIntoView({ block: 'start' });
    await Promise.all([loadStats(), loadQr()]);
  }

  function fillDetail(l) {
    $('d-code').textContent = l.code;
    setLink($('d-short'), l.short_url);
    $('d-url').textContent = l.url;
    $('d-title').hidden = !l.title;
    $('d-title').textContent = l.title || '';
    const f = $('edit-form').elements;
    clearErrors($('edit-form'));
    f.url.value = l.url;
    f.status.value = String(l.status);
    f.status.dispatchEvent(new Event('change'));
    f.expires_at.value = toLocalInput(l.expires_at);
    f.max_clicks.value = l.max_clicks === null || l.max_clicks === undefined ? '' : String(l.max_clicks);
    f.forward_query.checked = !!l.forward_query;
    $('d-toggle').textContent = l.disabled ? 'Enable' : 'Disable';
  }

  function closeDetail() {
    $('detail').hidden = true;
    state.current = null;
    if (state.opener && state.opener.isConnected)
      state.opener.focus();
  }

  $('d-close').addEventListener('click', closeDetail);
  $('d-copy').addEventListener('click', () => copyShort(state.current));

  $('edit-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const form = ev.target;
    clearErrors(form);
    if (form.elements.max_clicks.validity.badInput) {
      showErrors(form, new ApiError(400, 'invalid_max_clicks', 'max_clicks must be a whole number'));
      return;
    }
    try {
      const l = await api('PATCH', linkPath(state.current.code), linkBody(form, false));
      state.current = l;
      fillDetail(l);
      await loadPage(state.cursor, state.previous);
      flash('Saved ' + l.code);
    } catch (e) {
      if (e.status !== 401)
        showErrors(form, e);
    }
  });

  $('d-toggle').addEventListener('click', async () => {
    const l = state.current;
    try {
      const n = await api('PATCH', linkPath(l.code), { disabled: !l.disabled });
      state.current = n;
      fillDetail(n);
      await loadPage(state.cursor, state.previous);
      flash((n.disabled ? 'Disabled ' : 'Enabled ') + n.code);
    } catch (e) {
      if (e.status !== 401)
        showErrors($('edit-form'), e);
    }
  });

  $('d-delete').addEventListener('click', () => {
    $('confirm-code').textContent = state.current.code;
    $('confirm').returnValue = '';
    $('confirm').showModal();
  });

  $('confirm').addEventListener('close', async () => {
    if ($('confirm').returnValue !== 'delete')
      return;
    const code = state.current.code;
    try {
      await api('DELETE', linkPath(code));
    } catch (e) {
      if (e.status !== 401)
        showErrors($('edit-form'), e);
      return;
    }
    $('detail').hidden = true;
    state.current = null;
    await loadPage(state.cursor, state.previous);
    flash('Deleted ' + code);
    $('links-h').setAttribute('tabindex', '-1');
    $('links-h').focus();
  });

  for (const b of document.querySelectorAll('[data-days]')) {
    b.addEventListener('click', () => {
      state.days = Number(b.dataset.days);
      for (const o of document.querySelectorAll('[data-days]'))
        o.setAttribute('aria-pressed', String(o === b));
      loadStats();
    });
  }

  async function loadStats() {
    const code = state.current.code, days = state.days;
    let s;
    try {
      s = await api('GET', linkPath(code, '/stats?days=' + days));
    } catch (e) {
      if (e.status !== 401)
        flash(e.message);
      return;
    }
    /* Another link or range chosen meanwhile: its own answer draws it. */
    if (!state.current || state.current.code !== code || state.days !== days)
      return;
    $('d-clicks').textContent = String(s.clicks);
    $('d-bots').textContent = String(s.bot_clicks);
    $('d-last').textContent = s.last_click_at ? showTime(s.last_click_at) : 'never';
    $('d-chart').replaceChildren(chart(s.daily));
    $('d-refs').replaceChildren(...s.referrers.map((r) =>
      el('li', {}, el('span', { class: 'break' }, r.host),
        el('span', { class: 'muted' }, r.clicks === 1 ? '1 click' : r.clicks + ' clicks'))));
    $('d-refs-none').hidden = s.referrers.length !== 0;
  }

  /* Daily clicks as bars, humans below and bots stacked above in another colour. */
  function chart(daily) {
    const NS = 'http://www.w3.org/2000/svg';
    /* Drawn at the width it is shown at, so its text keeps its size on a phone. */
    const W = Math.max(280, Math.min(900, $('d-chart').clientWidth || 640)), H = 180, L = 34, B = 22, T = 8;
    const max = Math.max(1, ...daily.map((d) => d.clicks + d.bot_clicks));
    const top = niceMax(max);
    const step = (W - L) / Math.max(1, daily.length);
    const y = (v) => H - B - (v / top) * (H - B - T);
    const sv = (tag, attrs, text) => {
      const e = document.createElementNS(NS, tag);
      for (const [k, v] of Object.entries(attrs))
        e.setAttribute(k, String(v));
      if (text !== undefined)
        e.textContent = text;
      return e;
    };
    const humans = daily.reduce((a, d) => a + d.clicks, 0);
    const bots = daily.reduce((a, d) => a + d.bot_clicks, 0);
    const svg = sv('svg', {
      viewBox: `0 0 ${W} ${H}`, class: 'chart-svg', role: 'img',
      'aria-label': `Clicks per day over ${daily.length} days: ${humans} by humans, ${bots} by bots`,
    });
    for (const v of [0, top / 2, top]) {
      svg.append(sv('line', { x1: L, x2: W, y1: y(v), y2: y(v), class: 'grid' }));
      svg.append(sv('text', { x: L - 6, y: y(v) + 4, class: 'axis', 'text-anchor': 'end' }, String(v)));
    }
    daily.forEach((d, i) => {
      const x = L + i * step + step * 0.15, w = Math.max(1, step * 0.7);
      const g = sv('g', { class: 'day', 'data-date': d.date, 'data-human': d.clicks, 'data-bot': d.bot_clicks });
      g.append(sv('title', {}, `${d.date}: ${d.clicks} human, ${d.bot_clicks} bot`));
      if (d.clicks > 0)
        g.append(sv('rect', { x, y: y(d.clicks), width: w, height: y(0) - y(d.clicks), class: 'bar human' }));
      if (d.bot_clicks > 0) {
        const y1 = y(d.clicks + d.bot_clicks);
        g.append(sv('rect', { x, y: y1, width: w, height: y(d.clicks) - y1, class: 'bar bot' }));
      }
      svg.append(g);
    });
    if (daily.length > 0) {
      svg.append(sv('text', { x: L, y: H - 6, class: 'axis' }, daily[0].date));
      svg.append(sv('text', { x: W, y: H - 6, class: 'axis', 'text-anchor': 'end' }, daily[daily.length - 1].date));
    }
    return svg;
  }

  function niceMax(v) {
    if (v <= 4)
      return v % 2 === 0 ? v : v + 1;
    const p = Math.pow(10, Math.floor(Math.log10(v)));
    for (const m of [1, 2, 2.5, 5, 10]) {
      if (m * p >= v && (m * p) % 2 === 0)
        return m * p;
    }
    return 10 * p;
  }

  function dataUrl(blob) {
    return new Promise((resolve, reject) => {
      const r = new FileReader();
      r.onload = () => resolve(r.result);
      r.onerror = () => reject(r.error);
      r.readAsDataURL(blob);
    });
  }

  async function loadQr() {
    const l = state.current;
    let svg, png;
    try {
      [svg, png] = await Promise.all([
        api('GET', linkPath(l.code, '/qr?format=svg&size=8&margin=4')),
        api('GET', linkPath(l.code, '/qr?format=png&size=8&margin=4')),
      ]);
    } catch (e) {
      if (e.status !== 401)
        flash(e.message);
      return;
    }
    if (!state.current || state.current.code !== l.code)
      return;
    const svgUrl = await dataUrl(svg);
    $('d-qr').src = svgUrl;
    $('d-qr').alt = 'QR code of ' + l.short_url;
    $('d-qr-svg').href = svgUrl;
    $('d-qr-svg').setAttribute('download', l.code + '.svg');
    $('d-qr-png').href = await dataUrl(png);
    $('d-qr-png').setAttribute('download', l.code + '.png');
  }

  /* ---- start ---- */

  const saved = sessionStorage.getItem(TOKEN_KEY);
  if (saved)
    start(saved).catch((e) => showSignIn('Cannot reach shortd: ' + e.message));
  else
    showSignIn('');
})();
