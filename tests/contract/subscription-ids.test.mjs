// CONTRACT.md's subscription ids chosen by the client, with the official @microsoft/signalr client and nothing else:
// a client that knows its id before it subscribes routes every batch, even one that arrives with the answer.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as signalR from '@microsoft/signalr';
import { startHub, until } from './hub-process.mjs';
import { TcpProxy } from './tcp-proxy.mjs';

let hub;
before(async () => { hub = await startHub(); });
after(async () => { await hub?.stop(); });

async function publish(events) {
  const response = await fetch(`${hub.url}/api/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(events) });
  assert.equal(response.status, 202);
  return (await response.json()).events.map((e) => e.sequence);
}

async function connect(url = hub.url) {
  const connection = new signalR.HubConnectionBuilder().withUrl(`${url}/hubs/events`).configureLogging(signalR.LogLevel.Warning).build();
  const received = new Map(); // id -> { events, ended }
  const of = (id) => { if (!received.has(id)) received.set(id, { events: [], ended: null }); return received.get(id); };
  connection.on('events', (id, batch) => { of(id).events.push(...batch); });
  connection.on('ended', (id, info) => { of(id).ended = info; });
  await connection.start();
  return { connection, of, known: () => [...received.keys()] };
}

const subscriptions = async () => (await fetch(`${hub.url}/api/subscriptions`)).json();

test('a replay routed by a chosen id loses nothing when its first batch arrives with the answer', async () => {
  const proxy = new TcpProxy({ port: hub.port });
  const port = await proxy.start();
  const connection = new signalR.HubConnectionBuilder().withUrl(`http://127.0.0.1:${port}/hubs/events`).configureLogging(signalR.LogLevel.Warning).build();
  // One handler that keeps the batches of its subscription, as a user writes it: by the id it chose, and (to show what
  // that avoids) by the id the answer gives.
  const mine = [];
  const byAnswer = [];
  let answered = null;
  connection.on('events', (id, batch) => {
    if (id === 'replay-1') mine.push(...batch.map((e) => e.sequence));
    if (id === answered) byAnswer.push(...batch.map((e) => e.sequence));
  });
  await connection.start();
  try {
    const published = await publish(Array.from({ length: 5 }, (_, i) => ({ topic: 'ids.replay', data: i })));
    // The proxy holds what the hub sends and delivers the answer and the events in one WebSocket message (as the hub
    // writes them when they wait together), so SignalR runs the handler before the answer's await continues.
    proxy.hold();
    const subscribing = connection.invoke('Subscribe', { id: 'replay-1', topics: ['ids.replay'], after: published[0] - 1 });
    await until(() => /"subscriptionId":"replay-1"/.test(proxy.heldText) && (proxy.heldText.match(/"sequence":/g) ?? []).length === 5,
      'the proxy to hold the answer and the 5 events');
    assert.ok(proxy.releaseAsOneFrame() > 0);
    const answer = await subscribing;
    answered = answer.subscriptionId;
    assert.equal(answer.subscriptionId, 'replay-1');
    assert.equal(answer.position, published[0] - 1);
    assert.deepEqual(mine, published, 'every event, routed by the chosen id');
    assert.deepEqual(byAnswer, [], 'an id learnt from the answer comes after the first batch');
  } finally {
    await connection.stop();
    await proxy.close();
  }
});

test('duplicate and bad ids are refused naming id and create nothing; an id is free again once its subscription ended', async () => {
  const { connection, of } = await connect();
  const { connection: other, of: otherOf } = await connect();
  try {
    await connection.invoke('Subscribe', { id: 'orders:eu-1', topics: ['ids.a'] });
    await assert.rejects(connection.invoke('Subscribe', { id: 'orders:eu-1', topics: ['ids.b'] }), /id: 'orders:eu-1' is the id of a live subscription on this connection/);
    for (const bad of ['', 'has space', 'a/b', 'x'.repeat(65), 7, ['a'], { a: 1 }]) {
      await assert.rejects(connection.invoke('Subscribe', { id: bad, topics: ['ids.c'] }), /id: must be null or 1 to 64 characters of \[A-Za-z0-9_.:-\]/, JSON.stringify(bad));
    }
    const mine = (await subscriptions()).filter((s) => s.connectionId === connection.connectionId);
    assert.deepEqual(mine.map((s) => [s.subscriptionId, s.topics]), [['orders:eu-1', ['ids.a']]]);

    // Another connection's ids are its own.
    await other.invoke('Subscribe', { id: 'orders:eu-1', topics: ['ids.b'] });
    const [published] = await publish([{ topic: 'ids.a' }]);
    const [toOther] = await publish([{ topic: 'ids.b' }]);
    await until(() => of('orders:eu-1').events.length === 1 && otherOf('orders:eu-1').events.length === 1, 'each connection its event');
    assert.equal(of('orders:eu-1').events[0].sequence, published);
    assert.equal(otherOf('orders:eu-1').events[0].sequence, toOther);
    const both = (await subscriptions()).filter((s) => s.subscriptionId === 'orders:eu-1');
    assert.equal(both.length, 2);
    assert.notEqual(both[0].id, both[1].id, 'the hub keeps its own ids apart');

    // Free again after Unsubscribe, and after the hub ends it.
    await connection.invoke('Unsubscribe', 'orders:eu-1');
    await connection.invoke('Subscribe', { id: 'orders:eu-1', topics: ['ids.c'] });
    const { id: restId } = (await subscriptions()).find((s) => s.connectionId === connection.connectionId && s.subscriptionId === 'orders:eu-1');
    assert.equal((await fetch(`${hub.url}/api/subscriptions/${restId}`, { method: 'DELETE' })).status, 204);
    await until(() => of('orders:eu-1').ended !== null, 'ended');
    assert.equal(of('orders:eu-1').ended.reason, 'deleted');
    const again = await connection.invoke('Subscribe', { id: 'orders:eu-1', topics: ['ids.d'] });
    assert.equal(again.subscriptionId, 'orders:eu-1');
  } finally {
    await connection.stop();
    await other.stop();
  }
});

test('without an id the hub chooses one, the same in the answer and in GET /api/subscriptions', async () => {
  const { connection } = await connect();
  try {
    const { subscriptionId } = await connection.invoke('Subscribe', { topics: ['ids.server'] });
    const listed = (await subscriptions()).find((s) => s.connectionId === connection.connectionId);
    assert.equal(listed.id, subscriptionId);
    assert.equal(listed.subscriptionId, subscriptionId);
  } finally {
    await connection.stop();
  }
});
