// The Mini App page: one column of views (home, transcripts, images, history,
// buy, upload, settings) drawn into <main id="app">, talking to the bot's
// /api with a session token obtained from Telegram's init data.
//
// Rules this file keeps: no inline styles or handlers (the page runs under a
// strict CSP), no innerHTML for anything that came from the server, and the
// token and init data live only in memory (never in URLs, logs or storage).
'use strict';

const WA = window.Telegram?.WebApp ?? null;

const JOB_POLL_MS = 1500;
const PAYMENT_POLL_MS = 2000;
const PAYMENT_WAIT_MS = 5 * 60 * 1000;
// Stars are credited by the bot's payment handler moments after "paid".
const STARS_WAIT_MS = 60 * 1000;
const PARTS_IN_FLIGHT = 3;
const PART_RETRIES = 3;
const TOAST_MS = 2500;
const BANNER_MS = 8000;

const NAV = ['upload', 'transcripts', 'images', 'history', 'buy', 'settings'];
const DOWNLOADS = ['txt', 'srt', 'vtt', 'audio'];
// The server takes `auto` or any two-letter ISO 639-1 code; these are offered.
const TRANSCRIPTION_LANGUAGES = ['ru', 'en', 'uk', 'kk', 'be', 'uz', 'de', 'fr', 'es',
  'it', 'pt', 'tr', 'pl', 'nl', 'zh', 'ja', 'ko', 'ar', 'hi'];
const THEME_KEYS = ['bg_color', 'text_color', 'hint_color', 'link_color', 'button_color',
  'button_text_color', 'secondary_bg_color', 'section_bg_color', 'destructive_text_color',
  'accent_text_color', 'section_header_text_color', 'subtitle_text_color'];

const state = {
  texts: {},
  lang: 'ru',
  token: null,
  signingIn: null,
  me: null,
  uploadMax: null,
  stack: [],
  scope: null,
  payment: null, // {kind, balance?, stop?}
};

// The upload outlives its view: leaving and coming back shows where it stands.
// `sentId` is an upload whose parts are all stored: after "buy credits first"
// only the completion is asked again, not the whole file sent anew.
const up = { file: null, phase: 'idle', percent: 0, error: null, job: null, run: null, stopWatch: null, sentId: null };
// Refusals of the completion that leave the stored parts worth completing later.
const COMPLETE_AGAIN = ['insufficient_funds', 'too_many_jobs', 'too_many_requests', 'network', 'internal'];

/* ---------- small helpers ---------- */

class ApiError extends Error {
  constructor(status, code, message, data) {
    super(message || code);
    this.status = status;
    this.code = code;
    this.data = data || null;
  }
}

// Builds an element: props are attributes, except class, text and on<event>.
function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value == null || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key === 'text') el.textContent = value;
    else if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child != null && child !== false) el.append(child);
  }
  return el;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Only web links from the API become hrefs or get opened, never `javascript:`.
const safeUrl = (url) => (/^https?:\/\//i.test(String(url || '')) ? String(url) : '');
const pad = (n) => String(n).padStart(2, '0');

function qs(params) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value != null && value !== '') query.set(key, String(value));
  }
  const text = query.toString();
  return text ? `?${text}` : '';
}

// A Telegram call that may be missing on old clients or in a test stub.
function tg(obj, method, ...args) {
  try {
    return typeof obj?.[method] === 'function' ? obj[method](...args) : undefined;
  } catch (err) {
    console.warn(`Telegram.WebApp ${method} failed`);
    return undefined;
  }
}

/* ---------- texts and formats ---------- */

function pickLang(code) {
  return String(code || '').toLowerCase().startsWith('en') ? 'en' : 'ru';
}

function table() {
  return state.texts[state.lang] || state.texts.ru || {};
}

function has(id) {
  return typeof table()[id] === 'string';
}

// texts.json holds each message with its variables left as `{name}` (maybe
// wrapped in Fluent's isolation marks); a missing id shows as itself.
function t(id, vars = {}) {
  const raw = table()[id];
  if (typeof raw !== 'string') return id;
  return raw.replace(/\u2068?\{([A-Za-z_][\w-]*)\}\u2069?/g,
    (whole, name) => (name in vars ? String(vars[name]) : whole));
}

async function loadTexts() {
  try {
    const res = await fetch('texts.json', { credentials: 'same-origin' });
    if (res.ok) return await res.json();
  } catch (err) {
    console.warn('texts.json could not be loaded');
  }
  return {};
}

function setLang(code) {
  state.lang = pickLang(code);
  document.documentElement.lang = state.lang;
  document.title = t('page-title');
}

const locale = () => (state.lang === 'ru' ? 'ru-RU' : 'en-GB');

// Amounts arrive as decimal strings ("12.5"); Russian writes a comma.
function num(value) {
  const text = String(value ?? 0);
  return state.lang === 'ru' ? text.replace('.', ',') : text;
}

function freeMinutes(seconds) {
  return num(Math.floor((Number(seconds) || 0) / 6) / 10);
}

function clock(seconds) {
  const total = Math.max(0, Math.floor(Number(seconds) || 0));
  const hours = Math.floor(total / 3600);
  const rest = `${pad(Math.floor((total % 3600) / 60))}:${pad(total % 60)}`;
  return hours ? `${hours}:${rest}` : rest;
}

function date(iso, withTime = true) {
  const when = new Date(iso);
  if (Number.isNaN(when.getTime())) return '';
  const options = { day: 'numeric', month: 'short' };
  if (when.getFullYear() !== new Date().getFullYear()) options.year = 'numeric';
  if (withTime) Object.assign(options, { hour: '2-digit', minute: '2-digit' });
  return new Intl.DateTimeFormat(locale(), options).format(when);
}

// Decimal megabytes, as the server counts its upload limit.
function size(bytes) {
  const mb = bytes / 1e6;
  if (mb >= 0.1) return t('page-size-mb', { mb: num(Math.round(mb * 10) / 10) });
  return t('page-size-kb', { kb: num(Math.max(1, Math.round(bytes / 1e3))) });
}

