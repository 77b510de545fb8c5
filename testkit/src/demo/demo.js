// The demo chat page: draws the conversation the server keeps (both sides, with the
// bot's edits and deletions applied), and turns what the person does into Telegram
// updates through the demo API. No framework, no build step.
'use strict';

const TEXTS = {
  ru: {
    subtitle: 'демо: без Telegram, с настоящим ботом',
    notice: 'Это демо. Telegram и распознавание речи здесь поддельные: бот и воркеры настоящие, ' +
      'но вместо расшифровки вы увидите условный текст. ',
    sample: 'Отправить пример записи',
    placeholder: 'Сообщение или /команда; подпись к фото',
    attach: 'Прикрепить файл: аудио, видео, фото',
    record: 'Записать голосовое',
    stop: 'Остановить и отправить',
    send: 'Отправить',
    edited: 'изменено',
    voice: 'Голосовое сообщение',
    noMicrophone: 'Микрофон недоступен (нужен localhost или https) — прикрепите файл.',
    failed: 'Не отправлено: ',
    other: 'Открывается в Telegram',
    language: 'EN',
    start: 'Начать',
  },
  en: {
    subtitle: 'demo: no Telegram, the real bot',
    notice: 'This is a demo. Telegram and speech recognition are fakes here: the bot and workers are real, ' +
      'but instead of a transcript you will see placeholder text. ',
    sample: 'Send a sample recording',
    placeholder: 'Message or /command; caption for a photo',
    attach: 'Attach a file: audio, video, photo',
    record: 'Record a voice message',
    stop: 'Stop and send',
    send: 'Send',
    edited: 'edited',
    voice: 'Voice message',
    noMicrophone: 'No microphone here (it needs localhost or https): attach a file instead.',
    failed: 'Not sent: ',
    other: 'Opens in Telegram',
    language: 'RU',
    start: 'Start',
  },
};

const $ = (id) => document.getElementById(id);
const chat = $('chat');
let language = 'ru';
const drawn = new Map(); // "from:id" -> { json, node }
const seenNotices = new Set();
let firstLoad = true;

const t = (key) => TEXTS[language][key] || key;

function applyTexts() {
  document.documentElement.lang = language;
  document.querySelectorAll('[data-t]').forEach((el) => { el.textContent = t(el.dataset.t); });
  document.querySelectorAll('[data-title]').forEach((el) => { el.title = t(el.dataset.title); el.setAttribute('aria-label', el.title); });
  document.querySelectorAll('[data-placeholder]').forEach((el) => { el.placeholder = t(el.dataset.placeholder); });
  $('language').textContent = t('language');
}

function toast(text) {
  const box = $('toast');
  box.textContent = text;
  box.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { box.hidden = true; }, 4000);
}

async function api(path, options) {
  const response = await fetch(`/demo/api/${path}`, options);
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.error || response.statusText);
  return body;
}

