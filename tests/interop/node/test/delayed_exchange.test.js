'use strict';
// The x-delayed-message exchange with amqplib (/work/shared/SEMANTICS.md): the retired RabbitMQ
// plugin's interface on Warren's store. Argument x-delayed-type names the routing type; header
// x-delay (ms) holds the message until it is due, then it is routed, with x-delay negated;
// messages come out in due-time order; mandatory returns only what is unroutable once due.
// Warren only (Debian's RabbitMQ 3.10 has no such plugin): every test skips elsewhere.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const {
  useBroker, isWarren, nextEvent, expectChannelError, TEST_TIMEOUT, WAIT,
} = require('../lib/broker');

const b = useBroker();
const T = { timeout: TEST_TIMEOUT };
const SLACK = 3000;

async function warren(t, confirm = false) {
  const c = await b.connect();
  if (!isWarren(c)) {
    await c.close(); // afterEach hooks do not run for a test that skips itself
    t.skip("needs Warren's x-delayed-message exchange");
    return null;
  }
  const ch = await b.channel(c, confirm);
  return { c, ch };
}

async function delayedExchange(ch, type = 'direct') {
  const x = b.exchange('delayed');
  await ch.assertExchange(x, 'x-delayed-message', { durable: false,
    arguments: { 'x-delayed-type': type } });
  return x;
}

async function boundQueue(ch, x, key = 'k') {
  const q = b.queue();
  await ch.assertQueue(q, { durable: false });
  await ch.bindQueue(q, x, key);
  return q;
}

async function getEventually(ch, q, what = 'a message in ' + q) {
  const deadline = Date.now() + WAIT + SLACK;
  for (;;) {
    const m = await ch.get(q, { noAck: true });
    if (m) return m;
    assert.ok(Date.now() < deadline, what + ' never came');
    await new Promise((r) => setTimeout(r, 10));
  }
}

for (const [args, text] of [
  [{}, "PRECONDITION_FAILED - Invalid argument, 'x-delayed-type' must be an existing " +
    'exchange type'],
  [{ 'x-delayed-type': 5 }, "PRECONDITION_FAILED - Invalid argument, 'x-delayed-type' must be"],
  [{ 'x-delayed-type': 'x-delayed-message' },
    "PRECONDITION_FAILED - Invalid argument, 'x-delayed-message' can't be used for " +
    "'x-delayed-type'"],
]) {
  test('declare checks x-delayed-type (406): ' + JSON.stringify(args), T, async (t) => {
    const w = await warren(t);
    if (!w) return;
    const { ch } = w;
    await expectChannelError(ch, ch.assertExchange(b.exchange(), 'x-delayed-message',
      { durable: false, arguments: args }), 406);
    assert.ok(ch.errors[0].message.includes(text), ch.errors[0].message);
  });
}

test('an unknown x-delayed-type closes the connection with 503 COMMAND_INVALID', T, async (t) => {
  const w = await warren(t);
  if (!w) return;
  const { c, ch } = w;
  const err = nextEvent(c, 'error');
  await assert.rejects(ch.assertExchange(b.exchange(), 'x-delayed-message',
    { durable: false, arguments: { 'x-delayed-type': 'nonsense' } }));
  const e = await err;
  assert.equal(e.code, 503, e.message);
  assert.ok(e.message.includes("COMMAND_INVALID - unknown exchange type 'nonsense'"), e.message);
});

test('a delayed message is routed when due, with x-delay negated', T, async (t) => {
  const w = await warren(t);
  if (!w) return;
  const { ch } = w;
  const x = await delayedExchange(ch);
  const q = await boundQueue(ch, x);
  const t0 = Date.now();
  ch.publish(x, 'k', Buffer.from('later'), { headers: { 'x-delay': 600, other: 'kept' },
    contentType: 'text/plain' });
  assert.equal(await ch.get(q), false);
  assert.equal((await ch.checkQueue(q)).messageCount, 0);
  const m = await getEventually(ch, q, 'the delayed message');
  const waited = Date.now() - t0;
  assert.ok(waited >= 600 && waited < 600 + SLACK, 'came after ' + waited + ' ms, due at 600');
  assert.equal(m.content.toString(), 'later');
  assert.equal(m.fields.exchange, x);
  assert.equal(m.fields.routingKey, 'k');
  assert.equal(m.fields.redelivered, false);
  assert.equal(m.properties.contentType, 'text/plain');
  // As the plugin: the delay comes back negated, so republishing it does not delay it again.
  assert.equal(m.properties.headers['x-delay'], -600);
  assert.equal(m.properties.headers.other, 'kept');
});

