// The slow-subscriber demo (/demo.html): a publisher POSTing at a fixed rate, and fast and slow subscribers, each on its
// own connection through /js/hub-client.js. Query parameters preset and start it, e.g.
//   /demo.html?rate=500&fast=3&slow=1&delay=25&max=100&autostart=1
//   /demo.html?fast=1&slow=0&publish=0&topic=demo.shared&autostart=1   (subscribe only; another page or a test publishes)
// The page's state is readable as window.hubDemo (used by the browser tests).
import { HubClient } from './hub-client.js';

// With Hub:Auth:Mode Required, the demo uses the token the dashboard keeps for this tab (it needs hub:sub and hub:pub
// for the demo's topic).
const token = sessionStorage.getItem('hub-token') ?? '';
const authHeaders = token ? { Authorization: `Bearer ${token}` } : {};
import { el, formatCount, formatRate, renderWindow, showState, RateChart } from './ui.js';

const $ = id => document.getElementById(id);
const params = new URLSearchParams(location.search);
for (const [param, input] of [['rate', 'rate'], ['fast', 'fast'], ['slow', 'slow'], ['delay', 'delay'], ['max', 'max-demand']]) {
  if (params.has(param)) $(input).value = params.get(param);
}
const publishing = params.get('publish') !== '0';

const state = { running: false, topic: null, published: 0, postLatencies: [], subscribers: [], errors: [] };
window.hubDemo = state;
window.addEventListener('error', e => state.errors.push(String(e.message)));

let chart = null;
let timers = [];
const sleep = ms => new Promise(r => setTimeout(r, ms));
const median = values => (values.length ? [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] : 0);

class DemoSubscriber {
  constructor(name, slowDelay, maxDemand) {
    Object.assign(this, { name, slowDelay, maxDemand, handled: 0, duplicates: 0, lastSequence: null, latencies: [], rate: 0, lastCount: 0, gaps: 0, ended: null });
    this.client = new HubClient({ url: '/hubs/events', accessTokenFactory: token ? () => token : undefined });
    this.card = el('article', { class: `subscriber${slowDelay ? ' slow' : ''}`, dataset: { name } },
      el('h3', {}, el('span', {}, name), el('span', { class: 'status', dataset: { state: 'connecting' } }, 'connecting')),
      el('dl', {},
        el('dt', {}, 'handled'), el('dd', { class: 'handled' }, '0'),
        el('dt', {}, 'handled/s'), el('dd', { class: 'rate' }, '–'),
        el('dt', {}, 'lag (published − handled)'), el('dd', { class: 'lag' }, '0'),
        el('dt', {}, 'publish→handle p50'), el('dd', { class: 'latency' }, '–'),
        el('dt', {}, 'window'), el('dd', { class: 'window-cell' })));
    this.client.onStateChange(s => showState(this.card.querySelector('.status'), s));
  }

  get lag() { return Math.max(0, state.published - this.handled); }

  async start(topic) {
    await this.client.start();
    this.subscription = await this.client.subscribe({ topics: [topic], after: null, maxDemand: this.maxDemand }, async event => {
      if (this.slowDelay) await sleep(this.slowDelay);
      if (this.lastSequence !== null && event.sequence <= this.lastSequence) this.duplicates++;
      this.handled++;
      this.lastSequence = event.sequence;
      if (event.data?.t) {
        this.latencies.push(Date.now() - event.data.t);
        if (this.latencies.length > 500) this.latencies.shift();
      }
    }, {
      onGap: () => { this.gaps++; },
      onEnded: info => { this.ended = info.reason; },
    });
  }

  tick(seconds) {
    this.rate = (this.handled - this.lastCount) / seconds;
    this.lastCount = this.handled;
    const q = s => this.card.querySelector(s);
    q('.handled').textContent = formatCount(this.handled);
    q('.rate').textContent = formatRate(this.rate);
    q('.lag').textContent = formatCount(this.lag);
    q('.latency').textContent = this.latencies.length ? `${median(this.latencies)} ms` : '–';
    const sub = this.subscription;
    if (sub) renderWindow(q('.window-cell'), { credits: sub.credits, max: this.maxDemand, min: Math.floor(this.maxDemand / 2), buffered: sub.queued });
  }

