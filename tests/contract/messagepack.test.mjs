// The hub speaks SignalR's MessagePack hub protocol beside JSON: the official client with
// @microsoft/signalr-protocol-msgpack receives the same envelopes, answers and notices as with JSON, and a bad argument
// is refused naming its field. hub-client.js takes the protocol as an option.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as signalR from '@microsoft/signalr';
import { MessagePackHubProtocol } from '@microsoft/signalr-protocol-msgpack';
import { HubClient } from '../../wwwroot/js/hub-client.js';
import { startHub, until } from './hub-process.mjs';

let hub;
before(async () => { hub = await startHub(); });
after(async () => { await hub?.stop(); });

async function publish(events) {
  const response = await fetch(`${hub.url}/api/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(events) });
  assert.equal(response.status, 202);
  return (await response.json()).events.map((e) => e.sequence);
}

async function connect(protocol) {
  const builder = new signalR.HubConnectionBuilder().withUrl(`${hub.url}/hubs/events`).configureLogging(signalR.LogLevel.Warning);
  if (protocol) builder.withHubProtocol(protocol);
  const connection = builder.build();
  const events = [];
  const gaps = [];
  let ended = null;
  connection.on('events', (id, batch) => { events.push(...batch); });
  connection.on('gap', (id, gap) => { gaps.push(gap); });
  connection.on('ended', (id, info) => { ended = [id, info]; });
  await connection.start();
  return { connection, events, gaps, ended: () => ended };
}

test('a MessagePack client receives the same envelopes as a JSON one, and the same answers and notices', async () => {
  const json = await connect();
  const msgpack = await connect(new MessagePackHubProtocol());
  try {
    const published = await publish([
      { topic: 'mp.a', type: 'order.created', id: 'o-1', key: 'k', headers: { trace: 't-1', é: 'ü' },
        data: { n: 1, f: 1.5, neg: -7, big: 9007199254740993, s: 'héllo "q"', arr: [1, 'x', null, true, false, []], o: { a: { b: {} } } } },
      { topic: 'mp.a' },
      { topic: 'mp.a', data: 'a string' },
      { topic: 'mp.a', data: [0.1, 2.5e10, -1e-5] },
    ]);
    const request = { topics: ['mp.>'], after: published[0] - 1 };
    const answers = [await json.connection.invoke('Subscribe', { ...request, id: 'j' }), await msgpack.connection.invoke('Subscribe', { ...request, id: 'm' })];
    assert.deepEqual(answers.map(({ subscriptionId, ...rest }) => rest), [answers[0], answers[0]].map(({ subscriptionId, ...rest }) => rest));
    assert.deepEqual(answers.map((a) => a.subscriptionId), ['j', 'm']);
    await until(() => json.events.length === 4 && msgpack.events.length === 4, 'both to receive the 4 events');
    assert.deepEqual(msgpack.events, json.events);
    assert.deepEqual(json.events.map((e) => e.sequence), published);
    assert.equal(msgpack.events[0].data.s, 'héllo "q"');
    assert.equal(msgpack.events[1].data, null);

    const list = await (await fetch(`${hub.url}/api/subscriptions`)).json();
    for (const [client, id] of [[json, 'j'], [msgpack, 'm']]) {
      const { id: restId } = list.find((s) => s.subscriptionId === id && s.connectionId === client.connection.connectionId);
      assert.equal((await fetch(`${hub.url}/api/subscriptions/${restId}`, { method: 'DELETE' })).status, 204);
    }
    await until(() => json.ended() && msgpack.ended(), 'both ended');
    assert.deepEqual(json.ended(), ['j', { reason: 'deleted' }]);
    assert.deepEqual(msgpack.ended(), ['m', { reason: 'deleted' }]);
  } finally {
    await json.connection.stop();
    await msgpack.connection.stop();
  }
});

test('over MessagePack a bad argument is refused naming the field', async () => {
  const { connection } = await connect(new MessagePackHubProtocol());
  try {
    await assert.rejects(connection.invoke('Subscribe', { topics: 'a' }), /topics: must be an array/);
    await assert.rejects(connection.invoke('Subscribe', { topics: ['a'], maxDemand: 'ten' }), /maxDemand: must be an integer/);
    await assert.rejects(connection.invoke('Subscribe', { topics: ['a'], after: -1 }), /after: must be null or a sequence/);
    await assert.rejects(connection.invoke('Subscribe', { topics: ['a..b'] }), /topics\[0\]/);
    await assert.rejects(connection.invoke('Subscribe', { topics: ['a'], id: 'has space' }), /id: must be null/);
    const { subscriptionId } = await connection.invoke('Subscribe', { topics: ['a'] });
    await assert.rejects(connection.invoke('Ask', subscriptionId, 0), /\bn: must be an integer ≥ 1/);
    await assert.rejects(connection.invoke('Ask', 7, 1), /subscriptionId: must be a string/);
  } finally {
    await connection.stop();
  }
});

test('hub-client.js over MessagePack: automatic demand, every event once and in order', async () => {
  const client = new HubClient({ url: `${hub.url}/hubs/events`, signalR, protocol: new MessagePackHubProtocol(), logLevel: signalR.LogLevel.None });
  try {
    await client.start();
    const seen = [];
    const sub = await client.subscribe({ topics: ['mp.client'], maxDemand: 10, minDemand: 5 }, (event) => { seen.push([event.sequence, event.data.n]); });
    const published = await publish(Array.from({ length: 100 }, (_, n) => ({ topic: 'mp.client', data: { n } })));
    await until(() => sub.handled === 100, 'the 100 handled');
    assert.deepEqual(seen, published.map((sequence, n) => [sequence, n]));
    assert.match(sub.id, /^s\d+$/);
  } finally {
    await client.stop();
  }
});

test('the hub serves the browser build of the MessagePack protocol beside signalr.min.js', async () => {
  const response = await fetch(`${hub.url}/lib/signalr-protocol-msgpack.min.js`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type'), /javascript/);
  assert.match(await response.text(), /MessagePackHubProtocol/);
});
