'use strict';
// Warren's retry and delay features with amqplib (issue #4, /work/shared/SEMANTICS.md):
// the queue retry policy x-delayed-retry-type / -min / -max (RabbitMQ 4.3) and -multiplier
// (Warren), x-last-death-* (RabbitMQ 3.13+), per-message TTL expiring behind a long-lived head,
// and waits that survive a kill -9. RabbitMQ 3.10 has none of these (or, for the TTL, expires only
// at the head): every test skips unless the server advertises capability warren.nack_delay.
//
// Timing: a message must never come early; the upper bounds are generous (tests are not
// benchmarks, and CI runs an ASan build).

const { test } = require('node:test');
const assert = require('node:assert/strict');
const {
  Broker, useBroker, isWarren, expectChannelError, amqp, TEST_TIMEOUT, WAIT,
} = require('../lib/broker');
const { recordHeaderTypes } = require('../lib/fieldtypes');

const b = useBroker();
const T = { timeout: TEST_TIMEOUT };
// How much later than due a message may come in these tests.
const SLACK = 3000;

// A channel on Warren, or null after skipping the test elsewhere.
async function warrenChannel(t, why = 'needs Warren (x-delayed-retry-*: RabbitMQ 4.3 quorum ' +
  'queues only)') {
  const c = recordHeaderTypes(await b.connect());
  if (!isWarren(c)) {
    await c.close(); // afterEach hooks do not run for a test that skips itself
    t.skip(why);
    return null;
  }
  const ch = await b.channel(c);
  ch.conn = c;
  return ch;
}

