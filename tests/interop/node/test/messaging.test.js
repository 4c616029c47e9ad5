'use strict';
// Publishing, consuming, acknowledgements, get, prefetch, confirms and returns with amqplib.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const {
  useBroker, Collector, nextEvent, waitFor, within, TEST_TIMEOUT, WAIT,
} = require('../lib/broker');

const b = useBroker();
const T = { timeout: TEST_TIMEOUT };
// How long to watch for something that must not happen (a delivery beyond prefetch).
const QUIET = 300;

async function setup(opts = {}) {
  const c = await b.connect();
  const ch = await b.channel(c, !!opts.confirm);
  const q = b.queue();
  await ch.assertQueue(q);
  return { c, ch, q };
}

async function getOne(ch, q, opts = { noAck: true }) {
  const deadline = Date.now() + 10000;
  for (;;) {
    const m = await ch.get(q, opts);
    if (m) return m;
    assert.ok(Date.now() < deadline, 'no message in ' + q);
  }
}

test('publish and consume with ack', T, async () => {
  const { ch, q } = await setup();
  const col = new Collector();
  const { consumerTag } = await ch.consume(q, col.cb);
  assert.equal(typeof consumerTag, 'string');
  for (let i = 0; i < 5; i++) ch.sendToQueue(q, Buffer.from('m' + i));
  const msgs = await col.wait(5);
  assert.deepEqual(msgs.map((m) => m.content.toString()), ['m0', 'm1', 'm2', 'm3', 'm4']);
  const tags = msgs.map((m) => m.fields.deliveryTag);
  assert.deepEqual(tags, [1, 2, 3, 4, 5]);
  for (const m of msgs) {
    assert.equal(m.fields.consumerTag, consumerTag);
    assert.equal(m.fields.redelivered, false);
    assert.equal(m.fields.exchange, '');
    assert.equal(m.fields.routingKey, q);
  }
  for (const m of msgs) ch.ack(m);
  await ch.cancel(consumerTag);
  await waitFor(async () => {
    const r = await ch.checkQueue(q);
    return r.messageCount === 0 && r.consumerCount === 0;
  });
});

test('consume with noAck', T, async () => {
  const { ch, q } = await setup();
  const col = new Collector();
  await ch.consume(q, col.cb, { noAck: true });
  for (let i = 0; i < 3; i++) ch.sendToQueue(q, Buffer.from('n' + i));
  await col.wait(3);
  assert.equal((await ch.checkQueue(q)).messageCount, 0);
});

test('nack with requeue redelivers with redelivered=true', T, async () => {
  const { ch, q } = await setup();
  const col = new Collector();
  await ch.consume(q, col.cb);
  ch.sendToQueue(q, Buffer.from('again'));
  const [first] = await col.wait(1);
  assert.equal(first.fields.redelivered, false);
  ch.nack(first, false, true);
  const msgs = await col.wait(2);
  assert.equal(msgs[1].content.toString(), 'again');
  assert.equal(msgs[1].fields.redelivered, true);
  assert.notEqual(msgs[1].fields.deliveryTag, first.fields.deliveryTag);
  ch.ack(msgs[1]);
});

test('reject with requeue redelivers; reject without requeue drops', T, async () => {
  const { c, ch, q } = await setup();
  ch.sendToQueue(q, Buffer.from('r'));
  const gch = await b.channel(c);
  const m1 = await getOne(gch, q, { noAck: false });
  assert.equal(m1.fields.redelivered, false);
  gch.reject(m1, true);
  const m2 = await getOne(gch, q, { noAck: false });
  assert.equal(m2.content.toString(), 'r');
  assert.equal(m2.fields.redelivered, true);
  gch.reject(m2, false);
  // Closing the channel would requeue anything still unacked: the rejected message is gone.
  await gch.close();
  assert.equal((await ch.checkQueue(q)).messageCount, 0);
});

test('nack multiple without requeue drops them all', T, async () => {
  const { c, ch, q } = await setup();
  for (let i = 0; i < 4; i++) ch.sendToQueue(q, Buffer.from('d' + i));
  const cch = await b.channel(c);
  const col = new Collector();
  await cch.consume(q, col.cb);
  const msgs = await col.wait(4);
  cch.nack(msgs[3], true, false);
  await cch.close();
  assert.equal((await ch.checkQueue(q)).messageCount, 0);
});

test('unacked messages are requeued when the channel closes', T, async () => {
  const { c, ch, q } = await setup();
  ch.sendToQueue(q, Buffer.from('u1'));
  ch.sendToQueue(q, Buffer.from('u2'));
  const other = await b.channel(c);
  const col = new Collector();
  await other.consume(q, col.cb);
  await col.wait(2);
  await other.close();
  const m = await getOne(ch, q);
  assert.equal(m.content.toString(), 'u1');
  assert.equal(m.fields.redelivered, true);
});