const megabytes = (bytes) => num(Math.floor(bytes / 1e6));

function money(amount, currency) {
  if (currency === 'XTR') return `${amount} ⭐`;
  if (currency === 'RUB') return `${num(amount)} ₽`;
  return `${num(amount)} ${currency || ''}`.trim();
}

// An API refusal as words: a page text for known codes, else the server's.
function errorText(err) {
  const code = String(err?.code || '').replace(/_/g, '-');
  if (code === 'too-big' && state.uploadMax) return t('page-error-too-big-limit', { mb: megabytes(state.uploadMax) });
  if (err?.status === 401 && code !== 'expired') return t('page-error-signin');
  if (code && has(`page-error-${code}`)) return t(`page-error-${code}`);
  if (err?.message && err.message !== err.code) return t('page-error-server', { message: err.message });
  return t('page-error-generic');
}

/* ---------- theme ---------- */

function applyTheme() {
  const root = document.documentElement;
  const params = WA?.themeParams || {};
  for (const key of THEME_KEYS) {
    const name = `--tg-${key.replace(/_/g, '-')}`;
    const value = params[key];
    if (typeof value === 'string' && /^#[0-9a-f]{3,8}$/i.test(value)) root.style.setProperty(name, value);
    else root.style.removeProperty(name);
  }
  const dark = WA?.colorScheme ? WA.colorScheme === 'dark'
    : window.matchMedia?.('(prefers-color-scheme: dark)').matches;
  root.dataset.theme = dark ? 'dark' : 'light';
}

/* ---------- API ---------- */

async function api(method, path, body, { auth = true, retried = false } = {}) {
  const headers = { Accept: 'application/json' };
  if (auth && state.token) headers.Authorization = `Bearer ${state.token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res;
  try {
    res = await fetch(path, {
      method, headers, cache: 'no-store', credentials: 'omit',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    throw new ApiError(0, 'network', '');
  }
  // Sessions are short; one fresh sign-in covers an expired token.
  if (res.status === 401 && auth && !retried) {
    await signIn();
    return api(method, path, body, { auth, retried: true });
  }
  const data = await res.json().catch(() => null);
  if (!res.ok) throw new ApiError(res.status, data?.error || `http_${res.status}`, data?.message || '', data);
  return data;
}

// Concurrent 401s share one sign-in.
function signIn() {
  if (!state.signingIn) {
    state.signingIn = (async () => {
      state.token = null;
      const answer = await api('POST', '/api/auth/telegram', { init_data: WA.initData }, { auth: false });
      state.token = answer.token;
      if (answer.user?.language) setLang(answer.user.language);
      return answer;
    })().finally(() => { state.signingIn = null; });
  }
  return state.signingIn;
}

async function refreshMe() {
  const me = await api('GET', '/api/me');
  state.me = me;
  if (me.max_upload_bytes) state.uploadMax = me.max_upload_bytes;
  if (me.language && pickLang(me.language) !== state.lang) {
    setLang(me.language);
    rerender();
  } else {
    paintMe(me);
  }
  return me;
}

// Puts the numbers of /api/me into whatever view shows them.
function paintMe(me) {
  const set = (id, text, show = true) => {
    const el = document.getElementById(id);
    if (!el) return;
    el.textContent = text;
    el.hidden = !show;
  };
  const held = Number(me.balance?.held) || 0;
  set('balance', num(me.balance?.available));
  set('held', t('page-balance-held', { credits: num(me.balance?.held) }), held > 0);
  set('free-minutes', t('page-free-minutes', { minutes: freeMinutes(me.free_seconds_today) }));
  set('free-images', t('page-free-images', { count: me.free_images_this_month ?? 0 }));
  const plan = me.plan;
  const until = plan ? new Date(plan.ends_at).toLocaleDateString(document.documentElement.lang || undefined) : '';
  set('plan', plan ? t(plan.renews ? 'page-plan-renews' : 'page-plan-ends', {
    name: plan.name, minutes: freeMinutes(plan.seconds_left), count: plan.images_left, until,
  }) : '', Boolean(plan));
}

/* ---------- Telegram buttons, notes ---------- */

const mainButton = {
  handler: null,
  set(text, handler, { busy = false, enabled = true } = {}) {
    const mb = WA?.MainButton;
    if (!mb) return;
    if (this.handler !== handler) {
      if (this.handler) tg(mb, 'offClick', this.handler);
      tg(mb, 'onClick', handler);
      this.handler = handler;
    }
    tg(mb, 'setText', text);
    tg(mb, enabled ? 'enable' : 'disable');
    if (busy) tg(mb, 'showProgress', false);
    else tg(mb, 'hideProgress');
    tg(mb, 'show');
  },
  hide() {
    const mb = WA?.MainButton;
    if (!mb) return;
    if (this.handler) tg(mb, 'offClick', this.handler);
    this.handler = null;
    tg(mb, 'hideProgress');
    tg(mb, 'hide');
  },
};

function openLink(url) {
  if (!safeUrl(url)) return;
  if (typeof WA?.openLink === 'function') tg(WA, 'openLink', url);
  else window.open(url, '_blank', 'noopener');
}

// Links stay real <a href>, but inside Telegram they open through the client.
function openThroughTelegram(event, url) {
  if (typeof WA?.openLink !== 'function' || !safeUrl(url)) return;
  event.preventDefault();
  tg(WA, 'openLink', url);
}

const noteEl = () => h('p', { id: 'note', class: 'note', role: 'status', hidden: true });

function showNote(root, text, kind = 'error') {
  const note = root.querySelector('#note');
  if (!note) return;
  note.textContent = text;
  note.dataset.kind = kind;
  note.hidden = !text;
  if (text) note.scrollIntoView({ block: 'nearest' });
}

let toastTimer = null;
function toast(text) {
  const el = document.getElementById('toast');
  el.textContent = text;
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { el.hidden = true; }, TOAST_MS);
}

async function copy(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch (err) {
    // Some webviews refuse the async clipboard; the old way still works there.
    const area = h('textarea', { class: 'offscreen', readonly: true });
    area.value = text;
    document.body.append(area);
    area.select();
    const done = document.execCommand?.('copy') ?? false;
    area.remove();
    return done;
  }
}

const loadingEl = () => h('div', { class: 'loading', role: 'status' }, h('span', { class: 'spinner' }), t('page-loading'));

function loadError(err, retry) {
  return h('div', { class: 'load-error' },
    h('p', { text: errorText(err) }),
    h('button', { class: 'button secondary retry', type: 'button', text: t('page-retry'), onclick: retry }));
}

/* ---------- navigation ---------- */

const VIEWS = {
  home: viewHome, transcripts: viewTranscripts, transcript: viewTranscript, images: viewImages,
  history: viewHistory, buy: viewBuy, upload: viewUpload, settings: viewSettings,
  outside: viewOutside, 'signin-error': viewSignInError,
};

const current = () => state.stack[state.stack.length - 1];

function go(name, params = {}) {
  state.stack.push({ name, params });
  render();
}

function back() {
  if (state.stack.length < 2) return;
  state.stack.pop();
  render();
}

// A view's late answers are dropped and its watchers stopped once it is left.
function newScope() {
  const leaves = [];
  return {
    alive: true,
    onLeave(fn) { leaves.push(fn); },
    leave() {
      this.alive = false;
      leaves.forEach((fn) => fn());
    },
  };
}

function render() {
  state.scope?.leave();
  const scope = newScope();
  state.scope = scope;
  const { name, params } = current();
  const root = h('section', { class: 'view', 'data-view-name': name });
  const nested = state.stack.length > 1;
  if (nested && !WA?.BackButton) {
    root.append(h('button', { id: 'back', class: 'link-button', type: 'button', text: t('page-back'), onclick: back }));
  }
  mainButton.hide();
  // Attached first: views look their own elements up by id while filling in.
  document.getElementById('app').replaceChildren(root);
  VIEWS[name](root, params, scope);
  tg(WA?.BackButton, nested ? 'show' : 'hide');
  window.scrollTo(0, 0);
}

// Draws the current view again, in the language now chosen.
function rerender() {
  paintPayment();
  if (state.stack.length) render();
}

const title = (id) => h('h1', { class: 'title', text: t(id) });

// A list fed page by page through the API's `next` cursor.
function pager(scope, list, fetchPage, renderItem, emptyText) {
  const status = h('div', { class: 'pager-status' });
  const more = h('button', { id: 'more', class: 'button secondary', type: 'button', hidden: true, text: t('page-more') });
  let cursor = null;
  async function loadPage() {
    more.hidden = true;
    status.replaceChildren(loadingEl());
    try {
      const page = await fetchPage(cursor);
      if (!scope.alive) return;
      status.replaceChildren();
      list.append(...page.items.map(renderItem));
      cursor = page.next ?? null;
      more.hidden = cursor == null;
      if (!list.childElementCount) status.append(h('p', { class: 'empty', text: emptyText() }));
    } catch (err) {
      if (scope.alive) status.replaceChildren(loadError(err, loadPage));
    }
  }
  more.addEventListener('click', loadPage);
  loadPage();
  return h('div', { class: 'pager' }, list, status, more);
}

// Fills `box` with what `task` fetched, showing loading and errors meanwhile.
async function loadInto(box, scope, task, fill) {
  box.replaceChildren(loadingEl());
  try {
    const data = await task();
    if (!scope.alive) return;
    box.replaceChildren();
    fill(data);
  } catch (err) {
    if (scope.alive) box.replaceChildren(loadError(err, () => loadInto(box, scope, task, fill)));
  }
}

/* ---------- views: home ---------- */

function viewHome(root, _params, scope) {
  const body = h('div', { class: 'stack' });
  root.append(body);
  const fill = (me) => {
    body.replaceChildren(...homeContent(me).filter(Boolean));
    paintMe(me);
  };
  if (state.me) fill(state.me);
  else body.append(loadingEl());
  const shown = state.me;
  refreshMe().then((me) => {
    if (scope.alive && (!shown || me.referral?.link !== shown.referral?.link)) fill(me);
  }).catch((err) => {
    if (scope.alive && !state.me) body.replaceChildren(loadError(err, rerender));
  });
}

function homeContent(me) {
  const hello = me.first_name ? t('page-home-hello', { name: me.first_name }) : t('page-home-hello-anon');
  return [
    h('h1', { class: 'title greeting', text: hello }),
    h('section', { class: 'card balance-card' },
      h('p', { class: 'label', text: t('page-balance-label') }),
      h('p', { id: 'balance', class: 'balance' }),
      h('p', { id: 'held', class: 'hint', hidden: true }),
      h('p', { id: 'free-minutes' }),
      h('p', { id: 'free-images' }),
      h('p', { id: 'plan', class: 'plan', hidden: true })),
    h('nav', { class: 'card list' }, NAV.map((name) =>
      h('button', { class: 'list-row', type: 'button', 'data-go': name, text: t(`page-nav-${name}`) }))),
    referralCard(me.referral),
  ];
}

function referralCard(referral) {
  if (!referral?.link) return null;
  const copyButton = h('button', { id: 'copy-referral', class: 'button secondary', type: 'button', text: t('page-referral-copy') });
  copyButton.addEventListener('click', async () => {
    toast(await copy(referral.link) ? t('page-referral-copied') : t('page-copy-failed'));
  });
  return h('section', { class: 'card referral' },
    h('h2', { class: 'section-title', text: t('page-referral-title') }),
    h('p', { class: 'hint', text: t('page-referral-text') }),
    h('p', { id: 'referral-link', class: 'mono wrap', text: referral.link }),
    copyButton,
    h('p', { id: 'referral-stats', class: 'hint' },
      h('span', { text: t('page-referral-invited', { count: referral.invited ?? 0 }) }), ' · ',
      h('span', { text: t('page-referral-paid', { count: referral.paid ?? 0 }) }), ' · ',
      h('span', { text: t('page-referral-earned', { credits: num(referral.earned ?? 0) }) })));
}

/* ---------- views: transcripts ---------- */

function viewTranscripts(root, params, scope) {
  const search = h('input', {
    id: 'search', type: 'search', name: 'q', value: params.q || '', enterkeyhint: 'search',
    placeholder: t('page-search-placeholder'), 'aria-label': t('page-search-label'),
  });
  const form = h('form', { id: 'search-form', class: 'search', role: 'search' },
    search, h('button', { class: 'button', type: 'submit', text: t('page-search-button') }));
  const results = h('div');
  const show = (q) => {
    const list = h('ul', { class: 'card list', id: 'transcripts' });
    results.replaceChildren(pager(scope, list,
      (before) => api('GET', `/api/transcripts${qs({ q, before })}`),
      transcriptItem,
      () => t(q ? 'page-transcripts-not-found' : 'page-transcripts-empty')));
  };
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    params.q = search.value.trim(); // kept, so coming back shows the same search
    search.blur();
    show(params.q);
  });
  root.append(title('page-transcripts-title'), form, results);
  show(params.q || '');
}

function transcriptItem(item) {
  const button = h('button', { class: 'transcript-item list-row', type: 'button', 'data-job-id': item.job_id },
    h('span', { class: 'row-top' },
      h('span', { class: 'item-date', text: date(item.created_at) }),
      h('span', { class: 'item-duration', text: clock(item.duration_seconds) })),
    h('span', { class: 'item-preview', text: item.preview || t('page-transcript-no-text') }));
  button.addEventListener('click', () => go('transcript', { jobId: item.job_id }));
  return h('li', {}, button);
}

function viewTranscript(root, params, scope) {
  const body = h('div', { class: 'stack' });
  root.append(title('page-transcript-title'), body);
  const fetchIt = () => api('GET', `/api/transcripts/${encodeURIComponent(params.jobId)}`);
  loadInto(body, scope, fetchIt, (transcript) => {
    body.append(...transcriptContent(transcript, fetchIt, scope));
  });
}

function languageName(code) {
  return code && has(`page-lang-${code}`) ? t(`page-lang-${code}`) : code || '';
}

function transcriptContent(transcript, fetchIt, scope) {
  const meta = [date(transcript.created_at), clock(transcript.duration_seconds), languageName(transcript.language)]
    .filter(Boolean).join(' · ');
  const links = downloadLinks(transcript, fetchIt, scope);
  const text = (transcript.segments || []).map((segment) => segment.text).join('\n');
  const copyButton = h('button', { id: 'copy-text', class: 'button secondary', type: 'button', text: t('page-copy-text') });
  copyButton.addEventListener('click', async () => toast(await copy(text) ? t('page-copied') : t('page-copy-failed')));
  const segments = (transcript.segments || []).map((segment) => h('li', { class: 'segment' },
    h('span', { class: 'segment-time', text: clock(segment.start_seconds) }),
    h('span', { class: 'segment-text', text: segment.text })));
  return [
    h('p', { class: 'hint', text: meta }),
    h('section', { class: 'card downloads' }, links,
      h('p', { class: 'hint', text: t('page-downloads-hint', { minutes: Math.round((transcript.downloads_expire_in || 600) / 60) }) })),
    transcript.summary && h('section', { id: 'summary', class: 'card' },
      h('h2', { class: 'section-title', text: t('page-summary-title') }),
      h('p', { class: 'summary-text', text: transcript.summary.text }),
      transcript.summary.partial && h('p', { class: 'hint', text: t('page-summary-partial') })),
    segments.length
      ? h('section', { class: 'card' }, copyButton, h('ol', { class: 'segments' }, segments))
      : h('p', { class: 'empty', text: t('page-transcript-empty') }),
  ];
}

// Presigned links expire (downloads_expire_in); a tap on a stale one fetches
// fresh links first.
function downloadLinks(transcript, fetchIt, scope) {
  let fetchedAt = Date.now();
  const lifetime = ((transcript.downloads_expire_in || 600) - 30) * 1000;
  const links = DOWNLOADS.map((kind) => {
    const url = safeUrl(transcript.downloads?.[kind]);
    const link = h('a', {
      id: `download-${kind}`, class: 'button secondary', href: url || '#', download: true,
      target: '_blank', rel: 'noopener', hidden: !url, text: t(`page-download-${kind}`),
    });
    link.addEventListener('click', async (event) => {
      if (Date.now() - fetchedAt < lifetime) {
        openThroughTelegram(event, link.href);
        return;
      }
      event.preventDefault();
      try {
        const fresh = await fetchIt();
        fetchedAt = Date.now();
        for (const other of links) {
          const next = safeUrl(fresh.downloads?.[other.id.slice('download-'.length)]);
          if (next) other.href = next;
        }
        if (scope.alive) openLink(link.href);
      } catch (err) {
        toast(errorText(err));
      }
    });
    return link;
  });
  return links;
}

/* ---------- views: images ---------- */

function viewImages(root, _params, scope) {
  const editJob = h('div', { id: 'edit-job', hidden: true });
  const grid = h('ul', { class: 'image-grid' });
  const edits = { stop: null };
  scope.onLeave(() => edits.stop?.());
  root.append(title('page-images-title'), h('p', { class: 'hint', text: t('page-images-hint') }), editJob, noteEl(),
    pager(scope, grid, (before) => api('GET', `/api/images${qs({ before })}`),
      (item) => imageItem(item, root, scope, edits), () => t('page-images-empty')));
}

function imageItem(item, root, scope, edits) {
  // The edit route takes the gallery item's id; the gallery names it job_id.
  const id = item.id ?? item.job_id;
  const url = safeUrl(item.url);
  const open = h('a', { class: 'image-open', href: url || null, target: '_blank', rel: 'noopener' },
    h('img', { src: url || null, alt: item.prompt || '', loading: 'lazy', decoding: 'async' }));
  open.addEventListener('click', (event) => openThroughTelegram(event, url));
  const input = h('input', {
    class: 'image-edit-prompt', type: 'text', maxlength: '1000', required: true, enterkeyhint: 'send',
    placeholder: t('page-image-edit-placeholder'), 'aria-label': t('page-image-edit-label'),
  });
  const form = h('form', { class: 'image-edit-form', hidden: true },
    h('label', { class: 'hint', text: t('page-image-edit-label') }), input,
    h('button', { class: 'button image-edit-submit', type: 'submit', text: t('page-image-edit-submit') }));
  const li = h('li', { class: 'image-item card', 'data-image-id': id });
  const toggle = h('button', { class: 'button secondary image-edit', type: 'button', text: t('page-image-edit') });
  toggle.addEventListener('click', () => {
    form.hidden = !form.hidden;
    li.classList.toggle('editing', !form.hidden);
    if (!form.hidden) input.focus();
  });
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const prompt = input.value.trim();
    if (!prompt) { input.focus(); return; }
    busy(form, true);
    showNote(root, '');
    try {
      const answer = await api('POST', `/api/images/${encodeURIComponent(id)}/edit`, { prompt });
      if (!scope.alive) return;
      input.value = '';
      form.hidden = true;
      li.classList.remove('editing');
      edits.stop?.();
      edits.stop = followJob(root.querySelector('#edit-job'), answer.job_id);
    } catch (err) {
      if (scope.alive) showNote(root, errorText(err));
    } finally {
      busy(form, false);
    }
  });
  li.append(open, h('p', { class: 'image-prompt', text: item.prompt || '' }));
  if (item.edited) li.append(h('p', { class: 'badge', text: t('page-image-edited') }));
  li.append(h('p', { class: 'image-kept hint', text: t('page-image-kept-until', { date: date(item.kept_until, false) }) }),
    toggle, form);
  return li;
}

function busy(form, on) {
  form.querySelectorAll('input, button, select').forEach((el) => { el.disabled = on; });
  form.setAttribute('aria-busy', String(on));
}

/* ---------- jobs ---------- */

// Polls a job until it has finished; returns a function that stops it.
function watchJob(jobId, onJob) {
  let stopped = false;
  let timer = null;
  const tick = async () => {
    try {
      const job = await api('GET', `/api/jobs/${encodeURIComponent(jobId)}`);
      if (stopped) return;
      onJob(job);
      if (job.finished_at) {
        stopped = true;
        refreshMe().catch(() => {});
        return;
      }
    } catch (err) {
      // A hiccup of the network is waited out; an unknown job is not.
      if (stopped || err.status === 404) return;
    }
    timer = setTimeout(tick, JOB_POLL_MS);
  };
  tick();
  return () => { stopped = true; clearTimeout(timer); };
}

// Shows a job in `panel` (an image edit) as the upload view shows its own.
function followJob(panel, jobId) {
  panel.hidden = false;
  panel.replaceChildren(jobStatus({ id: jobId, kind: 'image', status: 'queued', progress: 0 }));
  panel.scrollIntoView({ block: 'nearest' });
  return watchJob(jobId, (job) => panel.replaceChildren(jobStatus(job)));
}

function jobStatus(job) {
  const status = job.status || 'queued';
  const active = status === 'queued' || status === 'running';
  const delivered = status === 'succeeded' || status === 'undeliverable';
  const box = h('div', { id: 'job-status', class: 'card job', 'data-status': status, role: 'status' },
    h('p', { class: 'job-text', text: has(`page-job-${status}`) ? t(`page-job-${status}`) : t('page-job-unknown', { status }) }));
  if (active) {
    const progress = Number(job.progress) || 0;
    box.append(h('div', { class: 'progress-line' },
      h('progress', { class: 'job-progress', max: '100', value: status === 'running' ? String(progress) : null }),
      status === 'running' ? h('span', { class: 'percent', text: `${progress}%` }) : null));
  }
  if (status === 'failed') {
    const code = String(job.error_code || '').replace(/_/g, '-');
    box.append(h('p', { class: 'job-error', text: has(`page-job-error-${code}`) ? t(`page-job-error-${code}`) : t('page-job-error-other') }));
  }
  const charged = job.price_charged;
  if (delivered && charged != null) box.append(h('p', { class: 'hint', text: t('page-job-charged', { price: num(charged) }) }));
  else if (active && job.price_quoted != null) box.append(h('p', { class: 'hint', text: t('page-job-price', { price: num(job.price_quoted) }) }));
  else if (status === 'failed' || status === 'cancelled') box.append(h('p', { class: 'hint', text: t('page-job-not-charged') }));
  const what = job.kind === 'transcription' ? 'transcript' : 'image';
  if (active) box.append(h('p', { class: 'hint', text: t(`page-job-later-${what}`) }));
  if (status === 'succeeded') box.append(h('p', { class: 'hint', text: t(`page-job-sent-${what}`) }));
  if (what === 'transcript' && delivered) {
      box.append(h('button', {
        id: 'open-transcript', class: 'button', type: 'button', 'data-job-id': job.id,
      text: t('page-job-open-transcript'), onclick: () => go('transcript', { jobId: job.id }),
    }));
  }
  return box;
}

/* ---------- views: history ---------- */

function viewHistory(root, _params, scope) {
  const list = h('ul', { class: 'card list history' });
  root.append(title('page-history-title'), pager(scope, list,
    async (before) => {
      const page = await api('GET', `/api/history${qs({ before })}`);
      return { items: page.lines || [], next: page.next };
    },
    historyLine, () => t('page-history-empty')));
}

function historyLine(line) {
  const label = has(`page-history-${line.kind}`) ? t(`page-history-${line.kind}`) : t('page-history-other');
  const details = [date(line.at)];
  if (line.kind === 'purchase') {
    details.push(has(`page-method-${line.method}`) ? t(`page-method-${line.method}`) : line.method,
      money(line.amount, line.currency), has(`page-payment-${line.status}`) ? t(`page-payment-${line.status}`) : line.status);
  } else if (line.job_id) {
    if (line.duration_seconds) details.push(clock(line.duration_seconds));
    if (line.status && line.status !== 'succeeded') details.push(has(`page-status-${line.status}`) ? t(`page-status-${line.status}`) : line.status);
    if (Number(line.held) > 0) details.push(t('page-history-held', { credits: num(line.held) }));
  } else if (line.memo) {
    details.push(line.memo);
  }
  const credits = String(line.credits ?? '0');
  const sign = credits.startsWith('+') ? 'plus' : credits.startsWith('-') ? 'minus' : 'zero';
  return h('li', { class: 'history-line', 'data-kind': line.kind },
    h('div', { class: 'row-top' },
      h('span', { class: 'history-text', text: label }),
      h('span', { class: 'history-amount', 'data-sign': sign, text: num(credits) })),
    h('p', { class: 'history-date hint', text: details.filter(Boolean).join(' · ') }));
}

/* ---------- views: buy and payments ---------- */

function viewBuy(root, _params, scope) {
  const list = h('ul', { class: 'packages stack' });
  root.append(title('page-buy-title'),
    h('section', { class: 'card balance-line' },
      h('span', { text: t('page-balance-label') }),
      h('span', { id: 'balance', class: 'balance-small', text: state.me ? num(state.me.balance?.available) : '…' })),
    h('p', { class: 'hint', text: t('page-buy-intro') }), noteEl(), list);
  refreshMe().catch(() => {});
  loadInto(list, scope, () => api('GET', '/api/packages'), (data) => {
    const methods = data.methods || [];
    const packages = (data.packages || []).map((pkg) => packageCard(pkg, methods, root));
    if (packages.length) list.append(...packages);
    else list.append(h('p', { class: 'empty', text: t('page-buy-empty') }));
  });
}

function packageCard(pkg, methods, root) {
  const card = h('li', { class: 'package card', 'data-package-id': pkg.id },
    h('h2', { class: 'package-credits', text: t('page-package-credits', { credits: num(pkg.total_credits ?? pkg.credits) }) }),
    Number(pkg.bonus_percent) > 0
      ? h('p', { class: 'package-bonus hint', text: t('page-package-bonus', { credits: num(pkg.credits), percent: pkg.bonus_percent }) })
      : null);
  const payButton = (method, cls, text) => {
    const button = h('button', { class: `button ${cls}`, type: 'button', text });
    button.addEventListener('click', () => pay(root, pkg.id, method, button));
    return button;
  };
  if (methods.includes('yookassa') && pkg.price_rub) {
    card.append(payButton('yookassa', 'pay-yookassa', t('page-pay-yookassa', { price: num(pkg.price_rub) })));
  }
  if (methods.includes('stars') && pkg.price_stars) {
    card.append(payButton('stars', 'pay-stars secondary', t('page-pay-stars', { stars: pkg.price_stars })));
  }
  return card;
}

async function pay(root, packageId, method, button) {
  showNote(root, '');
  button.disabled = true;
  try {
    const before = (state.me ?? await refreshMe()).balance?.available;
    const answer = await api('POST', '/api/purchase', { package_id: packageId, method });
    if (method === 'yookassa') {
      openLink(answer.confirmation_url);
      awaitPayment(before, 'waiting', PAYMENT_WAIT_MS);
    } else {
      openInvoice(answer.invoice_link, before);
    }
  } catch (err) {
    showNote(root, errorText(err));
  } finally {
    button.disabled = false;
  }
}

function openInvoice(link, before) {
  if (typeof WA?.openInvoice !== 'function') {
    openLink(link);
    awaitPayment(before, 'waiting', PAYMENT_WAIT_MS);
    return;
  }
  tg(WA, 'openInvoice', link, (status) => {
    if (status === 'paid') awaitPayment(before, 'crediting', STARS_WAIT_MS);
    else if (status === 'pending') awaitPayment(before, 'waiting', PAYMENT_WAIT_MS);
    else if (status === 'cancelled' || status === 'failed') setPayment({ kind: status });
  });
}

// The credit arrives through the provider and the bot, not this page: /api/me
// is asked until the balance moves or the wait runs out.
function awaitPayment(before, kind, waitMs) {
  const deadline = Date.now() + waitMs;
  let stopped = false;
  let timer = null;
  const stop = () => { stopped = true; clearTimeout(timer); };
  setPayment({ kind, stop });
  const tick = async () => {
    if (stopped) return;
    try {
      const me = await refreshMe();
      if (stopped) return;
      if (Number(me.balance?.available) !== Number(before)) {
        setPayment({ kind: 'done', balance: me.balance.available });
        return;
      }
    } catch (err) {
      // Keep asking: a lost answer says nothing about the payment.
    }
    if (Date.now() >= deadline) setPayment({ kind: 'timeout' });
    else timer = setTimeout(tick, PAYMENT_POLL_MS);
  };
  tick();
}

let bannerTimer = null;
function setPayment(payment) {
  state.payment?.stop?.();
  state.payment = payment;
  clearTimeout(bannerTimer);
  if (['done', 'cancelled', 'failed'].includes(payment.kind)) {
    bannerTimer = setTimeout(() => { state.payment = null; paintPayment(); }, BANNER_MS);
  }
  paintPayment();
}

function paintPayment() {
  const banner = document.getElementById('payment-status');
  const payment = state.payment;
  banner.hidden = !payment;
  if (!payment) return;
  banner.dataset.state = payment.kind;
  banner.textContent = t(`page-checkout-${payment.kind}`, { balance: num(payment.balance) });
}

/* ---------- views: upload ---------- */

const uploadBusy = () => up.phase === 'uploading' || up.phase === 'completing';

function viewUpload(root) {
  const input = h('input', {
    id: 'upload-file', class: 'offscreen', type: 'file',
    accept: 'audio/*,video/*,.ogg,.opus,.mp3,.m4a,.wav,.flac,.webm,.mp4,.mkv',
  });
  input.addEventListener('change', () => {
    const file = input.files?.[0];
    if (!file || uploadBusy()) return;
    up.stopWatch?.();
    Object.assign(up, { file, phase: 'chosen', percent: 0, error: null, job: null, stopWatch: null, sentId: null });
    paintUpload();
  });
  root.append(title('page-upload-title'),
    h('section', { class: 'card' },
      h('p', { text: t('page-upload-intro') }),
      h('p', { id: 'upload-limit', class: 'hint', hidden: !state.uploadMax,
        text: state.uploadMax ? t('page-upload-limit', { mb: megabytes(state.uploadMax) }) : '' }),
      input,
      h('label', { id: 'upload-pick', class: 'button secondary', for: 'upload-file' })),
    h('div', { id: 'upload-state', class: 'stack' }));
  paintUpload();
}

// Draws the upload's state into the upload view, if it is the one shown.
function paintUpload() {
  const box = document.getElementById('upload-state');
  if (!box) return;
  const input = document.getElementById('upload-file');
  const pick = document.getElementById('upload-pick');
  input.disabled = uploadBusy();
  pick.classList.toggle('disabled', uploadBusy());
  pick.textContent = t(up.file ? 'page-upload-choose-other' : 'page-upload-choose');
  const limit = document.getElementById('upload-limit');
  if (state.uploadMax) {
    limit.textContent = t('page-upload-limit', { mb: megabytes(state.uploadMax) });
    limit.hidden = false;
  }
  const parts = [];
  if (up.file) {
    parts.push(h('section', { class: 'card file' },
      h('p', { id: 'upload-file-name', class: 'wrap', text: up.file.name }),
      h('p', { id: 'upload-file-size', class: 'hint', text: size(up.file.size) })));
  }
  if (up.phase === 'chosen' || up.phase === 'failed') {
    parts.push(h('button', { id: 'upload-start', class: 'button', type: 'button', text: t('page-upload-start'), onclick: startUpload }));
  }
  if (uploadBusy()) parts.push(uploadProgress());
  if (up.phase === 'failed' && up.error) {
    parts.push(h('p', { id: 'note', class: 'note', 'data-kind': 'error', role: 'status', text: errorText(up.error) }));
    if (up.error.code === 'insufficient_funds') {
      parts.push(h('button', { class: 'button secondary', type: 'button', 'data-go': 'buy', text: t('page-nav-buy') }));
    }
  }
  if (up.phase === 'watching' && up.job) parts.push(jobStatus(up.job));
  box.replaceChildren(...parts);
  paintUploadButton();
}

function uploadProgress() {
  const sending = up.phase === 'uploading';
  return h('section', { class: 'card' },
    h('p', { id: 'upload-phase', text: t(sending ? 'page-upload-sending' : 'page-upload-checking') }),
    h('div', { class: 'progress-line' },
      h('progress', { id: 'upload-progress', max: '100', value: String(up.percent) }),
      h('span', { id: 'upload-percent', class: 'percent', text: `${up.percent}%` })),
    sending ? h('button', { id: 'upload-cancel', class: 'link-button', type: 'button', text: t('page-upload-cancel'), onclick: cancelUpload }) : null);
}

function paintUploadButton() {
  if (current()?.name !== 'upload') return;
  if (up.phase === 'chosen' || up.phase === 'failed') mainButton.set(t('page-upload-start'), startUpload);
  else if (uploadBusy()) mainButton.set(t('page-upload-sending'), startUpload, { busy: true, enabled: false });
  else mainButton.hide();
}

// Progress events come often: only the bar and the number are touched.
function paintProgress() {
  const bar = document.getElementById('upload-progress');
  const percent = document.getElementById('upload-percent');
  if (bar) bar.value = up.percent;
  if (percent) percent.textContent = `${up.percent}%`;
}

async function startUpload() {
  if (!up.file || uploadBusy()) return;
  const file = up.file;
  const run = { xhrs: new Set(), cancelled: false };
  Object.assign(up, { phase: 'uploading', percent: 0, error: null, job: null, run });
  paintUpload();
  try {
    if (!up.sentId) {
      const plan = await api('POST', '/api/uploads', {
        file_name: file.name, size: file.size, content_type: file.type || 'application/octet-stream',
      });
      if (plan.max_bytes) state.uploadMax = plan.max_bytes;
      if (run.cancelled) return;
      await sendParts(file, plan, run);
      if (run.cancelled) return;
      up.sentId = plan.id;
    }
    Object.assign(up, { phase: 'completing', percent: 100 });
    paintUpload();
    const done = await api('POST', `/api/uploads/${encodeURIComponent(up.sentId)}/complete`);
    Object.assign(up, {
      sentId: null,
      phase: 'watching',
      job: { id: done.job_id, kind: 'transcription', status: done.status || 'queued', progress: 0, price_quoted: done.price },
    });
    paintUpload();
    refreshMe().catch(() => {});
    up.stopWatch = watchJob(done.job_id, (job) => {
      if (up.job?.id !== job.id) return;
      up.job = job;
      paintUpload();
    });
  } catch (err) {
    if (run.cancelled) return;
    if (err.data?.max_bytes) state.uploadMax = err.data.max_bytes;
    if (!COMPLETE_AGAIN.includes(err.code)) up.sentId = null;
    Object.assign(up, { phase: 'failed', error: err });
    paintUpload();
  }
}

function cancelUpload() {
  if (!up.run) return;
  up.run.cancelled = true;
  up.run.xhrs.forEach((xhr) => xhr.abort());
  Object.assign(up, { phase: 'chosen', percent: 0, run: null });
  paintUpload();
}

// PUTs the parts, a few at a time; the first part that fails for good stops the rest.
async function sendParts(file, plan, run) {
  const partSize = plan.part_size;
  const queue = [...(plan.parts || [])].sort((a, b) => a.number - b.number);
  const sent = new Map();
  const report = () => {
    let bytes = 0;
    sent.forEach((n) => { bytes += n; });
    up.percent = file.size ? Math.min(100, Math.floor((bytes * 100) / file.size)) : 100;
    paintProgress();
  };
  const worker = async () => {
    while (queue.length && !run.cancelled && !run.failed) {
      const part = queue.shift();
      const blob = file.slice((part.number - 1) * partSize, part.number * partSize);
      await putPart(part.url, blob, run, (bytes) => { sent.set(part.number, bytes); report(); });
      sent.set(part.number, blob.size);
      report();
    }
  };
  const workers = Array.from({ length: Math.min(PARTS_IN_FLIGHT, queue.length) }, worker);
  try {
    await Promise.all(workers);
  } catch (err) {
    run.failed = true;
    run.xhrs.forEach((xhr) => xhr.abort());
    throw err;
  }
}

async function putPart(url, blob, run, onProgress) {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await putOnce(url, blob, run, onProgress);
    } catch (err) {
      const transient = err.code === 'network' || err.status >= 500;
      if (!transient || attempt >= PART_RETRIES || run.cancelled || run.failed) throw err;
      onProgress(0);
      await sleep(1000 * 2 ** attempt);
    }
  }
}

// XMLHttpRequest, not fetch: only it reports upload progress.
function putOnce(url, blob, run, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    const done = (fn) => () => { run.xhrs.delete(xhr); fn(); };
    run.xhrs.add(xhr);
    xhr.open('PUT', url);
    xhr.upload.onprogress = (event) => onProgress(event.loaded);
    xhr.onload = done(() => (xhr.status >= 200 && xhr.status < 300
      ? resolve() : reject(new ApiError(xhr.status, 'part_failed', ''))));
    xhr.onerror = done(() => reject(new ApiError(0, 'network', '')));
    xhr.onabort = done(() => reject(new ApiError(0, 'cancelled', '')));
    xhr.send(blob);
  });
}

/* ---------- views: settings ---------- */

function viewSettings(root, _params, scope) {
  const body = h('div', { class: 'stack' });
  root.append(title('page-settings-title'), noteEl(), body);
  loadInto(body, scope, () => api('GET', '/api/settings'), (settings) => {
    const language = select('language', ['ru', 'en'].map((code) => [code, t(`page-ui-${code}`)]), settings.language);
    const codes = TRANSCRIPTION_LANGUAGES.includes(settings.transcription_language) || settings.transcription_language === 'auto'
      ? TRANSCRIPTION_LANGUAGES : [...TRANSCRIPTION_LANGUAGES, settings.transcription_language];
    const transcription = select('transcription-language',
      [['auto', t('page-lang-auto')], ...codes.map((code) => [code, languageName(code)])], settings.transcription_language);
    language.addEventListener('change', () => saveSetting(root, 'language', language));
    transcription.addEventListener('change', () => saveSetting(root, 'transcription_language', transcription));
    body.append(
      h('section', { class: 'card field' },
        h('label', { for: 'language', class: 'section-title', text: t('page-settings-language') }), language),
      h('section', { class: 'card field' },
        h('label', { for: 'transcription-language', class: 'section-title', text: t('page-settings-transcription') }),
        transcription,
        h('p', { class: 'hint', text: t('page-settings-transcription-hint') })));
  });
}

function select(id, options, value) {
  const el = h('select', { id }, options.map(([code, label]) => h('option', { value: code, text: label })));
  el.value = value;
  el.dataset.saved = value;
  return el;
}

// Each change is saved at once; a refused one puts the old value back.
async function saveSetting(root, field, el) {
  showNote(root, '');
  el.disabled = true;
  try {
    const settings = await api('PUT', '/api/settings', { [field]: el.value });
    el.dataset.saved = settings[field] ?? el.value;
    if (state.me && settings.language) state.me.language = settings.language;
    if (field === 'language' && pickLang(settings.language) !== state.lang) {
      setLang(settings.language);
      rerender();
    }
    toast(t('page-settings-saved'));
  } catch (err) {
    el.value = el.dataset.saved;
    showNote(root, errorText(err));
  } finally {
    el.disabled = false;
  }
}

/* ---------- views: outside Telegram, failed sign-in ---------- */

function viewOutside(root) {
  root.append(h('section', { class: 'card center' },
    h('h1', { class: 'title', text: t('page-outside-title') }),
    h('p', { text: t('page-outside-text') })));
}

function viewSignInError(root, params) {
  root.append(h('section', { class: 'card center' },
    h('h1', { class: 'title', text: t('page-signin-failed') }),
    h('p', { id: 'note', class: 'note', 'data-kind': 'error', text: errorText(params.error) }),
    h('button', { id: 'retry', class: 'button', type: 'button', text: t('page-retry'), onclick: enter })));
}

/* ---------- start ---------- */

async function enter() {
  document.getElementById('app').replaceChildren(loadingEl());
  try {
    await signIn();
    state.stack = [{ name: 'home', params: {} }];
  } catch (err) {
    state.stack = [{ name: 'signin-error', params: { error: err } }];
  }
  render();
}

async function start() {
  applyTheme();
  tg(WA, 'onEvent', 'themeChanged', applyTheme);
  tg(WA, 'ready');
  tg(WA, 'expand');
  state.texts = await loadTexts();
  setLang(WA?.initDataUnsafe?.user?.language_code ?? navigator.language);
  document.getElementById('app').addEventListener('click', (event) => {
    const target = event.target.closest('[data-go]');
    if (target && !target.disabled) go(target.dataset.go);
  });
  if (!WA?.initData) {
    state.stack = [{ name: 'outside', params: {} }];
    render();
    return;
  }
  tg(WA.BackButton, 'onClick', back);
  await enter();
}

start();
