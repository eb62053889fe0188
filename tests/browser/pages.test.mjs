// The dashboard (/) and the slow-subscriber demo (/demo.html) in headless Chromium against a real hub process.
// Every wait is for a condition, with a timeout; screenshots go to the folder browser.mjs names.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import * as signalR from '@microsoft/signalr';
import { startHub, until } from '../contract/hub-process.mjs';
import { TcpProxy } from '../contract/tcp-proxy.mjs';
import { launchBrowser, screenshotDir } from './browser.mjs';

let hub;
let browser;
before(async () => {
  hub = await startHub();
  browser = await launchBrowser();
  console.log(`# screenshots: ${screenshotDir}`);
});
after(async () => {
  await browser?.close();
  await hub?.stop();
});

async function publish(events) {
  const response = await fetch(`${hub.url}/api/events`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(events),
  });
  const text = await response.text();
  assert.equal(response.status, 202, text);
  return JSON.parse(text).events.map(e => e.sequence);
}

const range = (n, f) => Array.from({ length: n }, (_, i) => f(i));
const demoState = page => page.evaluate(() => JSON.parse(JSON.stringify(window.hubDemo)));

test('the dashboard loads, shows the hub over its feed, and logs no errors', async () => {
  await publish([{ topic: 'dash.orders', type: 'order.created', data: { n: 1 } }]);
  const page = await browser.open(`${hub.url}/`);
  await page.locator('#feed-state[data-state="connected"]').waitFor({ timeout: 15_000 });
  await page.locator('#topics tbody tr[data-topic="dash.orders"]').waitFor({ timeout: 15_000 });
  await until(async () => (await page.locator('#chart canvas').count()) > 0, 'the chart');
  assert.notEqual(await page.locator('#head').textContent(), '–');
  await browser.screenshot(page, 'dashboard');
  assert.deepEqual(page.problems, []);
  await page.close();
});

test('in development mode (Hub:Auth:Mode None) the dashboard shows a banner saying so', async () => {
  const page = await browser.open(`${hub.url}/`);
  const banner = page.locator('#auth-banner[data-auth-mode="None"]');
  await banner.waitFor({ state: 'visible', timeout: 15_000 });
  assert.match(await banner.textContent(), /Development mode: Hub:Auth:Mode is None/);
  assert.deepEqual(page.problems, []);
  await page.close();
});

test('with credentials required, the dashboard asks for a token and runs on an admin token', async () => {
  const key = 'browser-tests-signing-key-0123456789-abcdefghij';
  const secure = await startHub({ 'Hub:Auth:Mode': 'Required', 'Hub:Auth:SigningKey': key });
  try {
    const page = await browser.open(`${secure.url}/`);
    await page.locator('#auth-banner[data-auth-mode="Required"] input').waitFor({ state: 'visible', timeout: 15_000 });
    assert.equal(await page.locator('#feed-state').getAttribute('data-state'), 'needs a token');
    await page.fill('#auth-banner input', hs256Token({ sub: 'browser', 'hub:admin': true, exp: Math.floor(Date.now() / 1000) + 600 }, key));
    await page.click('#auth-banner button');
    await page.locator('#feed-state[data-state="connected"]').waitFor({ timeout: 15_000 });
    assert.ok(await page.locator('#auth-banner').isHidden());
    assert.deepEqual(page.problems, []);
    await page.close();
  } finally {
    await secure.stop();
  }
});

function hs256Token(payload, key) {
  const part = value => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = `${part({ alg: 'HS256', typ: 'JWT' })}.${part(payload)}`;
  return `${unsigned}.${createHmac('sha256', key).update(unsigned).digest('base64url')}`;
}