test('get: message fields, messageCount, and false when empty', T, async () => {
  const { ch, q } = await setup();
  assert.equal(await ch.get(q), false);
  ch.sendToQueue(q, Buffer.from('g1'));
  ch.sendToQueue(q, Buffer.from('g2'));
  await waitFor(async () => (await ch.checkQueue(q)).messageCount === 2);
  const m = await ch.get(q, { noAck: false });
  assert.equal(m.content.toString(), 'g1');
  assert.equal(m.fields.messageCount, 1); // messages left after this one
  assert.equal(m.fields.redelivered, false);
  assert.equal(m.fields.exchange, '');
  assert.equal(m.fields.routingKey, q);
  ch.ack(m);
  const m2 = await ch.get(q, { noAck: true });
  assert.equal(m2.content.toString(), 'g2');
  assert.equal(m2.fields.messageCount, 0);
  assert.equal(await ch.get(q), false);
});

test('prefetch limits unacked deliveries', T, async () => {
  const { ch, q } = await setup();
  await ch.prefetch(2);
  for (let i = 0; i < 5; i++) ch.sendToQueue(q, Buffer.from('p' + i));
  const col = new Collector();
  await ch.consume(q, col.cb);
  await col.wait(2);
  await new Promise((r) => setTimeout(r, QUIET));
  assert.equal(col.msgs.length, 2, 'no more than prefetch=2 unacked deliveries');
  ch.ack(col.msgs[0]);
  await col.wait(3);
  await new Promise((r) => setTimeout(r, QUIET));
  assert.equal(col.msgs.length, 3);
  ch.ack(col.msgs[2], true); // acks deliveries 2 and 3
  const all = await col.wait(5);
  assert.deepEqual(all.map((m) => m.content.toString()), ['p0', 'p1', 'p2', 'p3', 'p4']);
  ch.ackAll();
});

test('confirm channel: publish callbacks and waitForConfirms', T, async () => {
  const { ch, q } = await setup({ confirm: true });
  const acked = [];
  for (let i = 0; i < 50; i++) {
    ch.sendToQueue(q, Buffer.from('c' + i), { persistent: true }, (err) => {
      assert.equal(err, null);
      acked.push(i);
    });
  }
  await ch.waitForConfirms();
  assert.equal(acked.length, 50);
  assert.equal((await ch.checkQueue(q)).messageCount, 50);
  // Unroutable messages are confirmed too.
  ch.publish('amq.direct', b.queue('nobody'), Buffer.from('lost'));
  await ch.waitForConfirms();
});

test('mandatory publish of an unroutable message: basic.return then confirm', T, async () => {
  const { ch } = await setup({ confirm: true });
  const rk = b.queue('unroutable');
  const returned = nextEvent(ch, 'return');
  ch.publish('amq.direct', rk, Buffer.from('come back'), { mandatory: true, messageId: 'ret-1' });
  const m = await returned;
  assert.equal(m.content.toString(), 'come back');
  assert.equal(m.fields.replyCode, 312);
  assert.equal(m.fields.replyText, 'NO_ROUTE');
  assert.equal(m.fields.exchange, 'amq.direct');
  assert.equal(m.fields.routingKey, rk);
  assert.equal(m.properties.messageId, 'ret-1');
  await ch.waitForConfirms();
});

test('mandatory publish of a routable message is not returned', T, async () => {
  const { ch, q } = await setup({ confirm: true });
  let returns = 0;
  ch.on('return', () => { returns += 1; });
  ch.sendToQueue(q, Buffer.from('stays'), { mandatory: true });
  await ch.waitForConfirms();
  assert.equal(returns, 0);
  assert.equal((await getOne(ch, q)).content.toString(), 'stays');
});

test('cancel stops deliveries; consumers share a queue round-robin', T, async () => {
  const { c, ch, q } = await setup();
  const ch2 = await b.channel(c);
  const c1 = new Collector();
  const c2 = new Collector();
  const t1 = (await ch.consume(q, c1.cb, { noAck: true })).consumerTag;
  await ch2.consume(q, c2.cb, { noAck: true });
  for (let i = 0; i < 10; i++) ch.sendToQueue(q, Buffer.from('rr' + i));
  await waitFor(() => c1.msgs.length + c2.msgs.length === 10);
  assert.equal(c1.msgs.length, 5);
  assert.equal(c2.msgs.length, 5);
  await ch.cancel(t1);
  for (let i = 0; i < 4; i++) ch.sendToQueue(q, Buffer.from('after' + i));
  await c2.wait(9);
  assert.equal(c1.msgs.length, 5);
});

test('exclusive consumer: a second consumer is refused (403)', T, async () => {
  const { c, ch, q } = await setup();
  await ch.consume(q, () => {}, { exclusive: true });
  const ch2 = await b.channel(c);
  await assert.rejects(ch2.consume(q, () => {}), (e) => e.code === 403);
  await ch2.waitClosed();
});

test('server cancels consumers of a deleted queue (consumer_cancel_notify)', T, async () => {
  const { c, ch, q } = await setup();
  const cancelled = new Promise((resolve) => {
    ch.consume(q, (m) => { if (m === null) resolve(true); });
  });
  const ch2 = await b.channel(c);
  await waitFor(async () => (await ch2.checkQueue(q)).consumerCount === 1);
  await ch2.deleteQueue(q);
  assert.equal(await within(cancelled, WAIT, 'consumer cancel notification'), true);
});