async function getEventually(ch, q, opts = { noAck: false }, what = 'a message in ' + q) {
  const deadline = Date.now() + WAIT + SLACK;
  for (;;) {
    const m = await ch.get(q, opts);
    if (m) return m;
    assert.ok(Date.now() < deadline, what + ' never came');
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function retryQueue(ch, args) {
  const q = b.queue('retry');
  const arguments_ = {};
  for (const [k, v] of Object.entries(args)) arguments_['x-delayed-retry-' + k] = v;
  await ch.assertQueue(q, { arguments: arguments_ });
  return q;
}

function assertWaited(waited, due, what = 'the retry') {
  assert.ok(waited >= due, what + ' came after ' + waited + ' ms, before its ' + due + ' ms');
  assert.ok(waited < due + SLACK, what + ' came after ' + waited + ' ms, due at ' + due + ' ms');
}

const headers = (m) => m.properties.headers || {};

test('type failed: a reject waits min * delivery count, never less', T, async (t) => {
  const ch = await warrenChannel(t);
  if (!ch) return;
  const q = await retryQueue(ch, { type: 'failed', min: 300, max: 5000 });
  ch.sendToQueue(q, Buffer.from('job'));
  let m = await getEventually(ch, q);
  for (const n of [1, 2]) {
    const t0 = Date.now();
    ch.reject(m, true); // delivery count n: waits 300 * n ms
    assert.equal(await ch.get(q), false, 'waiting, not ready');
    m = await getEventually(ch, q);
    assertWaited(Date.now() - t0, 300 * n);
    assert.equal(m.fields.redelivered, true);
    assert.equal(headers(m)['x-delivery-count'], n);
    assert.equal(m.content.toString(), 'job');
  }
  ch.ack(m);
});

test('type failed leaves nacks immediate; type returned is the opposite', T, async (t) => {
  const ch = await warrenChannel(t);
  if (!ch) return;
  const failed = await retryQueue(ch, { type: 'failed', min: 2000 });
  ch.sendToQueue(failed, Buffer.from('x'));
  let m = await getEventually(ch, failed);
  ch.nack(m, false, true); // no delivery count: not a failed return, no wait
  m = await ch.get(failed);
  assert.ok(m && m.fields.redelivered, 'a nacked message is ready at once');
  assert.ok(!('x-delivery-count' in headers(m)));
  ch.ack(m);

  const returned = await retryQueue(ch, { type: 'returned', min: 400 });
  ch.sendToQueue(returned, Buffer.from('y'));
  m = await getEventually(ch, returned);
  ch.reject(m, true); // a failed return: not "returned", no wait
  m = await ch.get(returned);
  assert.ok(m, 'a rejected message is ready at once');
  const t0 = Date.now();
  ch.nack(m, false, true); // waits 400 * max(1, delivery count 1) ms
  assert.equal(await ch.get(returned), false);
  m = await getEventually(ch, returned);
  assertWaited(Date.now() - t0, 400);
  ch.ack(m);
});

test('x-delayed-retry-multiplier backs off exponentially up to max', T, async (t) => {
  const ch = await warrenChannel(t);
  if (!ch) return;
  const q = await retryQueue(ch, { type: 'all', min: 200, max: 500, multiplier: 2 });
  ch.sendToQueue(q, Buffer.from('job'));
  let m = await getEventually(ch, q);
  // Delivery counts 1, 2, 3: 200, 400, min(800, 500) ms.
  for (const due of [200, 400, 500]) {
    const t0 = Date.now();
    ch.reject(m, true);
    m = await getEventually(ch, q);
    assertWaited(Date.now() - t0, due);
  }
  assert.equal(headers(m)['x-delivery-count'], 3);
  ch.ack(m);
});

test('a fractional multiplier (double or decimal) is accepted', T, async (t) => {
  const ch = await warrenChannel(t);
  if (!ch) return;
  // amqplib sends 1.5 as a double; a decimal 1.5 is places 1, digits 15.
  await retryQueue(ch, { type: 'all', min: 10, multiplier: 1.5 });
  await retryQueue(ch, { type: 'all', min: 10,
    multiplier: { '!': 'decimal', value: { places: 1, digits: 15 } } });
  // type disabled: no wait at all.
  const q = await retryQueue(ch, { type: 'disabled' });
  ch.sendToQueue(q, Buffer.from('x'));
  ch.reject(await getEventually(ch, q), true);
  assert.ok(await ch.get(q, { noAck: true }), 'ready at once');
});

test('a closed channel counts as failed and waits', T, async (t) => {
  const ch = await warrenChannel(t);
  if (!ch) return;
  const q = await retryQueue(ch, { type: 'failed', min: 500 });
  ch.sendToQueue(q, Buffer.from('held'));
  const other = await b.channel(ch.conn);
  await getEventually(other, q);
  const t0 = Date.now();
  await other.close(); // the unacked message returns as a failed attempt
  assert.equal(await ch.get(q), false);
  const m = await getEventually(ch, q);
  assertWaited(Date.now() - t0, 500);
  assert.equal(headers(m)['x-delivery-count'], 1);
  ch.ack(m);
});

test('a consumer sees the retry come back after its wait, behind nothing', T, async (t) => {
  const ch = await warrenChannel(t);
  if (!ch) return;
  const q = await retryQueue(ch, { type: 'all', min: 400 });
  const seen = [];
  let done;
  const finished = new Promise((r) => { done = r; });
  await ch.consume(q, (m) => {
    seen.push([m.content.toString(), Date.now(), headers(m)['x-delivery-count']]);
    if (m.content.toString() === 'a' && !m.fields.redelivered) ch.reject(m, true);
    else ch.ack(m);
    if (seen.length === 4) done();
  });
  for (const body of ['a', 'b', 'c']) ch.sendToQueue(q, Buffer.from(body));
  await Promise.race([finished, new Promise((_, rej) => setTimeout(() =>
    rej(new Error('saw only ' + JSON.stringify(seen))), WAIT))]);
  // b and c are not held up by the waiting a.
  assert.deepEqual(seen.map((s) => s[0]), ['a', 'b', 'c', 'a']);
  assertWaited(seen[3][1] - seen[0][1], 400);
  assert.equal(seen[3][2], 1);
});

test('a waiting message does not block the ones behind and is not ready', T, async (t) => {
  const ch = await warrenChannel(t);
  if (!ch) return;
  const q = await retryQueue(ch, { type: 'all', min: 60000 });
  for (const body of ['a', 'b', 'c']) ch.sendToQueue(q, Buffer.from(body));
  const m = await getEventually(ch, q);
  assert.equal(m.content.toString(), 'a');
  ch.reject(m, true);
  const got = [];
  for (let i = 0; i < 2; i++) {
    got.push((await getEventually(ch, q, { noAck: true })).content.toString());
  }
  assert.deepEqual(got, ['b', 'c']);
  assert.equal(await ch.get(q), false);
  // Not ready, so not in queue.declare's count (ready messages), as RabbitMQ counts.
  assert.equal((await ch.checkQueue(q)).messageCount, 0);
});

test('past x-delivery-limit the message is dead-lettered at once, not retried', T, async (t) => {
  const ch = await warrenChannel(t);
  if (!ch) return;
  const dlq = b.queue('dlq');
  const q = b.queue();
  await ch.assertQueue(dlq);
  await ch.assertQueue(q, { arguments: {
    'x-delayed-retry-type': 'failed', 'x-delayed-retry-min': 100, 'x-delivery-limit': 1,
    'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': dlq } });
  ch.sendToQueue(q, Buffer.from('poison'));
  ch.reject(await getEventually(ch, q), true); // count 1: within the limit, waits
  const m = await getEventually(ch, q);
  const t0 = Date.now();
  ch.reject(m, true); // count 2 > limit 1: dead-lettered at once
  const d = await getEventually(ch, dlq, { noAck: true });
  assert.ok(Date.now() - t0 < SLACK);
  assert.equal(d.content.toString(), 'poison');
  assert.equal(headers(d)['x-death'][0].reason, 'delivery_limit');
  assert.equal(await ch.get(q), false);
});

for (const [args, text] of [
  [{ 'x-delayed-retry-type': 'sometimes', 'x-delayed-retry-min': 1 }, 'x-delayed-retry-type'],
  [{ 'x-delayed-retry-type': 1 }, 'x-delayed-retry-type'],
  [{ 'x-delayed-retry-type': 'all' }, 'x-delayed-retry-min'],
  [{ 'x-delayed-retry-type': 'all', 'x-delayed-retry-min': -5 }, 'x-delayed-retry-min'],
  [{ 'x-delayed-retry-type': 'all', 'x-delayed-retry-min': 5, 'x-delayed-retry-max': 'x' },
    'x-delayed-retry-max'],
  [{ 'x-delayed-retry-type': 'all', 'x-delayed-retry-min': 5, 'x-delayed-retry-multiplier': 0 },
    'x-delayed-retry-multiplier'],
]) {
  test('bad retry arguments are refused with 406: ' + JSON.stringify(args), T, async (t) => {
    const ch = await warrenChannel(t);
    if (!ch) return;
    await expectChannelError(ch, ch.assertQueue(b.queue(), { arguments: args }), 406);
    assert.match(ch.errors[0].message, /PRECONDITION_FAILED/);
    assert.ok(ch.errors[0].message.includes(text), ch.errors[0].message);
  });
}

test('x-last-death-* follow the newest death, x-first-death-* the first', T, async (t) => {
  const ch = await warrenChannel(t, 'RabbitMQ 3.10 does not write x-last-death-*');
  if (!ch) return;
  const final = b.queue('final');
  const middle = b.queue('middle');
  const work = b.queue('work');
  await ch.assertQueue(final);
  await ch.assertQueue(middle, { arguments: {
    'x-message-ttl': 0, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': final } });
  await ch.assertQueue(work, { arguments: {
    'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': middle } });
  ch.sendToQueue(work, Buffer.from('twice dead'));
  ch.reject(await getEventually(ch, work), false);
  const d = await getEventually(ch, final, { noAck: true });
  assert.equal(d.content.toString(), 'twice dead');
  const ty = d.properties.headerTypes;
  assert.deepEqual(ty['x-first-death-queue'], { t: 'S', v: work });
  assert.deepEqual(ty['x-first-death-reason'], { t: 'S', v: 'rejected' });
  assert.deepEqual(ty['x-first-death-exchange'], { t: 'S', v: '' });
  assert.deepEqual(ty['x-last-death-queue'], { t: 'S', v: middle });
  assert.deepEqual(ty['x-last-death-reason'], { t: 'S', v: 'expired' });
  assert.deepEqual(ty['x-last-death-exchange'], { t: 'S', v: '' });
  assert.deepEqual(headers(d)['x-death'].map((x) => [x.queue, x.reason]),
    [[middle, 'expired'], [work, 'rejected']]);
});

test('a message with its own TTL expires behind a long-lived head', T, async (t) => {
  const ch = await warrenChannel(t, 'RabbitMQ 3.10 expires per-message TTLs only at the head');
  if (!ch) return;
  const dlq = b.queue('dlq');
  const work = b.queue('work');
  await ch.assertQueue(dlq);
  await ch.assertQueue(work, { arguments: {
    'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': dlq } });
  ch.sendToQueue(work, Buffer.from('head, lives long'));
  const t0 = Date.now();
  ch.sendToQueue(work, Buffer.from('short'), { expiration: '300' });
  ch.sendToQueue(work, Buffer.from('tail, lives long'));
  const d = await getEventually(ch, dlq, { noAck: true });
  assertWaited(Date.now() - t0, 300, 'the expiry');
  assert.equal(d.content.toString(), 'short');
  assert.equal(d.properties.expiration, undefined);
  const death = d.properties.headerTypes['x-death'].v[0].v;
  assert.deepEqual(death.reason, { t: 'S', v: 'expired' });
  assert.deepEqual(death['original-expiration'], { t: 'S', v: '300' });
  assert.deepEqual(death.count, { t: 'l', v: 1n });
  // The others stay, in order.
  const rest = [];
  for (let i = 0; i < 2; i++) rest.push((await ch.get(work, { noAck: true })).content.toString());
  assert.deepEqual(rest, ['head, lives long', 'tail, lives long']);
  assert.equal((await ch.checkQueue(work)).messageCount, 0);
});

test('a delayed message and a retry wait survive a kill -9', T, async (t) => {
  if (process.env.WARREN_TEST_URL) {
    t.skip('needs a warren of its own to kill and restart');
    return;
  }
  // Long enough for a kill and a restart (an ASan build starts slower) to fit inside both waits.
  const RETRY = 3000;
  const DELAY = 3500;
  const own = new Broker();
  await own.start();
  const conns = [];
  const connect = async () => {
    const c = await amqp.connect(own.options());
    c.on('error', () => {});
    conns.push(c);
    return c;
  };
  try {
    let c = await connect();
    let ch = await c.createConfirmChannel();
    await ch.assertExchange('dx', 'x-delayed-message', { durable: true,
      arguments: { 'x-delayed-type': 'direct' } });
    await ch.assertQueue('dq', { durable: true });
    await ch.bindQueue('dq', 'dx', 'k');
    await ch.assertQueue('retryq', { durable: true, arguments: {
      'x-delayed-retry-type': 'all', 'x-delayed-retry-min': RETRY } });
    ch.sendToQueue('retryq', Buffer.from('job'), { persistent: true });
    await ch.waitForConfirms();
    const m = await getEventually(ch, 'retryq');
    const t0 = Date.now();
    ch.reject(m, true); // waits RETRY ms
    ch.publish('dx', 'k', Buffer.from('delayed'), { persistent: true,
      headers: { 'x-delay': DELAY } });
    // Confirmed after the reject: the batch that holds the wait is stored.
    ch.sendToQueue('retryq', Buffer.from('sync'), { persistent: true });
    await ch.waitForConfirms();
    await own.restart({ kill: true });
    c = await connect();
    ch = await c.createChannel();
    const elapsed = Date.now() - t0;
    if (elapsed < RETRY - 300) {
      // Both still wait; only the message confirmed last is ready.
      const first = await ch.get('retryq', { noAck: true });
      assert.equal(first && first.content.toString(), 'sync');
      assert.equal(await ch.get('retryq'), false, 'the retry came early');
      assert.equal(await ch.get('dq'), false, 'the delayed message came early');
    } else {
      t.diagnostic('the restart took ' + elapsed + ' ms: cannot check that both still wait');
    }
    // The retried message (and 'sync', if not taken above), never before it is due.
    const bodies = [];
    let retried;
    while (!retried) {
      const r = await getEventually(ch, 'retryq', { noAck: true }, 'the retried message');
      bodies.push(r.content.toString());
      if (r.content.toString() === 'job') retried = r;
    }
    assert.ok(Date.now() - t0 >= RETRY, 'the retry came early, after ' + (Date.now() - t0));
    assert.equal(retried.fields.redelivered, true);
    assert.equal(headers(retried)['x-delivery-count'], 1); // the count was stored with the wait
    const delayed = await getEventually(ch, 'dq', { noAck: true }, 'the delayed message');
    assert.ok(Date.now() - t0 >= DELAY, 'the delayed message came early');
    assert.equal(delayed.content.toString(), 'delayed');
    assert.equal(headers(delayed)['x-delay'], -DELAY);
    if (elapsed >= RETRY - 300) assert.deepEqual(bodies.sort(), ['job', 'sync']);
    // Routed once, retried once: nothing more comes after a clean restart.
    for (const conn of conns.splice(0)) await conn.close().catch(() => {});
    await own.restart();
    c = await connect();
    ch = await c.createChannel();
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(await ch.get('dq'), false);
    assert.equal(await ch.get('retryq'), false);
  } finally {
    for (const conn of conns) await conn.close().catch(() => {});
    const r = await own.stop();
    assert.deepEqual(r, { code: 0, signal: null }, 'warren did not exit 0 on SIGTERM');
  }
});
