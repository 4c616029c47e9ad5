// The web console end to end: the real broker binary, Debian's chromium, amqplib for the AMQP
// side. One broker and one browser for the whole file; the tests run in order and build on each
// other (the DLQ made in one is browsed, filtered, redriven and deleted from in the next ones).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import amqp from 'amqplib';
import { eventually, http, launchBrowser, screenshot, startBroker } from '../lib/harness.js';

const T = { timeout: 90000 };
const VIEWPORT = { width: 1366, height: 768 }; // a laptop screen

let broker, chrome, context, page, conn, ch;

// Waits for text to be visible somewhere on the page.
const see = (text, opts = {}) => page.getByText(text, opts).first().waitFor({ state: 'visible', timeout: 10000 });
const rows = () => page.locator('table.messages tbody tr[data-message-id]');

const crumbs = () => page.getByRole('navigation', { name: 'Breadcrumb' }).locator('li').allTextContents();

// For `ms`: publishes to e2e.work and rejects it at once (no requeue), so messages are
// dead-lettered from e2e.work into e2e.dead all along.
async function deadLetterFor(ms) {
  const c = await conn.createChannel();
  try {
    const stop = Date.now() + ms;
    while (Date.now() < stop) {
      for (let i = 0; i < 5; i++) c.sendToQueue('e2e.work', Buffer.from('dead on arrival'));
      for (let i = 0; i < 5; i++) c.nack(await eventually(() => c.get('e2e.work'), 5000, 'a message to reject'), false, false);
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    await c.close();
  }
}

async function checkQueue(name) {
  const c = await conn.createChannel();
  try {
    return (await c.checkQueue(name)).messageCount;
  } finally {
    await c.close();
  }
}

describe('web console', () => {
  before(async () => {
    broker = await startBroker();
    chrome = await launchBrowser({ viewport: VIEWPORT, acceptDownloads: true });
    context = chrome.context;
    page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (e) => console.error('page error:', e.message));
    conn = await amqp.connect(broker.amqpUrl);
    ch = await conn.createChannel();
  });

  after(async () => {
    await conn?.close().catch(() => {});
    await chrome?.close();
    await broker?.stop();
  });

  test('the broker serves the built console; API paths are unchanged', T, async () => {
    const index = await fetch(broker.httpUrl + '/');
    assert.equal(index.status, 200);
    assert.match(index.headers.get('content-type'), /^text\/html/);
    assert.equal(index.headers.get('cache-control'), 'no-cache');
    assert.match(index.headers.get('content-security-policy'), /default-src 'self'/);
    const html = await index.text();
    const js = /src="(\/assets\/[^"]+\.js)"/.exec(html)[1];
    const css = /href="(\/assets\/[^"]+\.css)"/.exec(html)[1];
    const asset = await fetch(broker.httpUrl + js);
    assert.equal(asset.status, 200);
    assert.match(asset.headers.get('content-type'), /^text\/javascript/);
    assert.match(asset.headers.get('cache-control'), /immutable/);
    assert.match((await fetch(broker.httpUrl + css)).headers.get('content-type'), /^text\/css/);
    // Nothing outside the directory, no hidden files; unknown files are the API's 404 JSON.
    for (const p of ['/assets/..%2F..%2F..%2FCMakeLists.txt', '/..%2Findex.html', '/.vite/manifest.json', '/assets/nope.js']) {
      const r = await fetch(broker.httpUrl + p);
      assert.equal(r.status, 404, p);
      assert.deepEqual(await r.json(), { error: 'Object Not Found', reason: 'Not Found' });
    }
    // The API still needs credentials and answers JSON.
    assert.equal((await fetch(broker.httpUrl + '/api/overview')).status, 401);
    assert.equal((await http(broker, 'GET', '/api/overview')).body.product_name, 'Warren');
  });

  test('a broker whose console was not built says so on / and still serves the API', T, async () => {
    const other = await startBroker(['--console-dir', '/nonexistent/warren-console']);
    try {
      const r = await fetch(other.httpUrl + '/');
      assert.equal(r.status, 404);
      assert.match(r.headers.get('content-type'), /^text\/html/);
      const text = await r.text();
      assert.match(text, /The web console is not built/);
      assert.match(text, /\/nonexistent\/warren-console/);
      assert.equal((await http(other, 'GET', '/api/overview')).status, 200);
    } finally {
      await other.stop();
    }
  });

  test('log in: a wrong password is refused in plain words, guest gets in', T, async () => {
    await page.goto(broker.httpUrl + '/');
    await page.getByLabel('User name').fill('guest');
    await page.getByLabel('Password').fill('wrong');
    await page.getByRole('button', { name: 'Log in' }).click();
    await see('Login failed');
    await screenshot(page, 'login-failed');
    await page.getByLabel('Password').fill('guest');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await see('No alarms');
    await eventually(async () => (await page.locator('.card-value').count()) >= 8, 10000, 'totals');
  });

  test('create the DLX topology through the UI', T, async () => {
    // The dead-letter exchange.
    await page.goto(broker.httpUrl + '/#/exchanges');
    await page.getByRole('button', { name: 'Add an exchange' }).click();
    await page.getByLabel('Name', { exact: true }).fill('e2e.dlx');
    await page.getByLabel('Type').selectOption('fanout');
    await page.getByRole('button', { name: 'Add exchange', exact: true }).click();
    await page.getByRole('link', { name: 'e2e.dlx' }).waitFor();
    await screenshot(page, 'exchanges');

    // The DLQ, bound to it from its queue page.
    await page.goto(broker.httpUrl + '/#/queues');
    await page.getByRole('button', { name: 'Add a queue' }).click();
    await page.getByLabel('Name', { exact: true }).fill('e2e.dead');
    await page.getByRole('button', { name: 'Add queue', exact: true }).click();
    await page.getByRole('heading', { name: /Queue e2e\.dead/ }).waitFor();
    await page.getByLabel('From exchange').fill('e2e.dlx');
    await page.getByRole('button', { name: 'Bind', exact: true }).click();
    await page.getByRole('cell', { name: 'e2e.dlx', exact: true }).waitFor();

    // Two work queues that dead-letter into it.
    for (const [name, extra] of [
      ['e2e.work', {}],
      ['e2e.work2', { ttl: '' }],
    ]) {
      void extra;
      await page.goto(broker.httpUrl + '/#/queues');
      await page.getByRole('button', { name: 'Add a queue' }).click();
      await page.getByLabel('Name', { exact: true }).fill(name);
      await page.getByLabel('Dead-letter exchange').fill('e2e.dlx');
      await page.getByRole('button', { name: 'Add queue', exact: true }).click();
      await page.getByRole('heading', { name: new RegExp(`Queue ${name.replace('.', '\\.')}$`) }).waitFor();
    }
    const work = await http(broker, 'GET', '/api/queues/%2F/e2e.work');
    assert.equal(work.body.arguments['x-dead-letter-exchange'], 'e2e.dlx');
    assert.equal(work.body.durable, true);
    const dead = await http(broker, 'GET', '/api/queues/%2F/e2e.dead');
    assert.equal(dead.body.dead_letter_target, true);
    assert.deepEqual(dead.body.dead_letter_sources, ['e2e.work', 'e2e.work2']);
  });

  test('the exchange list sorts and filters on the server', T, async () => {
    assert.equal((await http(broker, 'PUT', '/api/exchanges/%2F/e2e.x1', { type: 'topic' })).status, 201);
    assert.equal((await http(broker, 'PUT', '/api/exchanges/%2F/e2e.x2', { type: 'direct' })).status, 201);
    const requests = [];
    const onRequest = (r) => r.url().includes('/api/exchanges?') && requests.push(new URL(r.url()).searchParams);
    page.on('request', onRequest);
    try {
      await page.goto(broker.httpUrl + '/#/exchanges');
      const names = async () => (await page.locator('tbody tr td:first-child').allTextContents()).join(' ');
      await page.getByLabel('Filter by name').fill('e2e.');
      await page.getByRole('button', { name: 'Apply' }).click();
      await eventually(async () => (await names()) === 'e2e.dlx e2e.x1 e2e.x2', 10000, 'the e2e. exchanges by name');
      await page.getByRole('button', { name: 'Type' }).click();
      await eventually(async () => (await names()) === 'e2e.x2 e2e.dlx e2e.x1', 10000, 'by type: direct, fanout, topic');
      await page.getByRole('button', { name: 'Type' }).click();
      await eventually(async () => (await names()) === 'e2e.x1 e2e.dlx e2e.x2', 10000, 'by type, reversed');
      assert.equal(await page.locator('th[aria-sort=descending]').textContent(), 'Type▼');
      await page.getByLabel('Filter by name').fill('^e2e\\.x\\d$');
      await page.getByLabel('Regular expression').check();
      await page.getByRole('button', { name: 'Apply' }).click();
      await eventually(async () => (await names()) === 'e2e.x1 e2e.x2', 10000, 'the regex matches');
      assert.match(await page.locator('nav.pager').textContent(), /· 2 exchanges/);
      await screenshot(page, 'exchanges-filtered');
      // All of it was the broker's work: RabbitMQ's listing parameters on every request.
      const last = requests[requests.length - 1];
      assert.equal(last.get('sort'), 'type');
      assert.equal(last.get('sort_reverse'), 'true');
      assert.equal(last.get('name'), '^e2e\\.x\\d$');
      assert.equal(last.get('use_regex'), 'true');
      assert.equal(last.get('page'), '1');
      assert.ok(requests.every((q) => q.get('page_size') === '100'));
    } finally {
      page.off('request', onRequest);
    }
  });

  test('an error is shown in plain words: redeclaring with other arguments', T, async () => {
    await page.goto(broker.httpUrl + '/#/queues');
    await page.getByRole('button', { name: 'Add a queue' }).click();
    await page.getByLabel('Name', { exact: true }).fill('e2e.work');
    await page.getByRole('button', { name: 'Add queue', exact: true }).click();
    await see("The broker refused to create queue 'e2e.work': inequivalent arg 'x-dead-letter-exchange'");
    await screenshot(page, 'queue-create-error');
    await page.getByRole('button', { name: 'Close the form' }).click();
  });

  test('messages rejected and expired over AMQP land in the DLQ; the queue list marks it', T, async () => {
    for (let i = 0; i < 8; i++) {
      const body = JSON.stringify({ order: i, kind: i % 2 ? 'bad' : 'good', note: 'order ' + i });
      ch.sendToQueue('e2e.work', Buffer.from(body), { contentType: 'application/json', persistent: true, headers: { 'x-tenant': 'acme' } });
    }
    for (let i = 0; i < 4; i++) {
      ch.sendToQueue('e2e.work2', Buffer.from(`plain text ${i}`), { expiration: '20', contentType: 'text/plain' });
    }
    ch.sendToQueue('e2e.work2', Buffer.from([0, 1, 2, 0xff, 0xfe]), { expiration: '20' });
    for (let i = 0; i < 8; i++) {
      const m = await eventually(() => ch.get('e2e.work'), 5000, 'a message in e2e.work');
      ch.nack(m, false, false);
    }
    await eventually(async () => (await checkQueue('e2e.dead')) === 13, 10000, '13 messages in e2e.dead');

    await page.goto(broker.httpUrl + '/#/queues');
    await page.getByLabel('Filter by name').fill('e2e.');
    await page.getByRole('button', { name: 'Apply' }).click();
    const deadRow = page.locator('tr', { has: page.getByRole('link', { name: 'e2e.dead', exact: true }) });
    await deadRow.getByRole('link', { name: 'DLQ' }).waitFor();
    await eventually(async () => (await deadRow.locator('td').nth(3).textContent()) === '13', 10000, 'depth 13 in the list');
    assert.equal(await page.locator('tr', { has: page.getByRole('link', { name: 'e2e.work', exact: true }) }).getByRole('link', { name: 'DLQ' }).count(), 0);
    // Sort by depth, deepest first.
    await page.getByRole('button', { name: 'Total' }).click();
    await eventually(async () => (await page.locator('tbody tr').first().textContent()).includes('e2e.dead'), 10000, 'e2e.dead first');
    await screenshot(page, 'queues');
  });

  test('browse and filter the DLQ without consuming', T, async () => {
    await page.goto(broker.httpUrl + '/#/dlq/%2F/e2e.dead');
    await page.getByRole('heading', { name: /e2e\.dead/ }).waitFor();
    assert.deepEqual(await crumbs(), ['DLQ inspector', 'vhost “/” (default)', 'e2e.dead']);
    await eventually(async () => (await rows().count()) === 13, 10000, '13 rows');
    // Reason
    await page.getByLabel('Reason').selectOption('expired');
    await page.getByRole('button', { name: 'Apply filter' }).click();
    await eventually(async () => (await rows().count()) === 5, 10000, '5 expired');
    // Origin queue + body text
    await page.getByLabel('Reason').selectOption('');
    await page.getByLabel('Origin queue').fill('e2e.work');
    await page.getByLabel('Body contains').fill('"kind":"bad"');
    await page.getByRole('button', { name: 'Apply filter' }).click();
    await eventually(async () => (await rows().count()) === 4, 10000, '4 bad orders');
    for (const t of await rows().locator('td.preview').allTextContents()) assert.match(t, /"kind":"bad"/);
    // Routing key
    await page.getByRole('button', { name: 'Clear', exact: true }).click();
    await page.getByLabel('Routing key').fill('e2e.work2');
    await page.getByRole('button', { name: 'Apply filter' }).click();
    await eventually(async () => (await rows().count()) === 5, 10000, '5 with routing key e2e.work2');
    // Time range: everything died in the last hour, nothing after an hour from now.
    await page.getByRole('button', { name: 'Clear', exact: true }).click();
    const local = (d) => new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 19);
    await page.getByLabel('Died after').fill(local(new Date(Date.now() + 3600 * 1000)));
    await page.getByRole('button', { name: 'Apply filter' }).click();
    await see('No message matches this filter.');
    await page.getByLabel('Died after').fill(local(new Date(Date.now() - 3600 * 1000)));
    await page.getByRole('button', { name: 'Apply filter' }).click();
    await eventually(async () => (await rows().count()) === 13, 10000, 'all 13 in the last hour');
    await page.getByRole('button', { name: 'Clear', exact: true }).click();

    // One message in detail: properties, headers, x-death table, JSON / text / hex body.
    const first = rows().first();
    await first.getByRole('button', { name: 'Show' }).click();
    const detail = page.locator('tr.detail').first();
    await detail.locator('table.deaths').waitFor();
    const death = await detail.locator('table.deaths tbody tr').first().locator('td').allTextContents();
    assert.equal(death[0], 'e2e.work');
    assert.equal(death[1], 'rejected');
    assert.equal(death[2], '1');
    assert.match(await detail.getByText('x-tenant').locator('..').textContent(), /acme/);
    assert.match(await detail.locator('pre.body').textContent(), /"order": 0,\n  "kind": "good"/);
    await detail.getByRole('button', { name: 'Hex' }).click();
    assert.match(await detail.locator('pre.body').textContent(), /^00000000  7b 22 6f 72 64 65 72/);
    await detail.getByRole('button', { name: 'JSON' }).click();
    await screenshot(page, 'dlq-inspector');
    // A binary body opens in hex.
    await page.getByLabel('Reason').selectOption('expired');
    await page.getByLabel('Body contains').fill('');
    await page.getByRole('button', { name: 'Apply filter' }).click();
    await eventually(async () => (await rows().count()) === 5, 10000, '5 expired');
    await rows().last().getByRole('button', { name: 'Show' }).click();
    await eventually(async () => /00 01 02 ff fe/.test(await page.locator('tr.detail pre.body').last().textContent()), 5000, 'hex of binary body');
    await screenshot(page, 'dlq-binary-message');
    await page.getByRole('button', { name: 'Clear', exact: true }).click();

    // Browsing consumed nothing.
    assert.equal(await checkQueue('e2e.dead'), 13);
  });

  test('redrive selected messages to their origin queue', T, async () => {
    await page.getByLabel('Origin queue').fill('e2e.work');
    await page.getByRole('button', { name: 'Apply filter' }).click();
    await eventually(async () => (await rows().count()) === 8, 10000, '8 from e2e.work');
    const ids = [];
    for (let i = 0; i < 3; i++) {
      const row = rows().nth(i);
      ids.push(Number(await row.getAttribute('data-message-id')));
      await row.getByRole('checkbox').check();
    }
    await see('3 selected');
    await page.getByRole('button', { name: 'Redrive to origin…' }).click();
    await page.getByRole('button', { name: 'Start redrive' }).click();
    await page.locator('[data-testid=redrive][data-state=finished]').waitFor({ timeout: 15000 });
    await see('3 moved back');
    await screenshot(page, 'dlq-redrive-finished');
    // Through AMQP: they are back in e2e.work, marked as redriven, and the DLQ shrank.
    assert.equal(await checkQueue('e2e.dead'), 10);
    assert.equal(await checkQueue('e2e.work'), 3);
    const bodies = [];
    for (let i = 0; i < 3; i++) {
      const m = await ch.get('e2e.work');
      assert.ok(m, 'a redriven message');
      assert.equal(m.properties.headers['x-warren-redrive-count'], 1);
      bodies.push(JSON.parse(m.content.toString()).order);
      ch.ack(m);
    }
    assert.deepEqual(bodies, [0, 1, 2]);
    await eventually(async () => (await rows().count()) === 5, 10000, '5 left from e2e.work');
  });

  test('delete one message', T, async () => {
    const row = rows().first();
    const id = await row.getAttribute('data-message-id');
    await row.getByRole('checkbox').check();
    await page.getByRole('button', { name: 'Delete…' }).click();
    await see('Delete 1 selected message from');
    await page.getByRole('dialog').getByRole('button', { name: 'Delete', exact: true }).click();
    await see('1 message deleted.');
    assert.equal(await checkQueue('e2e.dead'), 9);
    assert.equal((await http(broker, 'GET', `/api/queues/%2F/e2e.dead/messages/${id}`)).status, 404);
    await eventually(async () => (await rows().count()) === 4, 10000, '4 left from e2e.work');
  });

  test('export the matching messages as JSON, then move them all to a chosen queue', T, async () => {
    await http(broker, 'PUT', '/api/queues/%2F/e2e.parking', { durable: true });
    await page.getByRole('button', { name: 'Select all matching' }).click();
    await see('All matching the filter selected');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export JSON' }).click()]);
    const exported = JSON.parse(fs.readFileSync(await download.path(), 'utf8'));
    assert.equal(exported.queue, 'e2e.dead');
    assert.equal(exported.messages.length, 4);
    for (const m of exported.messages) assert.equal(m.x_death[0].queue, 'e2e.work');
    await page.getByRole('button', { name: 'Move to queue…' }).click();
    await page.getByLabel('Target queue').fill('e2e.parking');
    await page.getByRole('dialog').getByRole('button', { name: 'Move', exact: true }).click();
    await see("4 moved to 'e2e.parking'");
    assert.equal(await checkQueue('e2e.parking'), 4);
    assert.equal(await checkQueue('e2e.dead'), 5); // the 5 expired ones stay: they did not match
    await page.getByRole('button', { name: 'Clear', exact: true }).click();
    await eventually(async () => (await rows().count()) === 5, 10000, '5 left');
  });

  test('a slow redrive shows progress and can be cancelled', T, async () => {
    for (let i = 0; i < 40; i++) ch.sendToQueue('e2e.work', Buffer.from(`slow ${i}`));
    for (let i = 0; i < 40; i++) {
      const m = await eventually(() => ch.get('e2e.work'), 5000, 'a message');
      ch.nack(m, false, false);
    }
    await eventually(async () => (await checkQueue('e2e.dead')) === 45, 10000, '45 in the DLQ');
    await page.getByLabel('Origin queue').fill('e2e.work');
    await page.getByRole('button', { name: 'Apply filter' }).click();
    await page.getByRole('button', { name: 'Select all matching' }).click();
    await page.getByRole('button', { name: 'Redrive to origin…' }).click();
    await page.getByLabel('At most (messages per second)').fill('10');
    await page.getByRole('button', { name: 'Start redrive' }).click();
    await page.locator('[data-testid=redrive][data-state=running]').waitFor();
    await eventually(async () => Number(await page.locator('[data-testid=redrive] progress').getAttribute('value')) > 0, 10000, 'progress');
    await screenshot(page, 'dlq-redrive-running');
    await page.getByRole('button', { name: 'Cancel redrive' }).click();
    await page.locator('[data-testid=redrive][data-state=cancelled]').waitFor();
    const moved = await checkQueue('e2e.work');
    assert.ok(moved > 0 && moved < 40, `some moved before the cancel, not all (${moved})`);
    await new Promise((r) => setTimeout(r, 600));
    assert.equal(await checkQueue('e2e.work'), moved, 'nothing moves after the cancel');
    assert.equal(await checkQueue('e2e.dead'), 45 - moved);
    await ch.purgeQueue('e2e.work');
  });

  test('a chart moves with traffic', T, async () => {
    await page.goto(broker.httpUrl + '/#/overview');
    const publish = page.locator('figure[data-chart="Message rates"] [data-series="Publish"]');
    await publish.waitFor();
    const stop = Date.now() + 7000;
    const pump = (async () => {
      while (Date.now() < stop) {
        for (let i = 0; i < 20; i++) ch.sendToQueue('e2e.parking', Buffer.from('tick'));
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const rejecting = deadLetterFor(7000);
    const points0 = Number(await page.locator('figure[data-chart="Message rates"]').getAttribute('data-points'));
    await eventually(async () => {
      const t = await publish.textContent();
      return t !== '0/s' && t !== '–' && parseFloat(t) > 0;
    }, 15000, 'a publish rate above 0');
    // The dead-letter series: the broker's message_stats.dead_lettered, as a rate.
    const deadRate = page.locator('figure[data-chart="Message rates"] [data-series="Dead-letter"]');
    await eventually(async () => parseFloat(await deadRate.textContent()) > 0, 15000, 'a dead-letter rate above 0');
    await pump;
    await rejecting;
    const points1 = Number(await page.locator('figure[data-chart="Message rates"]').getAttribute('data-points'));
    assert.ok(points1 > points0, `the chart gained points (${points0} -> ${points1})`);
    // uPlot drew a path for the series.
    assert.ok((await page.locator('figure[data-chart="Message rates"] canvas').count()) > 0);
    await eventually(async () => Number((await page.locator('.card', { hasText: 'In dead-letter queues' }).locator('.card-value').textContent()).replace(/,/g, '')) === (await checkQueue('e2e.dead')), 10000, 'DLQ total');
    await screenshot(page, 'overview');
  });

  test('queue detail: charts, arguments, bindings, publish and get', T, async () => {
    await page.goto(broker.httpUrl + '/#/queues/%2F/e2e.work');
    await page.getByRole('rowheader', { name: 'x-dead-letter-exchange' }).waitFor();
    assert.deepEqual(await crumbs(), ['Queues', 'vhost “/” (default)', 'e2e.work']);
    // Messages rejected from this queue: the broker's count (on the source queue) and the rate chart.
    const rejecting = deadLetterFor(6000);
    const deadRate = page.locator('figure[data-chart="Message rates"] [data-series="Dead-letter"]');
    await eventually(async () => parseFloat(await deadRate.textContent()) > 0, 15000, 'a dead-letter rate on the queue page');
    await rejecting;
    const counted = (await http(broker, 'GET', '/api/queues/%2F/e2e.work')).body.message_stats.dead_lettered;
    assert.ok(counted > 48, `e2e.work dead-lettered ${counted}: the 48 rejected earlier and the ones just now`);
    await eventually(async () => Number((await page.getByTestId('queue-dead-lettered').textContent()).replace(/,/g, '')) === counted, 10000, 'the dead-lettered card');
    await page.getByRole('textbox', { name: 'Payload' }).fill('hello from the console');
    await page.getByRole('button', { name: 'Publish message' }).click();
    await see('Message published and routed');
    await page.getByRole('button', { name: 'Get messages' }).click();
    await see('hello from the console');
    await eventually(async () => (await page.getByTestId('queue-ready').textContent()) === '1', 10000, 'ready 1');
    await screenshot(page, 'queue-detail');
    const dead = await (async () => {
      await page.goto(broker.httpUrl + '/#/queues/%2F/e2e.dead');
      await see('This is a dead-letter queue for');
      return true;
    })();
    assert.ok(dead);
    // The page starts afresh: the publish form names this queue, not the one visited before.
    assert.equal(await page.getByRole('form', { name: 'Publish a message' }).getByLabel('Routing key').inputValue(), 'e2e.dead');
    await screenshot(page, 'queue-detail-dlq');
  });

  test('connections and channels: list, and close one', T, async () => {
    const other = await amqp.connect(broker.amqpUrl, { clientProperties: { connection_name: 'e2e-victim' } });
    await other.createChannel();
    const closed = new Promise((resolve) => other.on('close', resolve));
    other.on('error', () => {});
    await page.goto(broker.httpUrl + '/#/connections');
    const row = page.locator('tr', { hasText: 'e2e-victim' });
    await row.waitFor({ timeout: 10000 });
    assert.ok((await page.locator('table').nth(1).locator('tbody tr').count()) >= 2, 'channels listed');
    await screenshot(page, 'connections');
    await row.getByRole('button', { name: /Close connection/ }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Close connection' }).click();
    const err = await closed;
    assert.match(String(err), /CONNECTION_FORCED|Closed via the Warren web console/);
    await eventually(async () => (await page.locator('tr', { hasText: 'e2e-victim' }).count()) === 0, 10000, 'the row gone');
  });

  test('the exchange page publishes a test message', T, async () => {
    // An exchange-to-exchange binding into e2e.dlx, listed on its page too.
    assert.equal((await http(broker, 'POST', '/api/bindings/%2F/e/e2e.x1/e/e2e.dlx', { routing_key: 'audit.#' })).status, 201);
    await page.goto(broker.httpUrl + '/#/exchanges/%2F/e2e.dlx');
    await page.getByRole('heading', { name: 'Bindings from this exchange' }).waitFor();
    await page.getByRole('cell', { name: 'queue e2e.dead' }).waitFor();
    await page.getByRole('table', { name: 'Bindings to this exchange' }).getByRole('cell', { name: 'e2e.x1', exact: true }).waitFor();
    assert.deepEqual(await crumbs(), ['Exchanges', 'vhost “/” (default)', 'e2e.dlx']);
    await page.getByRole('textbox', { name: 'Payload' }).fill('{"test": true}');
    await page.getByRole('button', { name: 'Publish message' }).click();
    await see('Message published and routed');
    await screenshot(page, 'exchange-detail');
  });

  test('the keyboard reaches the navigation and the pages', T, async () => {
    await page.goto(broker.httpUrl + '/#/overview');
    await page.reload(); // focus starts at the top of a fresh document
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await page.keyboard.press('Tab'); // skip link
    assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Skip to content');
    for (let i = 0; i < 5; i++) await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement.textContent), 'DLQ inspector');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'DLQ inspector' }).waitFor();
    await page.getByRole('link', { name: 'e2e.dead' }).waitFor();
    await screenshot(page, 'dlq-index');
  });

  test('the queue list stays fast with 10,000 queues (server-side paging)', T, async () => {
    const c = await conn.createChannel();
    const declared = [];
    for (let i = 0; i < 10000; i++) declared.push(c.assertQueue(`bulk-${String(i).padStart(5, '0')}`, { durable: false }));
    await Promise.all(declared);
    await c.close();
    const requests = [];
    page.on('request', (r) => r.url().includes('/api/queues?') && requests.push(r.url()));
    const t0 = Date.now();
    await page.goto(broker.httpUrl + '/#/queues');
    await eventually(async () => /of 10,0\d\d/.test(await page.locator('nav.pager').textContent()) || /10,0\d\d queues/.test(await page.locator('nav.pager').textContent()), 15000, 'the pager to count 10,000+ queues');
    const elapsed = Date.now() - t0;
    assert.equal(await page.locator('tbody tr').count(), 50, 'one page of 50 rows');
    assert.ok(requests.every((u) => /page_size=50/.test(u)), 'every listing asks for one page');
    assert.ok(elapsed < 5000, `the list showed in ${elapsed} ms`);
    // Filtering and paging go to the server too.
    await page.getByLabel('Filter by name').fill('bulk-0999');
    await page.getByRole('button', { name: 'Apply' }).click();
    await eventually(async () => (await page.locator('tbody tr').count()) === 10, 10000, '10 matches for bulk-0999');
    await page.getByLabel('Filter by name').fill('');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.getByRole('button', { name: 'Next →' }).click();
    await eventually(async () => /Page 2 of/.test(await page.locator('nav.pager').textContent()), 10000, 'page 2');
    await screenshot(page, 'queues-10000');
  });

  test('a session that expires, or a user who loses access, goes back to the login page', T, async () => {
    await page.goto(broker.httpUrl + '/#/queues');
    await page.evaluate(() => {
      const s = JSON.parse(sessionStorage.getItem('warren.session'));
      s.lastActive = Date.now() - 31 * 60 * 1000;
      sessionStorage.setItem('warren.session', JSON.stringify(s));
    });
    await see('Your session expired', { exact: false });
    await page.getByRole('button', { name: 'Log in' }).waitFor();
    await screenshot(page, 'session-expired');

    // A user deleted while logged in is sent back with the broker's reason.
    assert.equal((await http(broker, 'PUT', '/api/users/ops', { password: 'ops-pass', tags: 'administrator' })).status, 201);
    await page.getByLabel('User name').fill('ops');
    await page.getByLabel('Password').fill('ops-pass');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('button', { name: 'Log out' }).waitFor();
    await page.goto(broker.httpUrl + '/#/overview');
    assert.equal((await http(broker, 'DELETE', '/api/users/ops')).status, 204);
    await see('You were logged out', { exact: false });
    assert.match(await page.locator('.notice').textContent(), /Login failed/);
  });

  test('a refusal for want of a tag or permission (403) is shown as an error; the session goes on', T, async () => {
    // Right password, no management tag: refused at the login page, saying why.
    assert.equal((await http(broker, 'PUT', '/api/users/notag', { password: 'notag-pass', tags: '' })).status, 201);
    await page.goto(broker.httpUrl + '/');
    await page.getByLabel('User name').fill('notag');
    await page.getByLabel('Password').fill('notag-pass');
    await page.getByRole('button', { name: 'Log in' }).click();
    await see('this user has no management tag', { exact: false });

    // A management user with no permissions in '/': the overview works without the node view
    // (403 "Not monitor user"), a queue of '/' is refused where the page shows errors, and the
    // user stays logged in.
    assert.equal((await http(broker, 'PUT', '/api/users/viewer', { password: 'viewer-pass', tags: 'management' })).status, 201);
    await page.getByLabel('User name').fill('viewer');
    await page.getByLabel('Password').fill('viewer-pass');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await see('No alarms', { exact: false });
    await new Promise((r) => setTimeout(r, 2500)); // a second poll of the overview
    assert.equal(await page.getByRole('heading', { name: 'Overview' }).count(), 1);
    assert.equal(await page.locator('main .error').count(), 0);
    await page.goto(broker.httpUrl + '/#/queues/%2F/e2e.work');
    await see("Not allowed to load queue 'e2e.work': User not authorised to access virtual host", { exact: false });
    await screenshot(page, 'refused-403');
    await page.getByRole('button', { name: 'Log out' }).waitFor();
    assert.notEqual(await page.evaluate(() => sessionStorage.getItem('warren.session')), null);
    await page.getByRole('button', { name: 'Log out' }).click();
    for (const u of ['notag', 'viewer']) assert.equal((await http(broker, 'DELETE', '/api/users/' + u)).status, 204);
  });
});
