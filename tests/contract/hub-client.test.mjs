// The official browser client (wwwroot/js/hub-client.js), run in Node against a real hub process: demand, order,
// gaps, ends, and resuming after a network drop and after a restart of the hub.
import { test, before, after } from 'node:test';
import { readFileSync } from 'node:fs';
import assert from 'node:assert/strict';
import * as signalR from '@microsoft/signalr';
import { HubClient, backoffDelay } from '../../wwwroot/js/hub-client.js';
import { startHub, until } from './hub-process.mjs';
import { TcpProxy } from './tcp-proxy.mjs';

let hub;
const cleanups = [];
before(async () => { hub = await startHub(); });
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  await hub?.stop();
});

let topicCount = 0;
const uniqueTopic = (name) => `client${++topicCount}.${name}`;

async function publish(baseUrl, events) {
  const sequences = [];
  for (let i = 0; i < events.length; i += 1000) {
    const response = await fetch(`${baseUrl}/api/events`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(events.slice(i, i + 1000)),
    });
    assert.equal(response.status, 202, await response.clone().text());
    sequences.push(...(await response.json()).events.map((e) => e.sequence));
  }
  return sequences;
}

const many = (topic, count, from = 0) => Array.from({ length: count }, (_, i) => ({ topic, type: 't', data: { n: from + i } }));

/** GET /api/subscriptions; or the one subscription `id` (the id the client chose, unique on its connection) of a
 * client (or a connection id). */
async function serverView(baseUrl, client, id) {
  const list = await (await fetch(`${baseUrl}/api/subscriptions`)).json();
  if (client === undefined) return list;
  const connectionId = typeof client === 'string' ? client : client.connection.connectionId;
  return list.find((s) => s.connectionId === connectionId && s.subscriptionId === id);
}

/** A started client, stopped after the test file. */
async function connect(url, options = {}) {
  // SignalR's own log stays quiet: these tests break connections on purpose.
  const client = new HubClient({ url: `${url}/hubs/events`, signalR, reconnect: { initialDelayMs: 50, maxDelayMs: 400 },
    logLevel: signalR.LogLevel.None, ...options });
  cleanups.push(() => client.stop());
  await client.start();
  return client;
}

/** Records the client's own invocations of one hub method, e.g. the credits it asks for. */
function recordInvocations(client, method) {
  const calls = [];
  const connection = client.connection;
  const invoke = connection.invoke.bind(connection);
  connection.invoke = (name, ...args) => {
    if (name === method) calls.push(args);
    return invoke(name, ...args);
  };
  return calls;
}

/** A turnstile for handlers: each wait() passes once a permit is available; release(n) adds n, open() lets all pass. */
function turnstile() {
  let permits = 0;
  let opened = false;
  const waiting = [];
  const pump = () => { while ((opened || permits > 0) && waiting.length > 0) { if (!opened) permits--; waiting.shift()(); } };
  return {
    wait: () => new Promise((resolve) => { waiting.push(resolve); pump(); }),
    release(n) { permits += n; pump(); },
    open() { opened = true; pump(); },
    get waiting() { return waiting.length; },
  };
}