const postJson = (path, body) =>
  api(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

// --- Drawing -----------------------------------------------------------------

const safeUrl = (url) => (/^(https?:|tg:)/i.test(url || '') ? url : null);

// Telegram text with entities (offsets in UTF-16 units, as JavaScript strings count).
function richText(text, entities) {
  const out = document.createDocumentFragment();
  if (!text) return out;
  const cuts = new Set([0, text.length]);
  for (const e of entities) { cuts.add(e.offset); cuts.add(e.offset + e.length); }
  const points = [...cuts].filter((p) => p >= 0 && p <= text.length).sort((a, b) => a - b);
  for (let i = 0; i + 1 < points.length; i += 1) {
    const [from, to] = [points[i], points[i + 1]];
    let node = document.createTextNode(text.slice(from, to));
    for (const e of entities) {
      if (e.offset <= from && e.offset + e.length >= to) node = wrap(node, e, text.slice(e.offset, e.offset + e.length));
    }
    out.append(node);
  }
  return out;
}

function wrap(node, entity, whole) {
  const tags = { bold: 'b', italic: 'i', underline: 'u', strikethrough: 's', code: 'code', pre: 'code' };
  let el;
  if (tags[entity.type]) {
    el = document.createElement(tags[entity.type]);
  } else if (entity.type === 'text_link' || entity.type === 'url') {
    const href = safeUrl(entity.type === 'url' ? whole : entity.url);
    if (!href) return node;
    el = document.createElement('a');
    el.href = href;
    el.target = '_blank';
    el.rel = 'noopener';
  } else if (entity.type === 'spoiler') {
    el = document.createElement('span');
    el.className = 'spoiler';
    el.onclick = () => el.classList.add('shown');
  } else if (entity.type === 'blockquote' || entity.type === 'expandable_blockquote') {
    el = document.createElement('span');
    el.className = 'quote';
  } else if (entity.type === 'bot_command') {
    // As in Telegram, tapping a command sends it.
    el = document.createElement('span');
    el.className = 'command';
    el.onclick = () => sendText(whole);
  } else {
    return node;
  }
  el.append(node);
  return el;
}

// Small line icons: the page must not depend on an emoji font being installed.
const ICONS = {
  mic: 'M9 6a3 3 0 0 1 6 0v5a3 3 0 0 1-6 0zM5 11a7 7 0 0 0 14 0M12 18v3M8 21h8',
  note: 'M9 18V5l11-2v13M9 18a3 3 0 1 1-6 0a3 3 0 0 1 6 0zM20 16a3 3 0 1 1-6 0a3 3 0 0 1 6 0z',
  file: 'M6 2h8l4 4v16H6zM14 2v4h4',
};

function icon(name) {
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('class', 'icon-inline');
  svg.setAttribute('aria-hidden', 'true');
  const path = document.createElementNS('http://www.w3.org/2000/svg', 'path');
  path.setAttribute('d', ICONS[name]);
  svg.append(path);
  return svg;
}

function fileUrl(file) {
  return `/demo/api/files/${encodeURIComponent(file.id)}`;
}

function attachment(message) {
  const file = message.file;
  if (!file) return null;
  const mime = file.mime_type || '';
  if (message.kind === 'photo') {
    const img = document.createElement('img');
    img.src = fileUrl(file);
    img.alt = message.text || '';
    return img;
  }
  if (message.from === 'user' && (mime.startsWith('audio/') || message.kind === 'voice')) {
    const box = document.createElement('div');
    const label = document.createElement('div');
    label.className = 'file';
    label.append(icon(message.kind === 'voice' ? 'mic' : 'note'), message.kind === 'voice' ? t('voice') : file.name || '');
    const audio = document.createElement('audio');
    audio.controls = true;
    audio.src = fileUrl(file);
    box.append(label, audio);
    return box;
  }
  if (message.from === 'user' && mime.startsWith('video/')) {
    const video = document.createElement('video');
    video.controls = true;
    video.src = fileUrl(file);
    return video;
  }
  const link = document.createElement('a');
  link.className = 'file document';
  link.href = fileUrl(file);
  link.download = file.name || 'file';
  link.append(icon('file'), file.name || 'file');
  return link;
}

function keyboard(message) {
  if (!message.keyboard || message.keyboard.length === 0) return null;
  const box = document.createElement('div');
  box.className = 'keyboard';
  for (const row of message.keyboard) {
    const line = document.createElement('div');
    line.className = 'row';
    for (const button of row) {
      let el;
      if (button.data !== undefined) {
        el = document.createElement('button');
        el.type = 'button';
        el.dataset.callback = button.data;
        el.onclick = () => press(message.id, button.data);
      } else if (!button.other && safeUrl(button.url)) {
        el = document.createElement('a');
        el.href = button.url;
        el.target = '_blank';
        el.rel = 'noopener';
      } else {
        el = document.createElement('button');
        el.type = 'button';
        el.disabled = true;
        el.title = t('other');
      }
      el.textContent = button.text;
      line.append(el);
    }
    box.append(line);
  }
  return box;
}

function bubble(message) {
  const node = document.createElement('div');
  node.className = `msg ${message.from} ${message.kind}`;
  node.dataset.id = message.id;
  const media = attachment(message);
  if (media) node.append(media);
  if (message.invoice) {
    const title = document.createElement('b');
    title.textContent = message.invoice.title;
    node.append(title, document.createTextNode(`\n${message.invoice.description}`));
  }
  if (message.text) {
    const body = document.createElement('div');
    body.className = 'text';
    body.append(richText(message.text, message.entities || []));
    node.append(body);
  }
  if (message.edited) {
    const meta = document.createElement('span');
    meta.className = 'meta';
    meta.textContent = t('edited');
    node.append(meta);
  }
  const keys = keyboard(message);
  if (keys) node.append(keys);
  return node;
}

function draw(state) {
  if (state.user.language !== language) {
    language = state.user.language;
    applyTexts();
    drawn.forEach((entry) => { entry.json = ''; }); // redraw with the new words
  }
  $('bot-name').textContent = `@${state.bot.username}`;
  const nearBottom = chat.scrollHeight - chat.scrollTop - chat.clientHeight < 80;
  const keep = new Set();
  let previous = null;
  for (const message of state.messages) {
    const key = `${message.from}:${message.id}`;
    const json = JSON.stringify(message);
    keep.add(key);
    let entry = drawn.get(key);
    if (!entry || entry.json !== json) {
      const node = bubble(message);
      if (entry) entry.node.replaceWith(node);
      entry = { json, node };
      drawn.set(key, entry);
    }
    const expected = previous ? previous.nextSibling : chat.firstChild;
    if (expected !== entry.node) chat.insertBefore(entry.node, expected);
    previous = entry.node;
  }
  for (const [key, entry] of drawn) {
    if (!keep.has(key)) { entry.node.remove(); drawn.delete(key); }
  }
  for (const notice of state.notices) {
    if (!seenNotices.has(notice.id)) {
      seenNotices.add(notice.id);
      if (!firstLoad) toast(notice.text);
    }
  }
  // A new chat shows Telegram's Start button, which sends /start.
  $('start').hidden = state.messages.length > 0;
  firstLoad = false;
  if (nearBottom) chat.scrollTop = chat.scrollHeight;
}

async function refresh() {
  try {
    draw(await api('chat'));
  } catch (err) {
    console.warn('refresh failed', err);
  }
}

// --- Sending -----------------------------------------------------------------

async function attempt(action) {
  try {
    await action();
  } catch (err) {
    toast(t('failed') + err.message);
  }
  await refresh();
  chat.scrollTop = chat.scrollHeight;
}

const sendText = (text) => attempt(() => postJson('text', { text }));
const press = (messageId, data) => attempt(() => postJson('press', { message_id: messageId, data }));

function sendFile(blob, name, kind, extra = {}) {
  const form = new FormData();
  form.append('kind', kind);
  for (const [key, value] of Object.entries(extra)) form.append(key, value);
  form.append('file', blob, name);
  return attempt(() => api('media', { method: 'POST', body: form }));
}

$('composer').addEventListener('submit', (event) => {
  event.preventDefault();
  const input = $('text');
  const text = input.value.trim();
  if (!text) return;
  input.value = '';
  sendText(text);
});

$('start').addEventListener('click', () => sendText('/start'));

$('attach').addEventListener('click', () => $('file').click());

// A chosen file goes at once, with what is typed as its caption (photos, videos).
$('file').addEventListener('change', () => {
  const picker = $('file');
  const file = picker.files[0];
  if (!file) return;
  const caption = $('text').value.trim();
  $('text').value = '';
  picker.value = '';
  sendFile(file, file.name, 'file', caption ? { caption } : {});
});

$('sample').addEventListener('click', async () => {
  const response = await fetch('/demo/sample.wav');
  sendFile(await response.blob(), 'sample.wav', 'file');
});

$('language').addEventListener('click', () =>
  attempt(() => postJson('language', { language: language === 'ru' ? 'en' : 'ru' })));

// Voice: MediaRecorder in Ogg/Opus where the browser can, else WebM/Opus.
let recorder = null;
$('record').addEventListener('click', async () => {
  const button = $('record');
  if (recorder) {
    recorder.stop();
    return;
  }
  if (!navigator.mediaDevices || !window.MediaRecorder) {
    toast(t('noMicrophone'));
    return;
  }
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  } catch (err) {
    toast(t('noMicrophone'));
    return;
  }
  const mimeType = ['audio/ogg;codecs=opus', 'audio/webm;codecs=opus', 'audio/webm']
    .find((type) => MediaRecorder.isTypeSupported(type)) || '';
  recorder = new MediaRecorder(stream, mimeType ? { mimeType } : {});
  const chunks = [];
  const started = performance.now();
  recorder.ondataavailable = (event) => chunks.push(event.data);
  recorder.onstop = () => {
    stream.getTracks().forEach((track) => track.stop());
    const type = (recorder.mimeType || mimeType || 'audio/webm').split(';')[0];
    const seconds = (performance.now() - started) / 1000;
    recorder = null;
    button.classList.remove('recording');
    button.title = t('record');
    const name = type === 'audio/ogg' ? 'voice.ogg' : 'voice.webm';
    sendFile(new Blob(chunks, { type }), name, 'voice', { duration: seconds.toFixed(2) });
  };
  recorder.start();
  button.classList.add('recording');
  button.title = t('stop');
});

applyTexts();
refresh();
setInterval(refresh, 700);