for (const [label, headers] of [['no headers', undefined], ['x-delay 0', { 'x-delay': 0 }],
  ['x-delay -50', { 'x-delay': -50 }], ['x-delay "500" (a string)', { 'x-delay': '500' }]]) {
  test('without a positive integer delay the message is routed at once: ' + label, T,
    async (t) => {
      const w = await warren(t);
      if (!w) return;
      const { ch } = w;
      const x = await delayedExchange(ch);
      const q = await boundQueue(ch, x);
      const t0 = Date.now();
      ch.publish(x, 'k', Buffer.from('now'), { headers });
      const m = await getEventually(ch, q);
      assert.equal(m.content.toString(), 'now');
      assert.ok(Date.now() - t0 < 450, 'held for ' + (Date.now() - t0) + ' ms');
    });
}

test('messages come out in due-time order (topic routing)', T, async (t) => {
  const w = await warren(t);
  if (!w) return;
  const { ch } = w;
  const x = await delayedExchange(ch, 'topic');
  const q = await boundQueue(ch, x, 'a.*');
  const other = await boundQueue(ch, x, 'b.#');
  for (const delay of [900, 300, 600, 1]) {
    ch.publish(x, 'a.b', Buffer.from(String(delay)), { headers: { 'x-delay': delay } });
  }
  const got = [];
  for (let i = 0; i < 4; i++) got.push((await getEventually(ch, q)).content.toString());
  assert.deepEqual(got, ['1', '300', '600', '900']);
  assert.equal(await ch.get(other), false);
});

test('fanout routing type: every bound queue gets it when due', T, async (t) => {
  const w = await warren(t);
  if (!w) return;
  const { ch } = w;
  const x = await delayedExchange(ch, 'fanout');
  const q1 = await boundQueue(ch, x, '');
  const q2 = await boundQueue(ch, x, 'ignored');
  const t0 = Date.now();
  ch.publish(x, 'whatever', Buffer.from('all'), { headers: { 'x-delay': 300 } });
  for (const q of [q1, q2]) assert.equal((await getEventually(ch, q)).content.toString(), 'all');
  assert.ok(Date.now() - t0 >= 300);
});

test('mandatory: returned only when unroutable once due, confirmed at once', T, async (t) => {
  const w = await warren(t, true);
  if (!w) return;
  const { ch } = w;
  const x = await delayedExchange(ch);
  const q = await boundQueue(ch, x, 'routable');
  const returned = [];
  ch.on('return', (m) => returned.push([m.fields.replyCode, m.fields.routingKey,
    m.content.toString(), Date.now()]));
  const t0 = Date.now();
  const DELAY = 1000;
  ch.publish(x, 'nowhere', Buffer.from('lost'), { mandatory: true,
    headers: { 'x-delay': DELAY } });
  ch.publish(x, 'routable', Buffer.from('kept'), { mandatory: true,
    headers: { 'x-delay': DELAY } });
  // Confirmed (stored) before it is due, and not returned yet: the plugin returned every delayed
  // message at publish time; Warren decides when the message is due.
  await ch.waitForConfirms();
  assert.ok(Date.now() - t0 < DELAY, 'confirms waited for the delay');
  assert.deepEqual(returned, []);
  const m = await getEventually(ch, q, 'the routable delayed message');
  assert.equal(m.content.toString(), 'kept');
  const deadline = Date.now() + WAIT;
  while (returned.length === 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.deepEqual(returned.map((r) => r.slice(0, 3)), [[312, 'nowhere', 'lost']]);
  assert.ok(returned[0][3] - t0 >= DELAY, 'returned before it was due');
  // Not mandatory: an unroutable delayed message is dropped silently when due.
  ch.publish(x, 'nowhere', Buffer.from('dropped'), { headers: { 'x-delay': 100 } });
  await new Promise((r) => setTimeout(r, 400));
  assert.equal(returned.length, 1);
});
