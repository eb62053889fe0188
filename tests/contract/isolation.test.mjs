// Tenants stay in their lane (issue 13), seen from outside: two API keys on a hub that requires credentials, the
// official @microsoft/signalr client and plain fetch. A may publish and subscribe a.>, B b.>.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as signalR from '@microsoft/signalr';
import { startHub, until } from './hub-process.mjs';

const keys = { a: 'tenant-a-key-5d1f0c', b: 'tenant-b-key-93ab77', admin: 'tenant-admin-key-0e4c21' };
const sha256 = (text) => createHash('sha256').update(text).digest('hex');

let hub;
before(async () => {
  hub = await startHub({
    'Hub:Auth:Mode': 'Required',
    'Hub:Auth:ApiKeys:0:Name': 'a', 'Hub:Auth:ApiKeys:0:Sha256': sha256(keys.a),
    'Hub:Auth:ApiKeys:0:Publish:0': 'a.>', 'Hub:Auth:ApiKeys:0:Subscribe:0': 'a.>',
    'Hub:Auth:ApiKeys:1:Name': 'b', 'Hub:Auth:ApiKeys:1:Sha256': sha256(keys.b),
    'Hub:Auth:ApiKeys:1:Publish:0': 'b.>', 'Hub:Auth:ApiKeys:1:Subscribe:0': 'b.>',
    'Hub:Auth:ApiKeys:2:Name': 'admin', 'Hub:Auth:ApiKeys:2:Sha256': sha256(keys.admin),
    'Hub:Auth:ApiKeys:2:Subscribe:0': '>', 'Hub:Auth:ApiKeys:2:Admin': 'true',
  });
});
after(async () => { await hub?.stop(); });

async function post(key, body, idempotencyKey) {
  const headers = { 'content-type': 'application/json', 'x-api-key': key };
  if (idempotencyKey) headers['idempotency-key'] = idempotencyKey;
  const response = await fetch(`${hub.url}/api/events`, { method: 'POST', headers, body: JSON.stringify(body) });
  return { status: response.status, body: await response.json() };
}

async function get(key, path) {
  const response = await fetch(`${hub.url}${path}`, { headers: { 'x-api-key': key } });
  assert.equal(response.status, 200, `${path} answered ${response.status}`);
  return response.json();
}

async function connect(key) {
  const connection = new signalR.HubConnectionBuilder()
    .withUrl(`${hub.url}/hubs/events`, { headers: { 'X-Api-Key': key } })
    .configureLogging(signalR.LogLevel.Warning)
    .build();
  const received = new Map();
  const of = (id) => { if (!received.has(id)) received.set(id, []); return received.get(id); };
  // A group member acknowledges what it got by asking for as many again (the handler returns nothing).
  connection.on('events', (id, batch) => { of(id).push(...batch); connection.invoke('Ask', id, batch.length).catch(() => {}); });
  await connection.start();
  return { connection, of };
}

test('the same Idempotency-Key from another tenant is another key: its event is appended and it gets its own answer', async () => {
  const a = await post(keys.a, { topic: 'a.orders', data: 'A' }, 'k1');
  const b = await post(keys.b, { topic: 'b.orders', data: 'B' }, 'k1');
  assert.equal(a.status, 202);
  assert.equal(b.status, 202);
  assert.equal(b.body.events[0].topic, 'b.orders');
  assert.notEqual(b.body.events[0].sequence, a.body.events[0].sequence);
  assert.deepEqual((await post(keys.a, { topic: 'a.orders', data: 'again' }, 'k1')).body, a.body);
  assert.deepEqual((await post(keys.b, { topic: 'b.orders', data: 'again' }, 'k1')).body, b.body);
  const page = await get(keys.admin, `/api/events?after=${a.body.events[0].sequence - 1}`);
  assert.deepEqual(page.events.map((e) => [e.topic, e.data]), [['a.orders', 'A'], ['b.orders', 'B']]);
});

test("a group name used by another tenant is another group: it neither starts from nor moves the first one's position", async () => {
  const first = await connect(keys.a);
  const { subscriptionId: one } = await first.connection.invoke('Subscribe', { topics: ['a.>'], group: 'billing', maxDemand: 10 });
  const before = await post(keys.a, [{ topic: 'a.x', data: 1 }, { topic: 'a.x', data: 2 }]);
  await until(() => first.of(one).length === 2, "A's member has the first two");
  const acknowledged = before.body.events[1].sequence;
  await until(async () => (await get(keys.a, '/api/groups'))[0]?.position === acknowledged, "A's group acknowledged them");
  await first.connection.stop();

  const other = await connect(keys.b);
  try {
    const meanwhile = (await post(keys.a, [{ topic: 'a.x', data: 3 }, { topic: 'a.x', data: 4 }])).body.events.map((e) => e.sequence);
    const { subscriptionId: theirs, position } = await other.connection.invoke('Subscribe', { topics: ['b.x'], group: 'billing' });
    assert.equal(position, meanwhile[1], "B's group starts at the head, not at A's stored position");
    assert.deepEqual((await get(keys.b, '/api/groups')).map((g) => [g.name, g.topics]), [['billing', ['b.x']]]);
    meanwhile.push(...(await post(keys.a, [{ topic: 'a.x', data: 5 }])).body.events.map((e) => e.sequence));
    const bEvents = (await post(keys.b, [{ topic: 'b.x', data: 6 }])).body.events.map((e) => e.sequence);
    await until(() => other.of(theirs).length === 1, "B's member has B's event");

    const back = await connect(keys.a);
    try {
      const { subscriptionId: again, position: resumed } = await back.connection.invoke('Subscribe', { topics: ['a.>'], group: 'billing', maxDemand: 10 });
      assert.equal(resumed, acknowledged);
      await until(() => back.of(again).length === meanwhile.length, 'A has what was published while it was away');
      assert.deepEqual(back.of(again).map((e) => e.sequence), meanwhile);
      assert.deepEqual(other.of(theirs).map((e) => e.sequence), bEvents);
    } finally {
      await back.connection.stop();
    }
  } finally {
    await other.connection.stop();
  }
});

test('maxDemand past Hub:Limits:MaxAsk fails naming the field and the setting, and creates nothing', async () => {
  const { connection } = await connect(keys.a);
  try {
    await assert.rejects(connection.invoke('Subscribe', { topics: ['a.>'], maxDemand: 2147483647 }), /maxDemand: may be at most 1000000 \(Hub:Limits:MaxAsk/);
    await assert.rejects(connection.invoke('Subscribe', { topics: ['a.>'], group: 'hoard', maxDemand: 2147483647 }), /maxDemand/);
    const listed = await get(keys.admin, '/api/subscriptions');
    assert.deepEqual(listed.filter((s) => s.connectionId === connection.connectionId), []);
  } finally {
    await connection.stop();
  }
});
