// Small helpers shared by the dashboard (/) and the demo (/demo.html): DOM building, number formatting, the demand
// window drawing, the dashboard feed over SignalR (/hubs/dashboard) and a throughput chart (uPlot).
// Event data is only ever put in the page as text (textContent), never as HTML.

/** Creates an element: el('td', { class: 'num', dataset: { id } }, 'text', childNode). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null) continue;
    if (name === 'dataset') Object.assign(node.dataset, value);
    else if (name === 'class') node.className = value;
    else if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value);
  }
  for (const child of children) {
    if (child !== undefined && child !== null) node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const compact = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 });

/** 1234567 → "1,234,567". */
export const formatCount = n => integer.format(n);

/** Events per second, compact past ten thousand: 12345.6 → "12.3K". */
export const formatRate = n => (n >= 10000 ? compact.format(n) : integer.format(n));

/**
 * Draws a demand window into `container` (created on first use, updated after): the filled part is the credits held
 * out of `max`, an orange part the events written but not yet taken by the socket (`buffered`), the tick `min`.
 * The element carries data-credits/data-max so tests and tools can read what is drawn.
 */
export function renderWindow(container, { credits, max, min, buffered = 0 }) {
  let bar = container.querySelector('.window');
  if (!bar) {
    bar = el('span', { class: 'window', role: 'meter', 'aria-valuemin': 0 },
      el('span', { class: 'credits' }), el('span', { class: 'buffered' }), el('span', { class: 'min' }));
    container.append(bar, el('span', { class: 'window-text' }));
  }
  const pct = v => `${Math.max(0, Math.min(100, (100 * v) / Math.max(1, max)))}%`;
  bar.dataset.credits = String(credits);
  bar.dataset.max = String(max);
  bar.setAttribute('aria-valuemax', String(max));
  bar.setAttribute('aria-valuenow', String(credits));
  bar.title = `${credits} credits of ${max}; asks again at ${min} or fewer`;
  bar.querySelector('.credits').style.width = pct(credits);
  const b = bar.querySelector('.buffered');
  b.style.left = pct(credits);
  b.style.width = pct(buffered);
  bar.querySelector('.min').style.left = pct(min);
  container.querySelector('.window-text').textContent = `${formatCount(credits)}/${formatCount(max)}`;
}

/** Shows a connection state ('connected', 'reconnecting', …) in a `.status` element. */
export function showState(node, state) {
  node.dataset.state = state;
  node.textContent = state;
}

/**
 * Watches the hub's dashboard feed: calls `onHistory(points)` once per connection and `onSnapshot(snapshot)` for each
 * pushed snapshot (about once a second). Reconnects by itself. Returns { stop }.
 */
export function watchDashboard({ onSnapshot, onHistory, onState = () => {}, accessTokenFactory }) {
  const signalR = globalThis.signalR;
  const connection = new signalR.HubConnectionBuilder()
    .withUrl('/hubs/dashboard', accessTokenFactory ? { accessTokenFactory } : {})
    .withAutomaticReconnect({ nextRetryDelayInMilliseconds: ctx => Math.min(10000, 500 * 2 ** Math.min(ctx.previousRetryCount, 5)) })
    .configureLogging(signalR.LogLevel.Warning)
    .build();
  let stream = null;
  let stopped = false;

  const watch = async () => {
    if (onHistory) onHistory(await connection.invoke('History'));
    stream = connection.stream('Watch').subscribe({
      next: onSnapshot,
      error: err => console.warn('dashboard feed ended:', err),
      complete: () => {},
    });
  };
  const start = async () => {
    while (!stopped) {
      try {
        onState('connecting');
        await connection.start();
        onState('connected');
        await watch();
        return;
      } catch (err) {
        onState('disconnected');
        await new Promise(r => setTimeout(r, 2000));
      }
    }
  };
  connection.onreconnecting(() => onState('reconnecting'));
  connection.onreconnected(() => { onState('connected'); watch().catch(err => console.warn(err)); });
  connection.onclose(() => { onState('disconnected'); if (!stopped) start(); });
  start();
  return {
    stop: async () => { stopped = true; stream?.dispose(); await connection.stop(); },
  };
}

const clock = seconds => new Date(seconds * 1000).toLocaleTimeString('en-GB', { hour12: false });

/**
 * A throughput chart (uPlot) over the last `seconds`, one line per series, resizing with its container.
 * `push(timeSeconds, [v1, v2, …])` adds a point.
 */
export class RateChart {
  constructor(container, series, { seconds = 300, height = 220 } = {}) {
    this.seconds = seconds;
    this.data = [[], ...series.map(() => [])];
    const palette = ['#2f6fde', '#1f9d55', '#d97706', '#9333ea', '#0891b2', '#c53030', '#4d7c0f', '#be185d'];
    const opts = {
      width: Math.max(200, container.clientWidth),
      height,
      legend: { live: false },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true }, y: { range: (u, min, max) => [0, Math.max(10, max * 1.1)] } },
      axes: [
        { stroke: getComputedStyle(document.body).color, space: 90, incrs: [1, 2, 5, 10, 15, 30, 60, 120, 300], values: (u, vals) => vals.map(clock) },
        { stroke: getComputedStyle(document.body).color, size: 60, values: (u, vals) => vals.map(formatRate) },
      ],
      series: [{}, ...series.map((label, i) => ({ label, stroke: palette[i % palette.length], width: 2, value: (u, v) => (v == null ? '–' : `${formatRate(v)}/s`) }))],
    };
    this.plot = new globalThis.uPlot(opts, this.data, container);
    new ResizeObserver(() => this.plot.setSize({ width: Math.max(200, container.clientWidth), height })).observe(container);
  }

  push(timeSeconds, values) {
    this.data[0].push(timeSeconds);
    values.forEach((v, i) => this.data[i + 1].push(v));
    while (this.data[0].length && this.data[0][0] < timeSeconds - this.seconds) this.data.forEach(col => col.shift());
    this.plot.setData(this.data);
  }
}
