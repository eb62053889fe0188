// The dashboard at /: everything on it arrives over SignalR. Figures come from the hub's dashboard feed
// (/hubs/dashboard, pushed once a second); the live tail is a real subscription through /js/hub-client.js.
import { HubClient } from './hub-client.js';
import { el, formatCount, formatRate, renderWindow, showState, watchDashboard, RateChart } from './ui.js';

const $ = id => document.getElementById(id);

// Credentials: GET /api/info says whether the hub asks for them. With "None" (development) a banner says so; with
// "Required" the page needs a token holding the admin grant, kept for this tab only (sessionStorage).
const TokenKey = 'hub-token';
const token = () => sessionStorage.getItem(TokenKey) ?? '';
const authHeaders = () => (token() ? { Authorization: `Bearer ${token()}` } : {});
const accessTokenFactory = () => token();
const info = await fetch('/api/info').then(r => (r.ok ? r.json() : null)).catch(() => null);
const banner = $('auth-banner');
banner.dataset.authMode = info?.authMode ?? 'unknown';
if (info?.authMode === 'None') {
  banner.append(el('b', {}, 'Development mode: '), 'Hub:Auth:Mode is None, so anyone who can reach this hub may publish, read and subscribe to every topic and use this dashboard. Do not expose it; set Hub:Auth:Mode to Required.');
  banner.hidden = false;
} else if (info?.authMode === 'Required' && !token()) {
  const input = el('input', { type: 'password', placeholder: 'token with hub:admin', 'aria-label': 'Admin token' });
  banner.append('This hub requires credentials. ', el('form', { class: 'inline', onsubmit: e => { e.preventDefault(); sessionStorage.setItem(TokenKey, input.value.trim()); location.reload(); } },
    input, el('button', { type: 'submit' }, 'Use token')));
  banner.hidden = false;
}
const chart = new RateChart($('chart'), ['published/s', 'delivered/s']);
let lastPoint = 0;

function addPoint(time, published, delivered) {
  const t = Date.parse(time) / 1000;
  if (t <= lastPoint) return;
  lastPoint = t;
  chart.push(t, [published, delivered]);
}

function renderSubscriptions(snapshot) {
  const body = $('subscriptions').tBodies[0];
  const rows = new Map([...body.rows].map(r => [r.dataset.subscriptionId, r]));
  const keep = new Set();
  snapshot.subscriptions.forEach((s, index) => {
    keep.add(s.id);
    let row = rows.get(s.id);
    if (!row) {
      row = el('tr', { dataset: { subscriptionId: s.id } },
        el('td', { class: 'id', title: `connection ${s.connectionId}, id on it ${s.subscriptionId}` }, s.id),
        el('td', {}, s.topics.join(' ') + (s.types ? ` [${s.types.join(', ')}]` : '')),
        el('td', { class: 'kind' }, s.kind === 'handler' ? `in-process handler · ${s.demand}` : s.group ? `${s.demand} · group ${s.group} (${s.dispatch})` : `${s.demand} · ${s.overflow}`),
        el('td', { class: 'window-cell' }),
        el('td', { class: 'num lag' }),
        el('td', { class: 'num delivered' }),
        el('td', { class: 'num in-flight' }),
        el('td', { class: 'num dropped' }),
        el('td', {}, el('button', { class: 'danger', type: 'button', title: 'End this subscription (its client is told with ended)', onclick: () => endSubscription(s.id) }, 'End')));
    }
    renderWindow(row.querySelector('.window-cell'), { credits: s.credits, max: s.maxDemand, min: s.minDemand, buffered: s.buffered });
    row.querySelector('.lag').textContent = formatCount(s.lag);
    row.querySelector('.delivered').textContent = formatCount(s.delivered);
    row.querySelector('.dropped').textContent = formatCount(s.dropped);
    row.querySelector('.in-flight').textContent = s.group ? formatCount(s.inFlight) : '–';
    row.classList.toggle('lagging', s.lag > s.maxDemand);
    if (body.rows[index] !== row) body.insertBefore(row, body.rows[index] ?? null);
  });
  for (const [id, row] of rows) if (!keep.has(id)) row.remove();
  $('subscriptions-empty').hidden = snapshot.subscriptions.length > 0;
}

function renderGroups(snapshot) {
  const body = $('groups').tBodies[0];
  body.replaceChildren(...snapshot.groups.map(g =>
    el('tr', { dataset: { group: g.name } },
      el('td', {}, g.name),
      el('td', {}, g.topics.join(' ')),
      el('td', {}, g.dispatch),
      el('td', { class: 'num' }, formatCount(g.members.length)),
      el('td', { class: 'num' }, formatCount(g.position)),
      el('td', { class: 'num' }, formatCount(g.lag)),
      el('td', { class: 'num' }, formatCount(g.queued)),
      el('td', { class: 'num' }, formatCount(g.inFlight)))));
  $('groups-empty').hidden = snapshot.groups.length > 0;
}

function renderTopics(snapshot) {
  const body = $('topics').tBodies[0];
  body.replaceChildren(...snapshot.topics.map(t =>
    el('tr', { dataset: { topic: t.topic } }, el('td', {}, t.topic), el('td', { class: 'num' }, formatCount(t.count)), el('td', { class: 'num' }, formatCount(t.lastSequence)))));
  $('topics-empty').hidden = snapshot.topics.length > 0;
  $('topic-count').textContent = snapshot.topicCount > snapshot.topics.length ? `(${snapshot.topics.length} of ${formatCount(snapshot.topicCount)})` : '';
}

