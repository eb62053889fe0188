// CONTRACT.md, checked as a user would: the official @microsoft/signalr client and plain fetch against a real hub.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as signalR from '@microsoft/signalr';
import { startHub, until } from './hub-process.mjs';

let hub;
before(async () => { hub = await startHub({ 'Hub:Log:Retention:MaxEvents': '50' }); });
after(async () => { await hub?.stop(); });

async function post(body, contentType = 'application/json') {
  const response = await fetch(`${hub.url}/api/events`, {
    method: 'POST', headers: { 'content-type': contentType }, body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, type: response.headers.get('content-type'), body: await response.json() };
}

async function connect(options = {}) {
  const connection = new signalR.HubConnectionBuilder()
    .withUrl(`${hub.url}/hubs/events`, options)
    .configureLogging(signalR.LogLevel.Warning)
    .build();
  const received = new Map(); // subscriptionId -> { events: [], gaps: [], ended: null }
  const entry = (id) => { if (!received.has(id)) received.set(id, { events: [], gaps: [], ended: null }); return received.get(id); };
  connection.on('events', (id, batch) => { entry(id).events.push(...batch); });
  connection.on('gap', (id, gap) => { entry(id).gaps.push(gap); });
  connection.on('ended', (id, info) => { entry(id).ended = info; });
  await connection.start();
  return { connection, of: entry };
}

test('a subscriber receives events posted over REST, in order, within its credits', async () => {
  const { connection, of } = await connect();
  try {
    const { subscriptionId, position } = await connection.invoke('Subscribe', { topics: ['orders.*'], maxDemand: 4, minDemand: 2 });
    assert.equal(typeof subscriptionId, 'string');
    assert.equal(typeof position, 'number');
    const published = await post([{ topic: 'orders.eu', type: 'order.created', data: { n: 1 } }, { topic: 'other' },
      { topic: 'orders.us', data: { n: 2 } }, { topic: 'orders.eu' }, { topic: 'orders.eu' }, { topic: 'orders.eu' }]);
    assert.equal(published.status, 202);
    assert.equal(published.body.events.length, 6);
    const sequences = published.body.events.map((e) => e.sequence);
    await until(() => of(subscriptionId).events.length === 4, '4 events (the whole window)');
    const mine = of(subscriptionId);
    assert.deepEqual(mine.events.map((e) => e.sequence), [sequences[0], sequences[2], sequences[3], sequences[4]]);
    assert.equal(mine.events[0].type, 'order.created');
    assert.deepEqual(mine.events[0].data, { n: 1 });
    assert.equal(mine.events[0].topic, 'orders.eu');
    assert.ok(!Number.isNaN(Date.parse(mine.events[0].time)));
    const listed = await (await fetch(`${hub.url}/api/subscriptions`)).json();
    const me = listed.find((s) => s.id === subscriptionId);
    assert.equal(me.credits, 0);
    assert.equal(me.maxDemand, 4);
    assert.equal(me.minDemand, 2);
    for (const field of ['connectionId', 'topics', 'group', 'buffered', 'lag', 'delivered', 'dropped']) assert.ok(field in me, field);
    await connection.invoke('Ask', subscriptionId, 1);
    await until(() => mine.events.length === 5, 'the fifth event after Ask(1)');
    assert.equal(mine.events[4].sequence, sequences[5]);
  } finally {
    await connection.stop();
  }
});

test('Subscribe with after replays the log, over a WebSocket without negotiation too', async () => {
  const first = await post([{ topic: 'replay.a', id: 'r1' }, { topic: 'replay.a', id: 'r2' }]);
  const after = first.body.events[0].sequence - 1;
  const { connection, of } = await connect({ skipNegotiation: true, transport: signalR.HttpTransportType.WebSockets });
  try {
    const { subscriptionId, position } = await connection.invoke('Subscribe', { topics: ['replay.>'], after });
    assert.equal(position, after);
    await until(() => of(subscriptionId).events.length === 2, 'the replayed events');
    assert.deepEqual(of(subscriptionId).events.map((e) => e.id), ['r1', 'r2']);
    const again = await post({ topic: 'replay.a', id: 'r1' });
    assert.equal(again.body.events[0].sequence, first.body.events[0].sequence, 'the same (topic, id) answers its first sequence');
  } finally {
    await connection.stop();
  }
});

test('manual demand, gap past the retention, and ended on DELETE', async () => {
  const { connection, of } = await connect();
  try {
    const { subscriptionId } = await connection.invoke('Subscribe', { topics: ['gap.t'], demand: 'manual' });
    await post(Array.from({ length: 60 }, (_, i) => ({ topic: 'gap.t', data: i })));
    await connection.invoke('Ask', subscriptionId, 100);
    await until(() => of(subscriptionId).events.length === 50, 'the 50 retained events');
    const [gap] = of(subscriptionId).gaps;
    assert.equal(gap.reason, 'overflow');
    assert.equal(gap.to - gap.from + 1, 10);
    assert.equal(gap.to + 1, of(subscriptionId).events[0].sequence);
    const deleted = await fetch(`${hub.url}/api/subscriptions/${subscriptionId}`, { method: 'DELETE' });
    assert.equal(deleted.status, 204);
    await until(() => of(subscriptionId).ended !== null, 'ended');
    assert.equal(typeof of(subscriptionId).ended.reason, 'string');
  } finally {
    await connection.stop();
  }
});

test('bad invocations fail with a message naming the field', async () => {
  const { connection } = await connect();
  try {
    await assert.rejects(connection.invoke('Subscribe', { topics: ['a'], maxDemand: 0 }), /maxDemand/);
    await assert.rejects(connection.invoke('Subscribe', { topics: ['a'], maxDemand: 10, minDemand: 20 }), /minDemand/);
    await assert.rejects(connection.invoke('Subscribe', { topics: ['a..b'] }), /topics\[0\]/);
    await assert.rejects(connection.invoke('Ask', 'nope', 1), /subscriptionId/);
    const { subscriptionId } = await connection.invoke('Subscribe', { topics: ['a'] });
    await assert.rejects(connection.invoke('Ask', subscriptionId, 0), /\bn\b/);
    await connection.invoke('Unsubscribe', subscriptionId);
    await assert.rejects(connection.invoke('Unsubscribe', subscriptionId), /subscriptionId/);
  } finally {
    await connection.stop();
  }
});

test('bad publishes answer problem+json naming the field, and append nothing', async () => {
  const before = await (await fetch(`${hub.url}/api/topics`)).json();
  const missing = await post({ type: 'x' });
  assert.equal(missing.status, 400);
  assert.match(missing.type, /application\/problem\+json/);
  assert.match(missing.body.detail, /^topic:/);
  const batch = await post([{ topic: 'ok' }, { topic: 'bad topic' }]);
  assert.equal(batch.status, 400);
  assert.match(batch.body.detail, /^\[1\]\.topic:/);
  const malformed = await post('{"topic":');
  assert.equal(malformed.status, 400);
  const wrongType = await post('{"topic":"a"}', 'text/plain');
  assert.equal(wrongType.status, 415);
  assert.deepEqual(await (await fetch(`${hub.url}/api/topics`)).json(), before);
});