  // What the tests read.
  toJSON() {
    return { name: this.name, slow: this.slowDelay > 0, handled: this.handled, duplicates: this.duplicates, lastSequence: this.lastSequence, lag: this.lag, rate: this.rate, gaps: this.gaps, ended: this.ended, subscriptionId: this.subscription?.id ?? null };
  }

  stop() { return this.client.stop(); }
}

async function publishLoop(topic, rate) {
  // Ten batches a second; a batch that takes longer than its slot delays the next, so the rate shown is the real one.
  const perBatch = Math.max(1, Math.round(rate / 10));
  let n = 0;
  while (state.running) {
    const slot = Date.now() + 100;
    const batch = Array.from({ length: perBatch }, () => ({ topic, type: 'demo.tick', data: { n: n++, t: Date.now() } }));
    const started = performance.now();
    const response = await fetch('/api/events', { method: 'POST', headers: { 'Content-Type': 'application/json', ...authHeaders }, body: JSON.stringify(batch) });
    if (!response.ok) {
      state.errors.push(`POST ${response.status}`);
      await sleep(1000);
      continue;
    }
    state.postLatencies.push(performance.now() - started);
    if (state.postLatencies.length > 200) state.postLatencies.shift();
    state.published += perBatch;
    await sleep(Math.max(0, slot - Date.now()));
  }
}

async function start() {
  $('start').disabled = true;
  const rate = Number($('rate').value);
  const maxDemand = Number($('max-demand').value);
  const delay = Number($('delay').value);
  state.topic = params.get('topic') ?? `demo.run-${Math.random().toString(36).slice(2, 8)}`;
  state.published = 0;
  state.postLatencies = [];
  $('topic').textContent = state.topic;
  const fast = Array.from({ length: Number($('fast').value) }, (_, i) => new DemoSubscriber(`fast ${i + 1}`, 0, maxDemand));
  const slow = Array.from({ length: Number($('slow').value) }, (_, i) => new DemoSubscriber(`slow ${i + 1} (${delay} ms/event)`, delay, maxDemand));
  state.subscribers = [...fast, ...slow];
  $('subscribers').replaceChildren(...state.subscribers.map(s => s.card));
  $('chart').replaceChildren();
  chart = new RateChart($('chart'), ['published', ...state.subscribers.map(s => s.name)], { seconds: 120 });
  await Promise.all(state.subscribers.map(s => s.start(state.topic)));

  state.running = true;
  showState($('run-state'), 'running');
  $('stop').disabled = false;
  if (publishing) publishLoop(state.topic, rate).catch(err => state.errors.push(String(err)));
  let lastPublished = 0;
  let last = performance.now();
  timers.push(setInterval(() => {
    const now = performance.now();
    const seconds = (now - last) / 1000;
    last = now;
    const publishRate = (state.published - lastPublished) / seconds;
    lastPublished = state.published;
    state.subscribers.forEach(s => s.tick(seconds));
    $('published').textContent = formatCount(state.published);
    $('publish-rate').textContent = formatRate(publishRate);
    $('post-latency').textContent = state.postLatencies.length ? `${median(state.postLatencies).toFixed(1)} ms` : '–';
    chart.push(Date.now() / 1000, [publishRate, ...state.subscribers.map(s => s.rate)]);
  }, 1000));
}

async function stop() {
  state.running = false;
  timers.forEach(clearInterval);
  timers = [];
  await Promise.all(state.subscribers.map(s => s.stop()));
  showState($('run-state'), 'disconnected');
  $('run-state').textContent = 'stopped';
  $('start').disabled = false;
  $('stop').disabled = true;
}

$('controls').addEventListener('submit', e => { e.preventDefault(); start().catch(err => { state.errors.push(String(err)); $('start').disabled = false; }); });
$('stop').addEventListener('click', () => stop());
document.body.dataset.ready = 'true';
if (params.get('autostart') === '1') start().catch(err => state.errors.push(String(err)));
