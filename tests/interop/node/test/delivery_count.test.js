'use strict';
// Delivery counting with amqplib, RabbitMQ 4.3's quorum-queue rules on every queue, as
// /work/shared/SEMANTICS.md settles them: x-acquired-count counts every return to the queue,
// x-delivery-count the failed ones (reject with requeue, a closed channel); x-delivery-limit is
// checked against the delivery count and dead-letters with reason delivery_limit. RabbitMQ 3.10
// has none of this on classic queues: these tests skip there (except the first, which holds for
// both: a first delivery carries no counts).

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { useBroker, isWarren, nextEvent, TEST_TIMEOUT, WAIT } = require('../lib/broker');
const { recordHeaderTypes } = require('../lib/fieldtypes');

const b = useBroker();
const T = { timeout: TEST_TIMEOUT };

async function warrenChannel(t) {
  const c = recordHeaderTypes(await b.connect());
  if (!isWarren(c)) {
    await c.close(); // afterEach hooks do not run for a test that skips itself
    t.skip('RabbitMQ 3.10 has no delivery counts on classic queues');
    return null;
  }
  return b.channel(c);
}

async function getOne(ch, q, opts = { noAck: false }) {
  const deadline = Date.now() + WAIT;
  for (;;) {
    const m = await ch.get(q, opts);
    if (m) return m;
    assert.ok(Date.now() < deadline, 'no message in ' + q);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const headers = (m) => m.properties.headers || {};

test('a first delivery carries neither count', T, async () => {
  const c = await b.connect();
  const ch = await b.channel(c);
  const q = b.queue();
  await ch.assertQueue(q);
  ch.sendToQueue(q, Buffer.from('m'));
  const m = await getOne(ch, q);
  assert.equal(m.fields.redelivered, false);
  assert.ok(!('x-delivery-count' in headers(m)));
  assert.ok(!('x-acquired-count' in headers(m)));
  ch.ack(m);
});

test('reject with requeue: both counts go up', T, async (t) => {
  const ch = await warrenChannel(t);
  if (!ch) return;
  const q = b.queue();
  await ch.assertQueue(q);
  ch.sendToQueue(q, Buffer.from('m'));
  let m = await getOne(ch, q);
  for (const n of [1, 2, 3]) {
    ch.reject(m, true);
    m = await getOne(ch, q);
    assert.equal(m.fields.redelivered, true);
    assert.equal(headers(m)['x-delivery-count'], n);
    assert.equal(headers(m)['x-acquired-count'], n);
  }
  ch.ack(m);
});

test('nack with requeue and recover: only x-acquired-count goes up', T, async (t) => {
  const ch = await warrenChannel(t);
  if (!ch) return;
  const q = b.queue();
  await ch.assertQueue(q);
  ch.sendToQueue(q, Buffer.from('m'));
  let m = await getOne(ch, q);
  ch.nack(m, false, true);
  m = await getOne(ch, q);
  assert.equal(headers(m)['x-acquired-count'], 1);
  assert.ok(!('x-delivery-count' in headers(m)));
  await ch.recover(); // basic.recover with requeue
  m = await getOne(ch, q);
  assert.equal(m.fields.redelivered, true);
  assert.equal(headers(m)['x-acquired-count'], 2);
  assert.ok(!('x-delivery-count' in headers(m)));
  ch.reject(m, true);
  m = await getOne(ch, q);
  assert.equal(headers(m)['x-acquired-count'], 3);
  assert.equal(headers(m)['x-delivery-count'], 1);
  ch.ack(m);
});

test('a closed channel holding the message counts as a failed delivery', T, async (t) => {
  const ch = await warrenChannel(t);
  if (!ch) return;
  const q = b.queue();
  await ch.assertQueue(q);
  ch.sendToQueue(q, Buffer.from('m'));
  const other = await b.channel(await b.connect());
  const held = await getOne(other, q);
  assert.equal(held.fields.redelivered, false);
  await other.close(); // unacked: back to the queue
  const m = await getOne(ch, q);
  assert.equal(m.fields.redelivered, true);
  assert.equal(headers(m)['x-delivery-count'], 1);
  assert.equal(headers(m)['x-acquired-count'], 1);
  ch.ack(m);
});

test('a lost connection holding the message counts as a failed delivery', T, async (t) => {
  const ch = await warrenChannel(t);
  if (!ch) return;
  const q = b.queue();
  await ch.assertQueue(q);
  ch.sendToQueue(q, Buffer.from('m'));
  const conn = await b.connect();
  const other = await b.channel(conn);
  await getOne(other, q);
  // The socket goes, without connection.close (as when a client dies).
  const closed = nextEvent(conn, 'close');
  conn.connection.stream.destroy(new Error('simulated loss'));
  await closed;
  const m = await getOne(ch, q);
  assert.equal(headers(m)['x-delivery-count'], 1);
  assert.equal(headers(m)['x-acquired-count'], 1);
  ch.ack(m);
});

test('x-delivery-limit 2: delivered 3 times, then dead-lettered with reason delivery_limit', T,
  async (t) => {
    const ch = await warrenChannel(t);
    if (!ch) return;
    const dlq = b.queue('dlq');
    const q = b.queue();
    await ch.assertQueue(dlq);
    await ch.assertQueue(q, { arguments: {
      'x-delivery-limit': 2, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': dlq } });
    ch.sendToQueue(q, Buffer.from('poison'));
    let deliveries = 0;
    for (;;) {
      const m = await ch.get(q, { noAck: false });
      if (!m) break;
      deliveries += 1;
      ch.reject(m, true);
    }
    assert.equal(deliveries, 3);
    const d = await getOne(ch, dlq, { noAck: true });
    assert.equal(d.content.toString(), 'poison');
    const types = d.properties.headerTypes;
    const death = types['x-death'].v[0].v;
    assert.deepEqual(death.reason, { t: 'S', v: 'delivery_limit' });
    assert.deepEqual(death.count, { t: 'l', v: 1n });
    assert.deepEqual(death.queue, { t: 'S', v: q });
    assert.deepEqual(types['x-first-death-reason'], { t: 'S', v: 'delivery_limit' });
    assert.equal((await ch.checkQueue(q)).messageCount, 0);
  });

test('x-delivery-limit without a DLX: the message is dropped', T, async (t) => {
  const ch = await warrenChannel(t);
  if (!ch) return;
  const q = b.queue();
  await ch.assertQueue(q, { arguments: { 'x-delivery-limit': 0 } });
  ch.sendToQueue(q, Buffer.from('once'));
  ch.reject(await getOne(ch, q), true);
  assert.equal(await ch.get(q), false);
  assert.equal((await ch.checkQueue(q)).messageCount, 0);
});

test('nacks never use up x-delivery-limit', T, async (t) => {
  const ch = await warrenChannel(t);
  if (!ch) return;
  const q = b.queue();
  await ch.assertQueue(q, { arguments: { 'x-delivery-limit': 1 } });
  ch.sendToQueue(q, Buffer.from('m'));
  for (let i = 0; i < 5; i++) ch.nack(await getOne(ch, q), false, true);
  const m = await getOne(ch, q);
  assert.equal(headers(m)['x-acquired-count'], 5);
  assert.ok(!('x-delivery-count' in headers(m)));
  ch.ack(m);
});
