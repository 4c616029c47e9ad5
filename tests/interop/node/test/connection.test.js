'use strict';
// Connections and channels with amqplib.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { useBroker, amqp, watchChannel, within, TEST_TIMEOUT } = require('../lib/broker');

const b = useBroker();
const T = { timeout: TEST_TIMEOUT };

test('connect and close', T, async () => {
  const c = await amqp.connect(b.options());
  const closed = new Promise((resolve) => c.once('close', resolve));
  await c.close();
  await within(closed, 10000, 'connection close');
});

test('connect with a URL (vhost %2F)', T, async () => {
  const c = await amqp.connect(b.url());
  await c.close();
});

test('server properties and capabilities', T, async () => {
  const c = await b.connect();
  const props = c.connection.serverProperties;
  for (const k of ['product', 'version', 'platform']) {
    assert.equal(typeof props[k], 'string', k);
  }
  // amqplib relies on these (confirms, nacks, consumer cancel notifications, blocked).
  for (const cap of ['publisher_confirms', 'basic.nack', 'consumer_cancel_notify',
    'exchange_exchange_bindings', 'connection.blocked', 'authentication_failure_close',
    'per_consumer_qos']) {
    assert.equal(props.capabilities[cap], true, cap);
  }
});

test('tuning: frame_max and channel_max negotiated', T, async () => {
  const c = await b.connect({ frameMax: 16384, channelMax: 100 });
  assert.equal(c.connection.frameMax, 16384);
  assert.equal(c.connection.channelMax, 100);
  // A body larger than frame_max is split over several frames and still arrives intact.
  const ch = await b.channel(c);
  const q = (await ch.assertQueue('', { exclusive: true })).queue;
  const body = Buffer.alloc(100000, 'z');
  ch.sendToQueue(q, body);
  let m = false;
  const deadline = Date.now() + 10000;
  while (m === false && Date.now() < deadline) m = await ch.get(q, { noAck: true });
  assert.ok(m, 'message not received');
  assert.ok(m.content.equals(body));
});

test('channel open and close', T, async () => {
  const c = await b.connect();
  const ch = await b.channel(c);
  await ch.checkExchange('amq.direct');
  await ch.close();
  await ch.waitClosed();
  assert.deepEqual(ch.errors, []);
  // The connection is still usable.
  const ch2 = await b.channel(c);
  await ch2.checkExchange('amq.direct');
});

test('many channels on one connection', T, async () => {
  const c = await b.connect();
  const n = 200;
  const chans = await Promise.all(Array.from({ length: n }, () => b.channel(c)));
  assert.equal(new Set(chans.map((ch) => ch.ch)).size, n, 'channel numbers are distinct');
  // Each channel does its own round trip, all concurrently.
  const queues = await Promise.all(chans.map((ch) => ch.assertQueue('', { exclusive: true })));
  assert.equal(new Set(queues.map((r) => r.queue)).size, n);
  await Promise.all(chans.map((ch, i) => {
    ch.sendToQueue(queues[i].queue, Buffer.from('m' + i));
    return ch.checkQueue(queues[i].queue);
  }));
  const got = await Promise.all(chans.map(async (ch, i) => {
    const deadline = Date.now() + 10000;
    for (;;) {
      const m = await ch.get(queues[i].queue, { noAck: true });
      if (m) return m.content.toString();
      assert.ok(Date.now() < deadline, 'message ' + i + ' not received');
    }
  }));
  assert.deepEqual(got, Array.from({ length: n }, (_, i) => 'm' + i));
  // Close half of them; the rest keep working.
  await Promise.all(chans.slice(0, n / 2).map((ch) => ch.close()));
  await Promise.all(chans.slice(n / 2).map((ch) => ch.checkExchange('amq.fanout')));
});

test('closing a connection closes its channels', T, async () => {
  const c = await b.connect();
  const chans = [];
  for (let i = 0; i < 5; i++) chans.push(await b.channel(c));
  await chans[0].assertQueue('', { exclusive: true });
  await c.close();
  await Promise.all(chans.map((ch) => ch.waitClosed()));
});

test('a channel error does not affect other channels or the connection', T, async () => {
  const c = await b.connect();
  const bad = await b.channel(c);
  const good = await b.channel(c);
  await assert.rejects(bad.checkQueue(b.queue('missing')), (e) => e.code === 404);
  await bad.waitClosed();
  await good.checkExchange('amq.topic');
  const again = watchChannel(await c.createChannel());
  await again.checkExchange('amq.topic');
});
