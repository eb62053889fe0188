// The TypeScript client that @hey-api/openapi-ts generates from the hub's build-time OpenAPI document (ts-client/),
// compiled with tsc and used against a real hub process: publish a batch, read the history, list topics and
// subscriptions, end a subscription, and the errors typed as the document says.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as signalR from '@microsoft/signalr';
import { client } from './ts-client/client.gen';
import { deleteSubscription, listSubscriptions, listTopics, publishEvents, readEvents } from './ts-client';
import type { EventInput, HttpValidationProblemDetails, ProblemDetails } from './ts-client';

interface Hub { url: string; stop(): Promise<void> }
interface HubProcess {
  startHub(settings?: Record<string, string>): Promise<Hub>;
  until(predicate: () => boolean | Promise<boolean>, what: string, timeoutMs?: number): Promise<void>;
}

let hub: Hub;
let until: HubProcess['until'];

before(async () => {
  // The contract tests' helper starts the hub (HUB_DLL) on 127.0.0.1; it is an ES module, so it is imported as one.
  const helper = pathToFileURL(path.resolve(__dirname, '../../contract/hub-process.mjs')).href;
  const hubProcess = (await import(helper)) as HubProcess;
  until = hubProcess.until;
  hub = await hubProcess.startHub();
  client.setConfig({ baseUrl: hub.url });
});

after(async () => { await hub?.stop(); });

test('publishes a batch, then reads it back from the history', async () => {
  const batch: EventInput[] = [
    { topic: 'orders.eu', type: 'order.created', id: 'o-1', key: 'customer-7', data: { total: 42 }, headers: { trace: 't-1' } },
    { topic: 'orders.us', data: [1, 2] },
    { topic: 'payments.card' },
  ];
  const published = await publishEvents({ body: batch, throwOnError: true });
  assert.equal(published.response.status, 202);
  const events = published.data.events;
  assert.deepEqual(events.map((e) => [e.topic, e.id ?? null, e.duplicate]),
    [['orders.eu', 'o-1', false], ['orders.us', null, false], ['payments.card', null, false]]);
  const [first, second, third] = events.map((e) => e.sequence);
  assert.ok(first < second && second < third, `sequences increase: ${first}, ${second}, ${third}`);

  const page = await readEvents({ query: { topic: 'orders.>', after: first - 1, limit: 10 }, throwOnError: true });
  assert.deepEqual(page.data.events.map((e) => e.sequence), [first, second]);
  const [eu, us] = page.data.events;
  assert.equal(eu.topic, 'orders.eu');
  assert.equal(eu.type, 'order.created');
  assert.equal(eu.id, 'o-1');
  assert.equal(eu.key, 'customer-7');
  assert.deepEqual(eu.data, { total: 42 });
  assert.deepEqual(eu.headers, { trace: 't-1' });
  assert.ok(!Number.isNaN(Date.parse(eu.time)), eu.time);
  assert.deepEqual(us.data, [1, 2]);
  assert.ok(page.data.next >= second, `next ${page.data.next}`); // how far the page looked, matching or not

  const everything = await readEvents({ query: { after: first - 1, limit: 2 }, throwOnError: true });
  assert.deepEqual(everything.data.events.map((e) => e.sequence), [first, second]);
  const rest = await readEvents({ query: { after: everything.data.next }, throwOnError: true });
  assert.deepEqual(rest.data.events.map((e) => e.sequence), [third]);
});

test('publishes one event, and the same (topic, id) again answers its first sequence', async () => {
  const once = await publishEvents({ body: { topic: 'orders.eu', id: 'o-2' }, throwOnError: true });
  const again = await publishEvents({ body: [{ topic: 'orders.eu', id: 'o-2' }], throwOnError: true });
  assert.equal(again.data.events[0].sequence, once.data.events[0].sequence);
  assert.equal(again.data.events[0].duplicate, true);
});

test('lists the topics with their counts and last sequences', async () => {
  const published = await publishEvents({ body: [{ topic: 'topics.a' }, { topic: 'topics.a' }, { topic: 'topics.b' }], throwOnError: true });
  const topics = await listTopics({ throwOnError: true });
  const a = topics.data.find((t) => t.topic === 'topics.a');
  const b = topics.data.find((t) => t.topic === 'topics.b');
  assert.deepEqual(a, { topic: 'topics.a', count: 2, lastSequence: published.data.events[1].sequence });
  assert.deepEqual(b, { topic: 'topics.b', count: 1, lastSequence: published.data.events[2].sequence });
});

test('lists a live subscription with its demand window, and ends it', async () => {
  const connection = new signalR.HubConnectionBuilder()
    .withUrl(`${hub.url}/hubs/events`)
    .configureLogging(signalR.LogLevel.Warning)
    .build();
  let ended: { reason: string } | undefined;
  connection.on('events', () => { /* not what this test reads */ });
  connection.on('ended', (_id: string, info: { reason: string }) => { ended = info; });
  await connection.start();
  try {
    const { subscriptionId } = await connection.invoke('Subscribe', { topics: ['listed.*'], maxDemand: 10, minDemand: 4, demand: 'manual' });
    const listed = await listSubscriptions({ throwOnError: true });
    const mine = listed.data.find((s) => s.id === subscriptionId);
    assert.ok(mine, `subscription ${subscriptionId} is listed`);
    assert.ok(mine.connectionId.length > 0, "connectionId");
    assert.deepEqual(mine.topics, ['listed.*']);
    assert.equal(mine.maxDemand, 10);
    assert.equal(mine.minDemand, 4);
    assert.equal(mine.demand, 'manual');
    assert.equal(mine.credits, 0);
    assert.equal(mine.delivered, 0);

    const deleted = await deleteSubscription({ path: { id: subscriptionId }, throwOnError: true });
    assert.equal(deleted.response.status, 204);
    await until(() => ended !== undefined, 'ended');
    assert.deepEqual(ended, { reason: 'deleted' });
    const after = await listSubscriptions({ throwOnError: true });
    assert.ok(!after.data.some((s) => s.id === subscriptionId), 'the subscription is gone');

    const again = await deleteSubscription({ path: { id: subscriptionId } });
    assert.equal(again.response.status, 404);
    const problem: ProblemDetails | undefined = again.error;
    assert.equal(problem?.status, 404);
    assert.match(String(problem?.detail), /^id: /);
  } finally {
    await connection.stop();
  }
});

test('a bad batch answers 400 with the field named, as an HttpValidationProblemDetails, and appends nothing', async () => {
  const before = await readEvents({ query: { topic: 'bad.>' }, throwOnError: true });
  const answer = await publishEvents({ body: [{ topic: 'bad.ok' }, { topic: 'bad..topic' }] });
  assert.equal(answer.response.status, 400);
  assert.equal(answer.response.headers.get('content-type'), 'application/problem+json');
  const problem = answer.error as HttpValidationProblemDetails;
  assert.deepEqual(Object.keys(problem.errors), ['[1].topic']);
  assert.equal(problem.status, 400);
  const afterwards = await readEvents({ query: { topic: 'bad.>' }, throwOnError: true });
  assert.deepEqual(afterwards.data.events, before.data.events);
});
