// Retrying and delayed messages in the console: a retry queue and an x-delayed-message exchange
// made over AMQP (amqplib), their waiting messages listed with due times, one of each cancelled
// through the UI, and the effect checked over AMQP and the API. One broker and one browser for
// the file; the tests run in order.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import amqp from 'amqplib';
import { eventually, http, launchBrowser, screenshot, startBroker } from '../lib/harness.js';

const T = { timeout: 120000 };
const VIEWPORT = { width: 1366, height: 768 };
const LONG = 3_600_000; // ms: nothing here comes due by itself while the tests run

let broker, chrome, page, conn, ch;

const see = (text, opts = {}) => page.getByText(text, opts).first().waitFor({ state: 'visible', timeout: 15000 });
const tableRows = (scope) => scope.locator('tbody tr:not(:has(td.empty))');

describe('retrying and delayed messages', () => {
  before(async () => {
    broker = await startBroker();
    chrome = await launchBrowser({ viewport: VIEWPORT });
    page = chrome.context.pages()[0] ?? (await chrome.context.newPage());
    page.on('pageerror', (e) => console.error('page error:', e.message));
    conn = await amqp.connect(broker.amqpUrl);
    ch = await conn.createChannel();
  });

  after(async () => {
    await conn?.close().catch(() => {});
    await chrome?.close();
    await broker?.stop();
  });

  test('set up over AMQP: a retry queue with two waiting messages, two delayed messages', T, async () => {
    await ch.assertQueue('e2e.retry', { durable: true, arguments: { 'x-delayed-retry-type': 'failed', 'x-delayed-retry-min': LONG } });
    for (const order of [1, 2]) {
      ch.sendToQueue('e2e.retry', Buffer.from(JSON.stringify({ order, note: `retry me ${order}` })), { contentType: 'application/json', persistent: true });
    }
    for (let i = 0; i < 2; i++) {
      const m = await eventually(() => ch.get('e2e.retry'), 10000, 'a message in e2e.retry');
      ch.reject(m, true); // a failed delivery: waits LONG before it is retried
    }
    await ch.assertExchange('e2e.delayed', 'x-delayed-message', { arguments: { 'x-delayed-type': 'direct' } });
    await ch.assertQueue('e2e.later');
    await ch.bindQueue('e2e.later', 'e2e.delayed', 'invoice');
    ch.publish('e2e.delayed', 'invoice', Buffer.from('send invoice 17'), { headers: { 'x-delay': LONG } });
    ch.publish('e2e.delayed', 'invoice', Buffer.from('send invoice 18'), { headers: { 'x-delay': LONG + 60000 } });
    await eventually(async () => (await http(broker, 'GET', '/api/queues/%2F/e2e.retry')).body.messages_waiting === 2, 15000, '2 waiting');
    await eventually(async () => (await http(broker, 'GET', '/api/delayed')).body.delayed_messages === 2, 15000, '2 delayed');
  });

  test('log in; the overview counts them', T, async () => {
    await page.goto(broker.httpUrl + '/');
    await page.getByLabel('User name').fill('guest');
    await page.getByLabel('Password').fill('guest');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    const card = (label) => page.locator('.card', { hasText: label }).locator('.card-value');
    await eventually(async () => (await card('Waiting to retry').textContent()) === '2', 15000, 'overview: 2 waiting');
    await eventually(async () => (await card('Delayed').textContent()) === '2', 15000, 'overview: 2 delayed');
    await screenshot(page, 'overview-waiting');
  });

  test('the queue page lists the retrying messages; "Retry now" makes one ready at once', T, async () => {
    await page.goto(broker.httpUrl + '/#/queues/%2F/e2e.retry');
    await page.getByRole('heading', { name: /Queue e2e\.retry/ }).waitFor();
    const panel = page.getByTestId('retrying');
    await eventually(async () => (await tableRows(panel).count()) === 2, 15000, '2 retrying rows');
    assert.equal(await page.getByTestId('queue-waiting').textContent(), '2');
    const charted = page.locator('figure[data-chart="Queued messages"] [data-series="Waiting"]');
    await eventually(async () => (await charted.textContent()) === '2', 15000, 'the depth chart charts 2 waiting');
    const first = tableRows(panel).first();
    assert.match(await first.textContent(), /in 59 min|in 1 h 0 min/);
    assert.match(await first.textContent(), /retry me 1/);
    // Failed deliveries: 1 for each.
    assert.equal(await first.locator('td').nth(2).textContent(), '1');
    await panel.scrollIntoViewIfNeeded();
    await screenshot(page, 'queue-retrying');

    const second = tableRows(panel).nth(1);
    const id = (await second.locator('td').first().textContent()).trim();
    await second.getByRole('button', { name: 'Retry now' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText('becomes ready at once').waitFor();
    await screenshot(page, 'queue-retry-confirm');
    await dialog.getByRole('button', { name: 'Retry now' }).click();
    await see(`Message ${id} is ready again`);

    // Over AMQP: the released message is there now, with its delivery count; the other still waits.
    const m = await eventually(() => ch.get('e2e.retry'), 10000, 'the released message');
    assert.equal(JSON.parse(m.content.toString()).order, 2);
    assert.equal(m.properties.headers['x-delivery-count'], 1);
    assert.equal(m.fields.redelivered, true);
    ch.ack(m);
    assert.equal(await ch.get('e2e.retry'), false);
    const api = await http(broker, 'GET', '/api/queues/%2F/e2e.retry/waiting');
    assert.deepEqual(
      api.body.items.map((i) => i.payload_json.order),
      [1],
    );
    await eventually(async () => (await tableRows(panel).count()) === 1, 15000, '1 retrying row left');
    await eventually(async () => (await page.getByTestId('queue-waiting').textContent()) === '1', 15000, 'card: 1 waiting');
  });

  test('the Delayed page lists delayed messages; "Cancel delivery" drops one', T, async () => {
    await page.getByRole('link', { name: 'Delayed', exact: true }).click();
    await page.getByRole('heading', { name: 'Delayed messages' }).waitFor();
    await eventually(async () => (await tableRows(page).count()) === 2, 15000, '2 delayed rows');
    const texts = await tableRows(page).allTextContents();
    assert.match(texts[0], /e2e\.delayed/);
    assert.match(texts[0], /send invoice 17/);
    assert.match(texts[1], /send invoice 18/);
    assert.match(texts[0], /in 59 min|in 1 h 0 min/);
    await see('2 delayed messages in virtual host / (default)');
    await screenshot(page, 'delayed');

    await tableRows(page).first().getByRole('button', { name: 'Cancel delivery' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText('is dropped and never routed').waitFor();
    await screenshot(page, 'delayed-cancel-confirm');
    await dialog.getByRole('button', { name: 'Cancel delivery' }).click();
    await see('Delayed message cancelled');
    await eventually(async () => (await tableRows(page).count()) === 1, 15000, '1 delayed row left');
    assert.match(await tableRows(page).first().textContent(), /send invoice 18/);

    // Through the API: one left, the right one; nothing was routed to the queue.
    const listed = await http(broker, 'GET', '/api/delayed/%2F');
    assert.deepEqual(
      listed.body.items.map((i) => i.payload),
      ['send invoice 18'],
    );
    assert.equal((await http(broker, 'GET', '/api/overview')).body.delayed_messages, 1);
    assert.equal((await ch.checkQueue('e2e.later')).messageCount, 0);
  });

  test('cancelling what is already gone is an error in plain words', T, async () => {
    await tableRows(page).first().getByRole('button', { name: 'Cancel delivery' }).click();
    await page.getByRole('dialog').getByText('is dropped and never routed').waitFor();
    // Someone else cancels it first.
    const id = (await http(broker, 'GET', '/api/delayed/%2F')).body.items[0].id;
    assert.equal((await http(broker, 'DELETE', `/api/delayed/%2F/${id}`)).status, 204);
    await page.getByRole('dialog').getByRole('button', { name: 'Cancel delivery' }).click();
    await see("Could not cancel the delayed message for 'e2e.delayed': no delayed message");
    await screenshot(page, 'delayed-cancel-error');
    await eventually(async () => (await page.locator('td.empty').textContent()).includes('No delayed message is waiting'), 15000, 'empty state');
    await page.locator('.toast.error').getByRole('button', { name: 'Close' }).click();
    await screenshot(page, 'delayed-empty');
    assert.equal((await http(broker, 'GET', '/api/delayed')).body.delayed_messages, 0);
  });
});