test('the dashboard fits a phone screen without sideways scrolling', async () => {
  const page = await browser.open(`${hub.url}/`, { width: 390, height: 844 });
  await page.locator('#feed-state[data-state="connected"]').waitFor({ timeout: 15_000 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the page is ${overflow}px wider than the phone's screen`);
  await browser.screenshot(page, 'dashboard-phone');
  assert.deepEqual(page.problems, []);
  await page.close();
});

test('a live tail started in the page receives events posted over REST', async () => {
  const page = await browser.open(`${hub.url}/`);
  await page.fill('#tail-pattern', 'tail.*');
  await page.click('#tail-start');
  await page.locator('#tail[data-subscription-id]').waitFor({ state: 'attached', timeout: 15_000 });
  const sequences = await publish(range(3, i => ({ topic: 'tail.x', type: 'tail.test', data: { i } })));
  await publish([{ topic: 'elsewhere', data: {} }]);
  await until(async () => (await page.locator('#tail li.event').count()) >= 3, 'three tail lines', 15_000);
  const lines = await page.locator('#tail li.event').allTextContents();
  assert.equal(lines.length, 3, lines.join('\n'));
  // Newest first.
  assert.deepEqual(lines.map(l => Number(/#(\d+)/.exec(l)[1])), [...sequences].reverse());
  assert.ok(lines.every(l => l.includes('tail.x tail.test')));
  assert.deepEqual(page.problems, []);
  await page.close();
});

test("the page's demand window drawing follows credits as they are used and granted", async () => {
  const page = await browser.open(`${hub.url}/`);
  const connection = new signalR.HubConnectionBuilder().withUrl(`${hub.url}/hubs/events`).configureLogging(signalR.LogLevel.Warning).build();
  let received = 0;
  connection.on('events', (_, batch) => { received += batch.length; });
  await connection.start();
  try {
    const { subscriptionId } = await connection.invoke('Subscribe', { topics: ['window.t'], demand: 'manual', maxDemand: 20 });
    const bar = page.locator(`#subscriptions tr[data-subscription-id="${subscriptionId}"] .window`);
    const drawn = async () => Number(await bar.getAttribute('data-credits', { timeout: 15_000 }));
    await until(async () => (await drawn()) === 0, 'a window drawn empty (manual demand starts with none)');
    await connection.invoke('Ask', subscriptionId, 12);
    await until(async () => (await drawn()) === 12, 'the window drawn with 12 credits');
    const filled = () => bar.locator('.credits').evaluate(e => parseFloat(e.style.width)); // percent of the window
    assert.equal(await filled(), 60);
    await publish(range(5, () => ({ topic: 'window.t' })));
    await until(() => received === 5, 'five events received');
    await until(async () => (await drawn()) === 7, 'the window drawn with 7 credits after 5 were used');
    assert.equal(await filled(), 35);
    await connection.invoke('Ask', subscriptionId, 13);
    await until(async () => (await drawn()) === 20, 'the window drawn full again');
    assert.equal(await filled(), 100);
    assert.equal(await bar.getAttribute('data-max'), '20');
    assert.deepEqual(page.problems, []);
  } finally {
    await connection.stop();
    await page.close();
  }
});

test('the dashboard lists a group with its members and what they hold in flight', async () => {
  const page = await browser.open(`${hub.url}/`);
  const connections = [];
  try {
    for (let i = 0; i < 2; i++) {
      const connection = new signalR.HubConnectionBuilder().withUrl(`${hub.url}/hubs/events`).configureLogging(signalR.LogLevel.Warning).build();
      connection.on('events', () => {});
      await connection.start();
      await connection.invoke('Subscribe', { topics: ['jobs.*'], maxDemand: 5, group: 'printers', dispatch: 'demand' });
      connections.push(connection);
    }
    await publish(range(4, i => ({ topic: 'jobs.print', data: { i } })));
    const row = page.locator('#groups tr[data-group="printers"]');
    await until(async () => (await row.count()) === 1 && (await row.locator('td').nth(7).textContent()) === '4',
      'the group row with 4 events in flight', 15_000);
    assert.equal(await row.locator('td').nth(3).textContent(), '2');
    assert.equal(await row.locator('td').nth(2).textContent(), 'demand');
    assert.equal(await page.locator('#subscriptions td', { hasText: 'group printers (demand)' }).count(), 2);
    assert.deepEqual(page.problems, []);
  } finally {
    for (const connection of connections) await connection.stop();
    await page.close();
  }
});

test('a page that loses its connection reconnects and handles every event published meanwhile, none twice', async () => {
  const proxy = new TcpProxy({ port: Number(new URL(hub.url).port) });
  const port = await proxy.start();
  const page = await browser.open(`http://127.0.0.1:${port}/demo.html?fast=1&slow=0&publish=0&topic=resume.t&max=50&autostart=1`);
  try {
    await until(async () => (await demoState(page)).subscribers[0]?.subscriptionId, 'the page subscribed', 15_000);
    const first = await publish(range(100, i => ({ topic: 'resume.t', data: { i } })));
    await until(async () => (await demoState(page)).subscribers[0].handled === 100, 'the first 100 handled', 15_000);
    const before = (await demoState(page)).subscribers[0].subscriptionId;

    proxy.cutAll();
    const second = await publish(range(100, i => ({ topic: 'resume.t', data: { i: 100 + i } })));
    const last = second.at(-1);
    await until(async () => (await demoState(page)).subscribers[0].lastSequence === last, 'the last event handled after the reconnect', 30_000);

    const { subscribers: [s], errors } = await demoState(page);
    assert.equal(s.handled, 200, 'every event handled once');
    assert.equal(s.duplicates, 0);
    assert.equal(s.gaps, 0);
    assert.notEqual(s.subscriptionId, before, 'it resumed on a new subscription');
    assert.ok(first[0] < last);
    assert.deepEqual(errors, []);
  } finally {
    await page.close();
    await proxy.close();
  }
});

test('a slow subscriber in one tab does not slow a fast one in another', async () => {
  const common = 'publish=0&topic=isolation.t&max=10&autostart=1';
  const slow = await browser.open(`${hub.url}/demo.html?fast=0&slow=1&delay=100&${common}`);
  const fast = await browser.open(`${hub.url}/demo.html?fast=1&slow=0&${common}`);
  try {
    for (const page of [slow, fast]) {
      await until(async () => (await demoState(page)).subscribers[0]?.subscriptionId, 'both pages subscribed', 15_000);
    }
    for (let i = 0; i < 5; i++) await publish(range(200, n => ({ topic: 'isolation.t', data: { n: i * 200 + n } })));
    await until(async () => (await demoState(fast)).subscribers[0].handled === 1000, 'the fast tab handled all 1000', 30_000);
    const slowHandled = (await demoState(slow)).subscribers[0].handled;
    // At 100 ms an event, the slow tab cannot have handled them all by now; it holds at most its window of 10.
    assert.ok(slowHandled < 1000, `the slow tab handled ${slowHandled}`);
    assert.ok(slowHandled > 0, 'the slow tab is receiving too');
  } finally {
    await slow.close();
    await fast.close();
  }
});

test('the demo shows a slow subscriber falling behind while the fast ones keep up (README screenshot)', async () => {
  const page = await browser.open(`${hub.url}/demo.html?rate=400&fast=3&slow=1&delay=20&max=100&autostart=1`);
  try {
    // Wait until the slow one is well behind and the chart has some history: conditions, not a fixed time.
    await until(async () => {
      const s = await demoState(page);
      const slowOne = s.subscribers.find(x => x.slow);
      return s.published >= 4000 && slowOne && slowOne.lag >= 2000;
    }, 'ten seconds of publishing, the slow subscriber 2000 events behind', 60_000);
    const s = await demoState(page);
    const fastOnes = s.subscribers.filter(x => !x.slow);
    const slowOne = s.subscribers.find(x => x.slow);
    for (const f of fastOnes) assert.ok(f.lag < slowOne.lag, `${f.name} lags ${f.lag}, the slow one ${slowOne.lag}`);
    await browser.screenshot(page, 'demo');
    assert.deepEqual(page.problems, []);
    assert.deepEqual(s.errors, []);
  } finally {
    await page.evaluate(() => document.getElementById('stop').click());
    await page.close();
  }
});
