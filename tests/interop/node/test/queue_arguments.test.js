'use strict';
// Queue arguments with amqplib, as RabbitMQ 3.10 applies them: x-expires (a queue lease),
// x-max-priority, x-single-active-consumer, and the 406 for invalid values. amqplib's own
// option names (expires, maxPriority, messageTtl, ...) turn into the same x- arguments.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const {
  useBroker, Collector, expectChannelError, TEST_TIMEOUT,
} = require('../lib/broker');

const b = useBroker();
const T = { timeout: TEST_TIMEOUT };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Whether queue q exists (a passive declare on a channel of its own).
async function exists(conn, q) {
  const ch = await b.channel(conn);
  try {
    await ch.checkQueue(q);
    await ch.close();
    return true;
  } catch (e) {
    assert.equal(e.code, 404);
    return false;
  }
}

// Wait until lease-200-ms queue q is gone. A passive declare is a use that renews the lease (in
// RabbitMQ), so look less often than the lease lasts.
async function gone(conn, q) {
  const deadline = Date.now() + 10000;
  for (;;) {
    await sleep(500);
    if (!(await exists(conn, q))) return;
    assert.ok(Date.now() < deadline, 'queue ' + q + ' did not expire');
  }
}

async function drain(ch, q) {
  const out = [];
  for (;;) {
    const m = await ch.get(q, { noAck: true });
    if (!m) return out;
    out.push(m.content.toString());
  }
}

test('x-expires: an unused queue is deleted, messages do not keep it alive', T, async () => {
  const c = await b.connect();
  const ch = await b.channel(c);
  const q = b.queue('lease');
  await ch.assertQueue(q, { expires: 200 });
  ch.sendToQueue(q, Buffer.from('does not keep it alive'));
  assert.ok(await exists(c, q));
  await gone(c, q);
});

test('x-expires: a consumer keeps the queue alive; the lease starts when it leaves', T,
  async () => {
    const c = await b.connect();
    const ch = await b.channel(c);
    const q = b.queue('lease');
    await ch.assertQueue(q, { arguments: { 'x-expires': 200 } });
    const { consumerTag } = await ch.consume(q, () => {}, { noAck: true });
    await sleep(500);
    assert.ok(await exists(c, q));
    await ch.cancel(consumerTag);
    await gone(c, q);
  });

test('x-max-priority: higher priority first, FIFO within one, above the max counts as max', T,
  async () => {
    const c = await b.connect();
    const ch = await b.channel(c, true);
    const q = b.queue('prio');
    await ch.assertQueue(q, { maxPriority: 5 });
    for (const [body, priority] of [['low-1', 1], ['none', undefined], ['high-1', 5],
      ['low-2', 1], ['high-2', 5], ['over-max', 9]]) {
      ch.sendToQueue(q, Buffer.from(body), { priority });
    }
    await ch.waitForConfirms();
    assert.deepEqual(await drain(ch, q),
      ['high-1', 'high-2', 'over-max', 'low-1', 'low-2', 'none']);
    // A requeued message goes back to its place within its priority.
    for (const [body, priority] of [['a', 3], ['b', 3], ['c', 1]]) {
      ch.sendToQueue(q, Buffer.from(body), { priority });
    }
    await ch.waitForConfirms();
    const m = await ch.get(q, { noAck: false });
    assert.equal(m.content.toString(), 'a');
    ch.reject(m, true);
    assert.deepEqual(await drain(ch, q), ['a', 'b', 'c']);
  });

test('x-single-active-consumer: only the first consumer gets messages until it leaves', T,
  async () => {
    const c = await b.connect();
    const ch = await b.channel(c);
    const q = b.queue('sac');
    await ch.assertQueue(q, { arguments: { 'x-single-active-consumer': true } });
    const first = new Collector();
    const second = new Collector();
    const { consumerTag } = await ch.consume(q, first.cb, { noAck: true });
    await ch.consume(q, second.cb, { noAck: true });
    for (let i = 0; i < 4; i++) ch.sendToQueue(q, Buffer.from(String(i)));
    await first.wait(4);
    await sleep(200);
    assert.equal(second.msgs.length, 0);
    await ch.cancel(consumerTag);
    for (let i = 4; i < 6; i++) ch.sendToQueue(q, Buffer.from(String(i)));
    const got = await second.wait(2);
    assert.deepEqual(got.map((m) => m.content.toString()), ['4', '5']);
    assert.deepEqual(first.msgs.map((m) => m.content.toString()), ['0', '1', '2', '3']);
  });

for (const [args, arg] of [
  [{ 'x-max-length': -1 }, 'x-max-length'],
  [{ 'x-max-length-bytes': -1 }, 'x-max-length-bytes'],
  [{ 'x-overflow': 'explode' }, 'x-overflow'],
  [{ 'x-expires': 0 }, 'x-expires'],
  [{ 'x-message-ttl': -1 }, 'x-message-ttl'],
  [{ 'x-max-priority': 1000 }, 'x-max-priority'],
  [{ 'x-dead-letter-routing-key': 'k' }, 'x-dead-letter-routing-key'],
]) {
  test('invalid ' + arg + ' is refused with 406', T, async () => {
    const c = await b.connect();
    const ch = await b.channel(c);
    const q = b.queue();
    await expectChannelError(ch, ch.assertQueue(q, { arguments: args }), 406);
    assert.match(ch.errors[0].message, new RegExp('PRECONDITION_FAILED - invalid arg \'' + arg +
      '\''));
  });
}