function render(snapshot) {
  $('head').textContent = formatCount(snapshot.head);
  $('first-retained').textContent = formatCount(snapshot.firstRetained);
  $('published-rate').textContent = formatRate(snapshot.publishedPerSecond);
  $('delivered-rate').textContent = formatRate(snapshot.deliveredPerSecond);
  $('subscription-count').textContent = formatCount(snapshot.subscriptionCount);
  $('connection-count').textContent = formatCount(snapshot.connections);
  $('published-total').textContent = formatCount(snapshot.published);
  $('dropped-total').textContent = formatCount(snapshot.dropped);
  addPoint(snapshot.time, snapshot.publishedPerSecond, snapshot.deliveredPerSecond);
  renderSubscriptions(snapshot);
  renderGroups(snapshot);
  renderTopics(snapshot);
}

async function endSubscription(id) {
  const response = await fetch(`/api/subscriptions/${encodeURIComponent(id)}`, { method: 'DELETE', headers: authHeaders() });
  if (!response.ok && response.status !== 404) alert(`Could not end ${id}: HTTP ${response.status}`);
}

if (info?.authMode === 'Required' && !token()) {
  showState($('feed-state'), 'needs a token');
} else {
  watchDashboard({
    onSnapshot: render,
    onHistory: points => points.forEach(p => addPoint(p.time, p.publishedPerSecond, p.deliveredPerSecond)),
    onState: state => showState($('feed-state'), state),
    accessTokenFactory: token() ? accessTokenFactory : undefined,
  });
}

// Live tail: a subscription with a small window; the list keeps the newest 200 lines.
const TailLimit = 200;
let tailClient = null;
let tailSubscription = null;

function tailLine(className, ...parts) {
  const list = $('tail');
  list.prepend(el('li', { class: className }, ...parts));
  while (list.children.length > TailLimit) list.lastElementChild.remove();
}

$('tail-form').addEventListener('submit', async e => {
  e.preventDefault();
  const pattern = $('tail-pattern').value.trim();
  $('tail-start').disabled = true;
  try {
    if (!tailClient) {
      const client = new HubClient({ url: '/hubs/events', accessTokenFactory: token() ? accessTokenFactory : undefined });
      client.onStateChange(state => { $('tail-state').textContent = state; });
      await client.start();
      tailClient = client;
    }
    await tailSubscription?.unsubscribe();
    tailSubscription = await tailClient.subscribe({ topics: [pattern], after: null, maxDemand: 100 }, event => {
      tailLine('event', el('span', { class: 'seq' }, `#${event.sequence}`), `${event.topic}${event.type ? ` ${event.type}` : ''} `, JSON.stringify(event.data ?? null));
    }, {
      onGap: gap => tailLine('notice', `gap ${gap.from}–${gap.to} (${gap.reason})`),
      onEnded: info => { tailLine('notice', `ended: ${info.reason}`); stopTail(false); },
    });
    $('tail').dataset.subscriptionId = tailSubscription.id;
    $('tail-state').textContent = `tailing ${pattern}`;
    $('tail-stop').disabled = false;
  } catch (err) {
    $('tail-state').textContent = `could not subscribe: ${err.message ?? err}`;
    $('tail-start').disabled = false;
  }
});

async function stopTail(unsubscribe = true) {
  const sub = tailSubscription;
  tailSubscription = null;
  if (unsubscribe) await sub?.unsubscribe().catch(() => {});
  delete $('tail').dataset.subscriptionId;
  $('tail-start').disabled = false;
  $('tail-stop').disabled = true;
  $('tail-state').textContent = 'stopped';
}
$('tail-stop').addEventListener('click', () => stopTail());

// Publish a test event over REST and show the answer (a sequence, or the problem the hub named).
$('publish-form').addEventListener('submit', async e => {
  e.preventDefault();
  const out = $('publish-result');
  out.classList.remove('error');
  let data;
  try {
    data = JSON.parse($('publish-data').value || 'null');
  } catch (err) {
    out.classList.add('error');
    out.textContent = `data: not valid JSON (${err.message})`;
    return;
  }
  const event = { topic: $('publish-topic').value.trim(), data };
  const type = $('publish-type').value.trim();
  if (type) event.type = type;
  const response = await fetch('/api/events', { method: 'POST', headers: { 'Content-Type': 'application/json', ...authHeaders() }, body: JSON.stringify(event) });
  const body = await response.json().catch(() => null);
  if (response.ok) {
    out.textContent = `published as #${body.events[0].sequence}${body.events[0].duplicate ? ' (duplicate)' : ''}`;
  } else {
    out.classList.add('error');
    const errors = body?.errors ? Object.entries(body.errors).map(([k, v]) => `${k}: ${v.join('; ')}`).join('\n') : body?.detail ?? '';
    out.textContent = `${response.status} ${body?.title ?? response.statusText}\n${errors}`;
  }
});

// The page's handlers are in place (tests wait for this before using the forms).
document.body.dataset.ready = 'true';