/** Samples a subscription's server-side credits until stopped; returns the largest seen. */
function watchCredits(baseUrl, client, getId) {
  let max = 0;
  let running = true;
  const done = (async () => {
    while (running) {
      const id = getId();
      const view = id ? await serverView(baseUrl, client, id) : undefined;
      if (view) max = Math.max(max, view.credits);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  })();
  return async () => { running = false; await done; return max; };
}

test('automatic demand: max 10 / min 5 asks 5 after 5 HANDLED, never holds more than 10, and handles 100 events in order', async () => {
  const client = await connect(hub.url);
  const asks = recordInvocations(client, 'Ask');
  const topic = uniqueTopic('auto');
  const gate = turnstile();
  const seen = [];
  const violations = [];
  const sub = await client.subscribe({ topics: [topic], maxDemand: 10, minDemand: 5 }, async (event, s) => {
    if (s.queued > 10 || s.credits < 0 || s.credits + s.queued > 10) violations.push({ queued: s.queued, credits: s.credits });
    await gate.wait();
    seen.push(event.sequence);
  });
  const stopWatching = watchCredits(hub.url, client, () => sub.id);
  const published = await publish(hub.url, many(topic, 100));

  // The handler is blocked: exactly the window arrives, and nothing is asked.
  await until(() => sub.queued === 10, 'the first 10 events received');
  await until(async () => (await serverView(hub.url, client, sub.id)).delivered === 10, 'the hub to count 10 delivered');
  assert.equal((await serverView(hub.url, client, sub.id)).credits, 0);
  assert.equal(sub.credits, 0);
  gate.release(4);
  await until(() => sub.handled === 4, '4 handled');
  assert.deepEqual(asks, [], 'no ask before maxDemand - minDemand events are handled');

  // The fifth handled event asks for 5: exactly 5 more arrive (not 10), and the hub holds no credit after them.
  gate.release(1);
  await until(() => sub.handled === 5, '5 handled');
  assert.deepEqual(asks, [[sub.id, 5]]);
  await until(async () => (await serverView(hub.url, client, sub.id)).delivered === 15, 'the hub to count 15 delivered');
  await until(() => sub.queued === 10, '5 more received');
  assert.equal((await serverView(hub.url, client, sub.id)).credits, 0);
  assert.equal(sub.handled + sub.queued, 15);

  gate.open();
  await until(() => sub.handled === 100, 'all 100 handled');
  assert.deepEqual(seen, published, 'every event once, in order');
  assert.equal(sub.lastSequence, published.at(-1));
  assert.deepEqual(violations, [], 'queued ≤ maxDemand and credits + queued ≤ maxDemand in every handler call');
  assert.deepEqual(asks, Array.from({ length: 20 }, () => [sub.id, 5]), 'one ask of 5 per 5 events handled');
  const maxCredits = await stopWatching();
  assert.ok(maxCredits <= 10, `the hub held ${maxCredits} credits`);
  assert.ok(maxCredits > 0, 'the watch saw the subscription');
  await sub.unsubscribe();
});

test('a slow async handler runs one event at a time, in order', async () => {
  const client = await connect(hub.url);
  const topic = uniqueTopic('slow');
  let active = 0;
  let maxActive = 0;
  const seen = [];
  const sub = await client.subscribe({ topics: [topic], maxDemand: 8 }, async (event) => {
    active++;
    maxActive = Math.max(maxActive, active);
    await new Promise((resolve) => setTimeout(resolve, 2)); // slow work, while more batches arrive
    seen.push(event.sequence);
    active--;
  });
  const published = await publish(hub.url, many(topic, 40));
  await until(() => sub.handled === 40, '40 handled');
  assert.equal(maxActive, 1);
  assert.deepEqual(seen, published);
  await sub.unsubscribe();
});

test('a handler that throws calls onError with the event\'s error and the stream goes on', async () => {
  const client = await connect(hub.url);
  const topic = uniqueTopic('throws');
  const errors = [];
  const seen = [];
  const sub = await client.subscribe({ topics: [topic], maxDemand: 2, minDemand: 0 }, async (event) => {
    seen.push(event.data.n);
    if (event.data.n % 2 === 0) throw new Error(`boom ${event.data.n}`);
  }, { onError: (error, s) => { errors.push([error.message, s === sub]); } });
  await publish(hub.url, many(topic, 6));
  await until(() => sub.handled === 6, '6 handled (the throwing ones count)');
  assert.deepEqual(seen, [0, 1, 2, 3, 4, 5]);
  assert.deepEqual(errors, [['boom 0', true], ['boom 2', true], ['boom 4', true]]);
});

test('manual demand: nothing arrives until ask(3), then exactly 3; the client never asks by itself', async () => {
  const client = await connect(hub.url);
  const asks = recordInvocations(client, 'Ask');
  const topic = uniqueTopic('manual');
  const seen = [];
  const sub = await client.subscribe({ topics: [topic], demand: 'manual', maxDemand: 10 }, (event) => { seen.push(event.sequence); });
  const published = await publish(hub.url, many(topic, 5));
  const idle = await serverView(hub.url, client, sub.id);
  assert.equal(idle.credits, 0);
  assert.equal(idle.delivered, 0);
  assert.equal(idle.lag >= 5, true, 'the events are in the log, waiting');
  assert.equal(sub.handled + sub.queued, 0);
  assert.throws(() => sub.ask(0), RangeError);
  assert.throws(() => sub.ask(1.5), RangeError);

  sub.ask(3);
  assert.equal(sub.credits, 3);
  await until(() => sub.handled === 3, '3 handled');
  await until(async () => (await serverView(hub.url, client, sub.id)).delivered === 3, 'the hub to count 3 delivered');
  assert.equal((await serverView(hub.url, client, sub.id)).credits, 0, 'nothing more can come');
  assert.deepEqual(seen, published.slice(0, 3));
  assert.equal(sub.credits, 0);
  assert.deepEqual(asks, [[sub.id, 3]]);

  const auto = await client.subscribe({ topics: [topic] }, () => {});
  assert.throws(() => auto.ask(1), /manual/);
});

test('replay with after: the events after it are handled, from after + 1', async () => {
  const topic = uniqueTopic('replay');
  const published = await publish(hub.url, many(topic, 30));
  const client = await connect(hub.url);
  const seen = [];
  const sub = await client.subscribe({ topics: [topic], after: published[9], maxDemand: 100 }, (event) => { seen.push(event.sequence); });
  await until(() => sub.handled >= 20, 'the 20 events after the 10th');
  assert.deepEqual(seen, published.slice(10));
});

test('events that arrive in the same read as the Subscribe answer are not lost', async () => {
  const proxy = new TcpProxy({ port: hub.port });
  const port = await proxy.start();
  cleanups.push(() => proxy.close());
  const client = await connect(`http://127.0.0.1:${port}`);
  const topic = uniqueTopic('oneread');
  const published = await publish(hub.url, many(topic, 5));
  const seen = [];
  proxy.hold();
  const subscribing = client.subscribe({ topics: [topic], after: published[0] - 1 }, (event) => { seen.push(event.sequence); });
  await until(() => /"subscriptionId"/.test(proxy.heldText) && (proxy.heldText.match(/"sequence":/g) ?? []).length === 5,
    'the proxy to hold the answer and the 5 events');
  // In one WebSocket message, as the hub writes them when they wait together: the events are handled before the
  // answer's await continues, and the client routes them by the id it chose.
  assert.ok(proxy.releaseAsOneFrame() > 0);
  const sub = await subscribing;
  await until(() => sub.handled === 5, 'the 5 events handled');
  assert.deepEqual(seen, published);
});

test('two subscriptions on one connection each get their own events', async () => {
  const client = await connect(hub.url);
  const [a, b] = [uniqueTopic('a'), uniqueTopic('b')];
  const got = { a: [], b: [] };
  const subA = await client.subscribe({ topics: [a], maxDemand: 3 }, (event) => { got.a.push(event.sequence); });
  const subB = await client.subscribe({ topics: [b], maxDemand: 3 }, (event) => { got.b.push(event.sequence); });
  assert.notEqual(subA.id, subB.id);
  const events = Array.from({ length: 20 }, (_, i) => ({ topic: i % 3 === 0 ? a : b, data: i }));
  const published = await publish(hub.url, events);
  const expected = { a: published.filter((_, i) => i % 3 === 0), b: published.filter((_, i) => i % 3 !== 0) };
  await until(() => subA.handled === expected.a.length && subB.handled === expected.b.length, 'both subscriptions handled theirs');
  assert.deepEqual(got, expected);
  const [viewA, viewB] = [await serverView(hub.url, client, subA.id), await serverView(hub.url, client, subB.id)];
  assert.equal(viewA.connectionId, viewB.connectionId, 'one connection');
});

test('ended by DELETE: onEnded with reason "deleted", and no resume after a reconnect', async () => {
  const proxy = new TcpProxy({ port: hub.port });
  const port = await proxy.start();
  cleanups.push(() => proxy.close());
  const client = await connect(`http://127.0.0.1:${port}`);
  const [gone, kept] = [uniqueTopic('gone'), uniqueTopic('kept')];
  const ended = [];
  const goneSeen = [];
  const deleted = await client.subscribe({ topics: [gone] }, (event) => { goneSeen.push(event.sequence); },
    { onEnded: (info, s) => { ended.push([info.reason, s === deleted]); } });
  const other = await client.subscribe({ topics: [kept] }, () => {});
  const deletedId = deleted.id;

  // The REST API names subscriptions by the hub's own id; the client's id is its `subscriptionId`.
  const { id: restId } = await serverView(hub.url, client, deletedId);
  assert.notEqual(restId, deletedId);
  const response = await fetch(`${hub.url}/api/subscriptions/${restId}`, { method: 'DELETE' });
  assert.equal(response.status, 204);
  await until(() => ended.length === 1, 'onEnded');
  assert.deepEqual(ended, [['deleted', true]]);
  assert.equal(deleted.closed, true);
  assert.equal(deleted.id, null);

  // Drop the connection: the other subscription is resumed, the ended one is not.
  const otherId = other.id;
  proxy.cutAll();
  await until(() => other.id !== null && other.id !== otherId, 'the other subscription resumed');
  await publish(hub.url, [{ topic: gone }, { topic: kept }]);
  await until(() => other.handled === 1, 'the other subscription handled its event');
  const live = await serverView(hub.url);
  assert.deepEqual(live.filter((s) => s.topics.includes(gone)), [], 'no subscription for the ended one');
  assert.deepEqual(goneSeen, []);
  assert.equal(ended.length, 1);
});

test('resume after a network drop: 400 events, cut while they flow, each handled exactly once and in order', async () => {
  const proxy = new TcpProxy({ port: hub.port });
  const port = await proxy.start();
  cleanups.push(() => proxy.close());
  const client = await connect(`http://127.0.0.1:${port}`);
  const states = [];
  let reconnected;
  const back = new Promise((resolve) => { reconnected = resolve; });
  client.onStateChange((state) => { states.push(state); if (cut && state === 'connected') reconnected(); });
  const topic = uniqueTopic('drop');
  const seen = [];
  let cut = false;
  let queuedAtCut = 0;
  const sub = await client.subscribe({ topics: [topic], maxDemand: 20 }, async (event) => {
    seen.push(event.sequence);
    if (!cut && seen.length >= 50 && sub.queued >= 5) {
      // The network goes away in the middle of the stream, and this handler is still busy when it comes back, with
      // events received and not handled: those are dropped and come again after the resume.
      proxy.blocked = true;
      proxy.cutAll();
      cut = true;
      queuedAtCut = sub.queued;
      await back;
    }
    // Slower than the network until the cut, so that events wait in the client.
    await new Promise((resolve) => (cut ? setImmediate(resolve) : setTimeout(resolve, 1)));
  });
  const firstId = sub.id;
  const first = await publish(hub.url, many(topic, 200));
  await until(() => cut && client.state === 'reconnecting', 'the client to notice the drop');
  const second = await publish(hub.url, many(topic, 200, 200)); // published while the client cannot reach the hub
  await until(() => proxy.refused > 0, 'a reconnect attempt to be refused');
  proxy.blocked = false;
  await until(() => sub.handled >= 400, 'all 400 handled');
  assert.deepEqual(seen, [...first, ...second], 'each event exactly once, in order');
  assert.notEqual(sub.id, firstId, 'a new server subscription after the reconnect');
  assert.ok(queuedAtCut >= 5, `events were waiting when the network dropped (${queuedAtCut})`);
  assert.ok(states.includes('reconnecting') && states.at(-1) === 'connected', states.join(','));
  assert.equal(sub.lastSequence, second.at(-1));
});

test('a connection closed for good (onclose) is started again with backoff until it connects, and resumes', async () => {
  // SignalR reconnects by itself after a drop (the policy never gives up) and fires onclose only when the connection
  // ends without reconnect: a Close message from the hub that forbids it, or a stop. A stop of the underlying
  // connection, while the proxy refuses connections, takes that path.
  const proxy = new TcpProxy({ port: hub.port });
  const port = await proxy.start();
  cleanups.push(() => proxy.close());
  const client = await connect(`http://127.0.0.1:${port}`);
  const topic = uniqueTopic('closed');
  const seen = [];
  const sub = await client.subscribe({ topics: [topic], maxDemand: 10 }, (event) => { seen.push(event.sequence); });
  const first = await publish(hub.url, many(topic, 30));
  await until(() => sub.handled === 30, 'the first 30 handled');
  proxy.blocked = true;
  await client.connection.stop();
  assert.equal(client.state, 'reconnecting');
  const second = await publish(hub.url, many(topic, 30, 30));
  await until(() => proxy.refused >= 3, 'three attempts to start again');
  proxy.blocked = false;
  await until(() => sub.handled === 60, 'the 30 published while closed');
  assert.deepEqual(seen, [...first, ...second]);
  assert.equal(client.state, 'connected');
});

test('gap: a subscriber behind the retention (dropOldest) gets onGap in order and lastSequence moves past it', async () => {
  const small = await startHub({ 'Hub:Log:Retention:MaxEvents': '20' });
  cleanups.push(() => small.stop());
  const client = await connect(small.url);
  const topic = uniqueTopic('gap');
  const gate = turnstile();
  const timeline = [];
  const sub = await client.subscribe({ topics: [topic], maxDemand: 1, minDemand: 0, overflow: 'dropOldest' },
    async (event) => { await gate.wait(); timeline.push(['event', event.sequence]); },
    { onGap: (gap, s) => { timeline.push(['gap', gap.from, gap.to, gap.reason, s.lastSequence]); } });
  const quiet = []; // the same, without onGap: the gap is passed all the same
  const noGapCallback = await client.subscribe({ topics: [topic], maxDemand: 1, minDemand: 0 },
    async (event) => { await gate.wait(); quiet.push(event.sequence); });
  const [a] = await publish(small.url, many(topic, 1));
  await until(() => sub.queued === 1 && noGapCallback.queued === 1, 'the first event received (its handlers blocked)');
  const rest = await publish(small.url, many(topic, 50, 1)); // the hub keeps the last 20
  await until(async () => {
    const page = await (await fetch(`${small.url}/api/events?topic=${topic}&after=0&limit=1`)).json();
    return page.events[0]?.sequence === rest[30];
  }, 'the retention to drop the older events');
  gate.open();
  await until(() => sub.handled === 21, 'the first event, the gap, then the 20 retained');
  assert.deepEqual(timeline, [
    ['event', a],
    ['gap', rest[0], rest[29], 'overflow', a],
    ...rest.slice(30).map((sequence) => ['event', sequence]),
  ]);
  assert.equal(sub.lastSequence, rest.at(-1));
  await until(() => noGapCallback.handled === 21, 'the subscription without onGap past the gap too');
  assert.deepEqual(quiet, [a, ...rest.slice(30)]);
});

/** A WebSocket text frame from a server (unmasked), as the hub would send it. */
function webSocketTextFrame(text) {
  const payload = Buffer.from(text);
  const header = payload.length < 126 ? Buffer.from([0x81, payload.length]) : Buffer.from([0x81, 126, payload.length >> 8, payload.length & 0xff]);
  return Buffer.concat([header, payload]);
}

test('ended "shutdown" keeps the subscription (no onEnded) and the next connection resumes it', async () => {
  // The hub sends this notice itself when it stops (the restart test below); here the proxy puts it on the wire and then
  // cuts the connection without a close message, so the client's side of it is checked apart from a restart.
  const proxy = new TcpProxy({ port: hub.port });
  const port = await proxy.start();
  cleanups.push(() => proxy.close());
  const client = await connect(`http://127.0.0.1:${port}`, { skipNegotiation: true, transport: signalR.HttpTransportType.WebSockets });
  const topic = uniqueTopic('shutdown');
  const seen = [];
  const onEnded = [];
  const sub = await client.subscribe({ topics: [topic], maxDemand: 5 }, (event) => { seen.push(event.sequence); },
    { onEnded: (info) => { onEnded.push(info); } });
  const first = await publish(hub.url, many(topic, 10));
  await until(() => sub.handled === 10, 'the first 10 handled');
  const notice = JSON.stringify({ type: 1, target: 'ended', arguments: [sub.id, { reason: 'shutdown' }] }) + '\u001e';
  assert.equal(proxy.injectToClients(webSocketTextFrame(notice)), 1);
  await until(() => sub.id === null, 'the subscription to let go of its server id');
  assert.equal(sub.closed, false);
  const second = await publish(hub.url, many(topic, 10, 10));
  proxy.cutAll(); // the hub closes its connections after the notice
  await until(() => sub.handled === 20, 'the 10 published meanwhile, after the resume');
  assert.deepEqual(seen, [...first, ...second]);
  assert.deepEqual(onEnded, []);
});

test('resume after a hub restart (SIGTERM → ended "shutdown"): nothing lost, nothing twice', async () => {
  const restarting = await startHub();
  cleanups.push(() => restarting.stop());
  const client = await connect(restarting.url);
  const endedOnWire = [];
  client.connection.on('ended', (id, info) => { endedOnWire.push(info.reason); });
  const topic = uniqueTopic('restart');
  const seen = [];
  const onEnded = [];
  const gate = turnstile();
  const sub = await client.subscribe({ topics: [topic], maxDemand: 25 }, async (event) => {
    seen.push(event.sequence);
    if (seen.length === 60) await gate.wait(); // busy through the restart, with events waiting behind it
    await new Promise((resolve) => setImmediate(resolve));
  }, { onEnded: (info) => { onEnded.push(info); } });
  const first = await publish(restarting.url, many(topic, 200));
  await until(() => gate.waiting === 1, 'the 60th event in its handler');
  // The window is spent: the client holds events it has not handled when the hub stops.
  await until(async () => { const view = await serverView(restarting.url, client, sub.id); return view.credits === 0 && view.buffered === 0; },
    'the hub to have spent the window');
  const queuedAtStop = sub.queued;
  await restarting.restart();
  const second = await publish(restarting.url, many(topic, 200, 200));
  gate.open();
  await until(() => sub.handled >= 400, 'all 400 handled');
  assert.deepEqual(seen, [...first, ...second], 'each event exactly once, in order');
  assert.ok(queuedAtStop > 1, `events were waiting in the client (${queuedAtStop})`);
  // The hub sends `ended {reason: "shutdown"}` and closes the connection itself once it is sent (allowing a reconnect),
  // before SignalR would close it: the notice comes every time, and a shutdown never ends the subscription.
  assert.deepEqual(endedOnWire, ['shutdown'], 'told of the shutdown, once');
  assert.deepEqual(onEnded, [], 'a shutdown is not the end of the subscription');
  assert.equal(client.state, 'connected');
});

async function epochOf(baseUrl) {
  const page = await (await fetch(`${baseUrl}/api/events?limit=1`)).json();
  assert.match(page.epoch, /^[0-9a-f]{32}$/);
  return page.epoch;
}

test('a log replaced by an empty one under a resuming client: onReset, then the new log from its start, none of its events skipped', async () => {
  const replaced = await startHub();
  cleanups.push(() => replaced.stop());
  const client = await connect(replaced.url);
  const topic = uniqueTopic('reset');
  const seen = [];
  const resets = [];
  const onEnded = [];
  const sub = await client.subscribe({ topics: [topic], maxDemand: 10 }, (event, s) => { seen.push([s.epoch, event.sequence, event.data.n]); },
    { onReset: (info, s) => { resets.push({ ...info, handled: s.handled }); }, onEnded: (info) => { onEnded.push(info); } });
  const oldEpoch = sub.epoch;
  assert.equal(oldEpoch, await epochOf(replaced.url));
  const first = await publish(replaced.url, many(topic, 30));
  await until(() => sub.handled === 30, 'the first 30 handled');

  // The hub comes back on a fresh file: a new log, whose sequences start at 1 again, below the client's lastSequence.
  await replaced.restart({ fresh: true });
  const newEpoch = await epochOf(replaced.url);
  assert.notEqual(newEpoch, oldEpoch);
  const second = await publish(replaced.url, many(topic, 10, 30));
  assert.deepEqual(second, first.slice(0, 10), 'the new log reuses the old sequences');
  await until(() => sub.handled === 40, 'the 10 events of the new log handled');

  assert.deepEqual(seen, [
    ...first.map((sequence, i) => [oldEpoch, sequence, i]),
    ...second.map((sequence, i) => [newEpoch, sequence, 30 + i]),
  ]);
  assert.equal(resets.length, 1, JSON.stringify(resets));
  assert.deepEqual({ ...resets[0], message: undefined }, { message: undefined, epoch: oldEpoch, lastSequence: first.at(-1), handled: 30 });
  assert.match(resets[0].message, /epoch: '[0-9a-f]{32}' is not the epoch of this hub's log .*the log was reset/);
  assert.equal(sub.epoch, newEpoch);
  assert.equal(sub.lastSequence, second.at(-1));
  assert.deepEqual(onEnded, []);
  assert.equal(client.state, 'connected');
});

test('onReset chooses where the new log is read from: after a sequence, or the subscription ends', async () => {
  const replaced = await startHub();
  cleanups.push(() => replaced.stop());
  const proxy = new TcpProxy({ port: replaced.port });
  const port = await proxy.start();
  cleanups.push(() => proxy.close());
  const client = await connect(`http://127.0.0.1:${port}`);
  const [kept, stopped] = [uniqueTopic('chosen'), uniqueTopic('stopped')];
  const seen = [];
  const ended = [];
  const sub = await client.subscribe({ topics: [kept] }, (event) => { seen.push([event.sequence, event.data.n]); }, { onReset: () => 3 });
  const ends = await client.subscribe({ topics: [stopped] }, () => {}, { onReset: () => false, onEnded: (info) => { ended.push(info.reason); } });
  const first = await publish(replaced.url, many(kept, 5));
  await until(() => sub.handled === 5, 'the first 5 handled');

  // The client cannot reach the hub while it is replaced, so the new log holds these 6 events before it comes back.
  proxy.blocked = true;
  proxy.cutAll();
  await until(() => client.state === 'reconnecting', 'the client to notice the drop');
  await replaced.restart({ fresh: true });
  const second = await publish(replaced.url, many(kept, 6, 100));
  proxy.blocked = false;
  await until(() => sub.handled === 8, 'the events of the new log after 3');
  await until(() => ended.length === 1, 'the other subscription to end');

  assert.deepEqual(seen, [...first.map((sequence, i) => [sequence, i]), ...second.slice(3).map((sequence, i) => [sequence, 103 + i])]);
  assert.deepEqual(ended, ['reset']);
  assert.equal(ends.closed, true);
  assert.deepEqual((await serverView(replaced.url)).map((s) => s.topics), [[kept]]);
});

test('the duplicate guard starts at the position the hub answered, and a resume with nothing handled starts there too', async () => {
  const proxy = new TcpProxy({ port: hub.port });
  const port = await proxy.start();
  cleanups.push(() => proxy.close());
  const client = await connect(`http://127.0.0.1:${port}`, { skipNegotiation: true, transport: signalR.HttpTransportType.WebSockets });
  const topic = uniqueTopic('position');
  const before = await publish(hub.url, many(topic, 3));
  const seen = [];
  const sub = await client.subscribe({ topics: [topic] }, (event) => { seen.push(event.sequence); }); // after: null
  const position = (await serverView(hub.url)).find((s) => s.topics.includes(topic)).position; // (no connection id without negotiation)
  assert.ok(position >= before.at(-1), `the stream starts after ${position}`);

  // An event at or below the answered position is not this stream's: it is dropped, never handled.
  const stray = JSON.stringify({ type: 1, target: 'events', arguments: [sub.id, [{ sequence: position, topic, data: { n: -1 } }]] }) + '\u001e';
  assert.equal(proxy.injectToClients(webSocketTextFrame(stray)), 1);

  // Nothing handled yet when the network drops; what is published meanwhile comes after the answered position.
  proxy.blocked = true;
  proxy.cutAll();
  await until(() => client.state === 'reconnecting', 'the client to notice the drop');
  const during = await publish(hub.url, many(topic, 4));
  proxy.blocked = false;
  await until(() => sub.handled === 4, 'the 4 published while the client was away');
  assert.deepEqual(seen, during);
});

test('start, subscribe and stop: errors say what to do; stop() ends the subscriptions, here and on the hub', async () => {
  assert.throws(() => new HubClient({ url: `${hub.url}/hubs/events`, signalR: null }), /signalR|signalr/);
  assert.throws(() => new HubClient({ url: '/hubs/events', signalR }), /absolute/);
  const idle = new HubClient({ url: `${hub.url}/hubs/events`, signalR });
  await assert.rejects(idle.subscribe({ topics: ['x'] }, () => {}), /start\(\)/);
  const client = await connect(hub.url);
  await assert.rejects(client.subscribe({ topics: ['a..b'] }, () => {}), /topics\[0\]/);
  await assert.rejects(client.subscribe({ topics: ['x'], maxDemand: 4, minDemand: 4 }, () => {}), /minDemand/);
  const topic = uniqueTopic('stop');
  const sub = await client.subscribe({ topics: [topic] }, () => {});
  const id = sub.id;
  const connectionId = client.connection.connectionId;
  await client.stop();
  assert.equal(client.state, 'disconnected');
  assert.equal(sub.closed, true);
  await until(async () => (await serverView(hub.url, connectionId, id)) === undefined, 'the hub to forget the subscription');
});

test('the hub serves the client at /js/hub-client.js, as a JavaScript module', async () => {
  const response = await fetch(`${hub.url}/js/hub-client.js`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type'), /javascript/);
  const served = await response.text();
  assert.equal(served, readFileSync(new URL('../../wwwroot/js/hub-client.js', import.meta.url), 'utf8'));
});

test('backoffDelay grows exponentially with jitter, capped at maxDelayMs', () => {
  const options = { initialDelayMs: 100, maxDelayMs: 1000 };
  assert.equal(backoffDelay(0, options, () => 0), 50);
  assert.equal(backoffDelay(0, options, () => 0.999999), 100);
  assert.equal(backoffDelay(3, options, () => 0), 400);
  assert.equal(backoffDelay(3, options, () => 0.999999), 800);
  assert.equal(backoffDelay(50, options, () => 0.999999), 1000);
  assert.equal(backoffDelay(50, options, () => 0), 500);
});

test('group members share the events; a member that stops hands what it held to the other, marked redelivered', async () => {
  const topic = uniqueTopic('work');
  const group = `group-${topicCount}`;
  const a = await connect(hub.url);
  const b = await connect(hub.url);
  const gate = turnstile();
  const atA = [];
  const atB = [];
  // A takes its window of 10 and handles only the first event's start: nothing of it is acknowledged.
  await a.subscribe({ topics: [topic], maxDemand: 10, group, dispatch: 'demand' }, async (e) => { atA.push(e); await gate.wait(); });
  await b.subscribe({ topics: [topic], maxDemand: 50, group, dispatch: 'demand' }, (e) => { atB.push(e); });

  const published = await publish(hub.url, many(topic, 200));
  await until(() => atA.length === 1 && atB.length === 190, 'A holding its 10, B handling the other 190');
  const heldByA = new Set((await serverView(hub.url)).filter((s) => s.group === group && s.inFlight === 10).map((s) => s.id));
  assert.equal(heldByA.size, 1, 'the hub shows A with 10 in flight');

  await a.stop();
  gate.open();
  await until(() => atB.length === 200, "B receives A's 10 again");

  assert.deepEqual(atB.map((e) => e.sequence).sort((x, y) => x - y), published, 'every event handled by B, once');
  const redelivered = atB.filter((e) => e.redelivered === true).map((e) => e.sequence);
  assert.equal(redelivered.length, 10);
  assert.ok(redelivered.includes(atA[0].sequence), "A's unacknowledged event came again");
});
