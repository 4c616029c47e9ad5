'use strict';
// Dead-lettering with amqplib, as RabbitMQ 3.10 does it: x-dead-letter-exchange /
// x-dead-letter-routing-key for each reason (rejected, expired, maxlen), the exact x-death
// contents with their wire types (an array, newest first; count a signed 64-bit integer; time a
// timestamp), x-first-death-*, reject-publish(-dlx) under confirms, the expiry-cycle rule and the
// classic wait-queue pattern (TTL + DLX back to the work queue). Everything here must also pass
// against RabbitMQ 3.10 (WARREN_TEST_URL).

const { test } = require('node:test');
const assert = require('node:assert/strict');
const {
  useBroker, waitFor, Collector, TEST_TIMEOUT, WAIT,
} = require('../lib/broker');
const { recordHeaderTypes } = require('../lib/fieldtypes');

const b = useBroker();
const T = { timeout: TEST_TIMEOUT };

async function setup(confirm = false) {
  const c = recordHeaderTypes(await b.connect());
  const ch = await b.channel(c, confirm);
  return { c, ch };
}

// basic.get until a message comes (within WAIT).
async function getEventually(ch, q, opts = { noAck: true }, what = 'a message in ' + q) {
  const deadline = Date.now() + WAIT;
  for (;;) {
    const m = await ch.get(q, opts);
    if (m) return m;
    assert.ok(Date.now() < deadline, what + ' never came');
    await new Promise((r) => setTimeout(r, 10));
  }
}

// basic.get (noAck) until the queue is empty: the bodies.
async function drain(ch, q) {
  const out = [];
  for (;;) {
    const m = await ch.get(q, { noAck: true });
    if (!m) return out;
    out.push(m.content.toString());
  }
}

// A queue that dead-letters to the default exchange with routing key `dlq` (plus extra args).
async function dlqPair(ch, args = {}) {
  const dlq = b.queue('dlq');
  const q = b.queue('work');
  await ch.assertQueue(dlq);
  await ch.assertQueue(q, { arguments: {
    'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': dlq, ...args } });
  return { dlq, q };
}

// One x-death entry, checked with its wire types: { t, v } from lib/fieldtypes.
function checkDeath(typed, { count, reason, queue, exchange, routingKeys, originalExpiration }) {
  assert.equal(typed.t, 'F', 'an x-death entry is a table');
  const e = typed.v;
  const keys = ['count', 'exchange', 'queue', 'reason', 'routing-keys', 'time'];
  if (originalExpiration !== undefined) keys.push('original-expiration');
  assert.deepEqual(Object.keys(e).sort(), keys.sort());
  assert.deepEqual(e.count, { t: 'l', v: BigInt(count) }, 'count is a signed 64-bit integer');
  assert.deepEqual(e.reason, { t: 'S', v: reason });
  assert.deepEqual(e.queue, { t: 'S', v: queue });
  assert.deepEqual(e.exchange, { t: 'S', v: exchange });
  assert.deepEqual(e['routing-keys'], { t: 'A', v: routingKeys.map((k) => ({ t: 'S', v: k })) });
  assert.equal(e.time.t, 'T', 'time is a timestamp');
  const now = Date.now() / 1000;
  assert.ok(Math.abs(Number(e.time.v) - now) < 60, 'time in seconds, now: ' + e.time.v);
  if (originalExpiration !== undefined) {
    assert.deepEqual(e['original-expiration'], { t: 'S', v: originalExpiration });
  }
}

test('reject without requeue: the DLQ gets it with x-death exactly as 3.10 writes it', T,
  async () => {
    const { ch } = await setup();
    const { dlq, q } = await dlqPair(ch);
    ch.sendToQueue(q, Buffer.from('poison'), { headers: { app: 'x' }, messageId: 'id-1' });
    const m = await getEventually(ch, q, { noAck: false });
    ch.reject(m, false);
    const d = await getEventually(ch, dlq);
    assert.equal(d.content.toString(), 'poison');
    assert.equal(d.fields.exchange, '');
    assert.equal(d.fields.routingKey, dlq);
    assert.equal(d.fields.redelivered, false);
    assert.equal(d.properties.messageId, 'id-1');
    const h = d.properties.headers;
    assert.equal(h.app, 'x');
    // What amqplib makes of it: an array of one table; count a plain number, time a timestamp.
    assert.ok(Array.isArray(h['x-death']) && h['x-death'].length === 1);
    const death = h['x-death'][0];
    assert.equal(death.count, 1);
    assert.equal(death.reason, 'rejected');
    assert.equal(death.queue, q);
    assert.equal(death.exchange, '');
    assert.deepEqual(death['routing-keys'], [q]);
    assert.equal(death.time['!'], 'timestamp');
    // The exact wire types.
    const types = d.properties.headerTypes;
    assert.equal(types['x-death'].t, 'A');
    assert.equal(types['x-death'].v.length, 1);
    checkDeath(types['x-death'].v[0], {
      count: 1, reason: 'rejected', queue: q, exchange: '', routingKeys: [q] });
    assert.deepEqual(types['x-first-death-reason'], { t: 'S', v: 'rejected' });
    assert.deepEqual(types['x-first-death-queue'], { t: 'S', v: q });
    assert.deepEqual(types['x-first-death-exchange'], { t: 'S', v: '' });
    assert.deepEqual(types.app, { t: 'S', v: 'x' });
    assert.deepEqual(await drain(ch, q), []);
  });

test('nack multiple without requeue dead-letters them all, in order', T, async () => {
  const { ch } = await setup();
  const { dlq, q } = await dlqPair(ch);
  for (let i = 0; i < 3; i++) ch.sendToQueue(q, Buffer.from('m' + i));
  let last;
  for (let i = 0; i < 3; i++) last = await getEventually(ch, q, { noAck: false });
  ch.nack(last, true, false);
  const got = [];
  for (let i = 0; i < 3; i++) {
    const d = await getEventually(ch, dlq);
    assert.equal(d.properties.headers['x-death'][0].reason, 'rejected');
    got.push(d.content.toString());
  }
  assert.deepEqual(got, ['m0', 'm1', 'm2']);
});

test('a rejecting consumer: nack without requeue from a consumer dead-letters', T, async () => {
  const { ch } = await setup();
  const { dlq, q } = await dlqPair(ch);
  await ch.consume(q, (m) => ch.nack(m, false, false));
  ch.sendToQueue(q, Buffer.from('from a consumer'));
  const d = await getEventually(ch, dlq);
  assert.equal(d.content.toString(), 'from a consumer');
  assert.equal(d.properties.headers['x-death'][0].reason, 'rejected');
});

test('a DLX without x-dead-letter-routing-key keeps the original exchange and routing key', T,
  async () => {
    const { ch } = await setup();
    const src = b.exchange('src');
    const dlx = b.exchange('dlx');
    await ch.assertExchange(src, 'direct', { durable: false });
    await ch.assertExchange(dlx, 'direct', { durable: false });
    const q = b.queue('work');
    const dlq = b.queue('dlq');
    await ch.assertQueue(q, { arguments: { 'x-dead-letter-exchange': dlx } });
    await ch.assertQueue(dlq);
    await ch.bindQueue(q, src, 'a');
    await ch.bindQueue(dlq, dlx, 'a');
    ch.publish(src, 'a', Buffer.from('keyed'));
    ch.reject(await getEventually(ch, q, { noAck: false }), false);
    const d = await getEventually(ch, dlq);
    assert.equal(d.fields.exchange, dlx);
    assert.equal(d.fields.routingKey, 'a');
    checkDeath(d.properties.headerTypes['x-death'].v[0], {
      count: 1, reason: 'rejected', queue: q, exchange: src, routingKeys: ['a'] });
    assert.equal(d.properties.headers['x-first-death-exchange'], src);
  });

test('CC and BCC route; CC keys are in routing-keys and route the dead-letter', T, async () => {
  const { ch } = await setup();
  const src = b.exchange('src');
  const dlx = b.exchange('dlx');
  await ch.assertExchange(src, 'direct', { durable: false });
  await ch.assertExchange(dlx, 'direct', { durable: false });
  const q = b.queue('work');
  const onlyB = b.queue('onlyb');
  const dlA = b.queue('dla');
  const dlB = b.queue('dlb');
  await ch.assertQueue(q, { arguments: { 'x-dead-letter-exchange': dlx } });
  for (const n of [onlyB, dlA, dlB]) await ch.assertQueue(n);
  await ch.bindQueue(q, src, 'a');
  await ch.bindQueue(onlyB, src, 'b');
  await ch.bindQueue(dlA, dlx, 'a');
  await ch.bindQueue(dlB, dlx, 'b');
  ch.publish(src, 'a', Buffer.from('cc'), { CC: ['b'] });
  // Routed by its routing key and by its CC key.
  assert.equal((await getEventually(ch, onlyB)).content.toString(), 'cc');
  ch.reject(await getEventually(ch, q, { noAck: false }), false);
  // Dead-lettered with all its keys: it reaches both DLX queues, once each.
  for (const dl of [dlA, dlB]) {
    const d = await getEventually(ch, dl);
    assert.equal(d.fields.routingKey, 'a');
    checkDeath(d.properties.headerTypes['x-death'].v[0], {
      count: 1, reason: 'rejected', queue: q, exchange: src, routingKeys: ['a', 'b'] });
    assert.deepEqual(d.properties.headers.CC, ['b']);
  }
  assert.deepEqual(await drain(ch, dlA), []);
  assert.deepEqual(await drain(ch, dlB), []);
  // BCC routes too, and is removed from the message.
  ch.publish(src, 'a', Buffer.from('bcc'), { headers: { BCC: ['b'] } });
  const viaBcc = await getEventually(ch, onlyB);
  assert.equal(viaBcc.content.toString(), 'bcc');
  assert.equal((viaBcc.properties.headers || {}).BCC, undefined);
  assert.equal((await getEventually(ch, q)).content.toString(), 'bcc');
});

test('queue TTL: expired without a consumer, original-expiration moved off the message', T,
  async () => {
    const { ch } = await setup();
    const { dlq, q } = await dlqPair(ch, { 'x-message-ttl': 100 });
    ch.sendToQueue(q, Buffer.from('later'), { expiration: '5000' });
    const t0 = Date.now();
    const d = await getEventually(ch, dlq);
    assert.ok(Date.now() - t0 >= 90, 'expired before its 100 ms TTL');
    assert.equal(d.content.toString(), 'later');
    assert.equal(d.properties.expiration, undefined);
    assert.equal(d.properties.headers['x-first-death-reason'], 'expired');
    checkDeath(d.properties.headerTypes['x-death'].v[0], {
      count: 1, reason: 'expired', queue: q, exchange: '', routingKeys: [q],
      originalExpiration: '5000' });
  });

test('per-message expiration dead-letters with reason expired', T, async () => {
  const { ch } = await setup();
  const { dlq, q } = await dlqPair(ch);
  ch.sendToQueue(q, Buffer.from('short'), { expiration: '100' });
  const d = await getEventually(ch, dlq);
  assert.equal(d.content.toString(), 'short');
  assert.equal(d.properties.expiration, undefined);
  checkDeath(d.properties.headerTypes['x-death'].v[0], {
    count: 1, reason: 'expired', queue: q, exchange: '', routingKeys: [q],
    originalExpiration: '100' });
});

test('per-message expiration without a DLX: the expired message is dropped', T, async () => {
  const { ch } = await setup();
  const q = b.queue();
  await ch.assertQueue(q);
  ch.sendToQueue(q, Buffer.from('short'), { expiration: '50' });
  ch.sendToQueue(q, Buffer.from('long'), { expiration: '60000' });
  await new Promise((r) => setTimeout(r, 250));
  assert.deepEqual(await drain(ch, q), ['long']);
});

test('x-max-length with drop-head dead-letters the oldest with reason maxlen', T, async () => {
  const { ch } = await setup(true);
  const { dlq, q } = await dlqPair(ch, { 'x-max-length': 2 });
  for (const body of ['m0', 'm1', 'm2', 'm3']) ch.sendToQueue(q, Buffer.from(body));
  await ch.waitForConfirms();
  const dead = [];
  for (let i = 0; i < 2; i++) {
    const d = await getEventually(ch, dlq);
    checkDeath(d.properties.headerTypes['x-death'].v[0], {
      count: 1, reason: 'maxlen', queue: q, exchange: '', routingKeys: [q] });
    assert.equal(d.properties.headers['x-first-death-reason'], 'maxlen');
    dead.push(d.content.toString());
  }
  assert.deepEqual(dead, ['m0', 'm1']);
  assert.deepEqual(await drain(ch, q), ['m2', 'm3']);
});

test('x-max-length-bytes with drop-head dead-letters the oldest with reason maxlen', T,
  async () => {
    const { ch } = await setup(true);
    const { dlq, q } = await dlqPair(ch, { 'x-max-length-bytes': 10 });
    for (const body of ['aaaa', 'bbbb', 'cccc']) ch.sendToQueue(q, Buffer.from(body));
    await ch.waitForConfirms();
    const d = await getEventually(ch, dlq);
    assert.equal(d.content.toString(), 'aaaa');
    assert.equal(d.properties.headers['x-death'][0].reason, 'maxlen');
    assert.deepEqual(await drain(ch, q), ['bbbb', 'cccc']);
    assert.deepEqual(await drain(ch, dlq), []);
  });

test('x-overflow reject-publish: the refused publish is nacked under confirms', T, async () => {
  const { ch } = await setup(true);
  const q = b.queue();
  await ch.assertQueue(q, { arguments: { 'x-max-length': 1, 'x-overflow': 'reject-publish' } });
  const outcome = (body) => new Promise((resolve) => {
    ch.sendToQueue(q, Buffer.from(body), {}, (err) => resolve(err ? 'nack' : 'ack'));
  });
  assert.equal(await outcome('first'), 'ack');
  assert.equal(await outcome('second'), 'nack');
  ch.sendToQueue(q, Buffer.from('third'));
  await assert.rejects(ch.waitForConfirms());
  assert.deepEqual(await drain(ch, q), ['first']);
  // Room again: accepted.
  assert.equal(await outcome('fourth'), 'ack');
  assert.deepEqual(await drain(ch, q), ['fourth']);
});

test('x-overflow reject-publish-dlx: nacked and dead-lettered with reason maxlen', T,
  async () => {
    const { ch } = await setup(true);
    const { dlq, q } = await dlqPair(ch, {
      'x-max-length': 1, 'x-overflow': 'reject-publish-dlx' });
    const outcome = (body) => new Promise((resolve) => {
      ch.sendToQueue(q, Buffer.from(body), {}, (err) => resolve(err ? 'nack' : 'ack'));
    });
    assert.equal(await outcome('kept'), 'ack');
    assert.equal(await outcome('refused'), 'nack');
    const d = await getEventually(ch, dlq);
    assert.equal(d.content.toString(), 'refused');
    checkDeath(d.properties.headerTypes['x-death'].v[0], {
      count: 1, reason: 'maxlen', queue: q, exchange: '', routingKeys: [q] });
    assert.deepEqual(await drain(ch, q), ['kept']);
  });

test('dying twice in the same queue counts 2, the newest death first', T, async () => {
  const { ch } = await setup();
  const dlq = b.queue('dlq');
  const q = b.queue('work');
  await ch.assertQueue(dlq, { arguments: {
    'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': q } });
  await ch.assertQueue(q, { arguments: {
    'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': dlq } });
  ch.sendToQueue(q, Buffer.from('bounce'));
  ch.reject(await getEventually(ch, q, { noAck: false }), false); // q -> dlq
  ch.reject(await getEventually(ch, dlq, { noAck: false }), false); // dlq -> q
  ch.reject(await getEventually(ch, q, { noAck: false }), false); // q -> dlq again
  const d = await getEventually(ch, dlq);
  const deaths = d.properties.headerTypes['x-death'].v;
  assert.equal(deaths.length, 2);
  checkDeath(deaths[0], { count: 2, reason: 'rejected', queue: q, exchange: '',
    routingKeys: [q] });
  checkDeath(deaths[1], { count: 1, reason: 'rejected', queue: dlq, exchange: '',
    routingKeys: [dlq] });
  // The first death stays the first.
  assert.equal(d.properties.headers['x-first-death-queue'], q);
  assert.equal(d.properties.headers['x-first-death-reason'], 'rejected');
});

test('an expiry cycle with no rejection is dropped', T, async () => {
  // A queue that dead-letters expired messages back to itself: the message is dropped the
  // second time round instead of spinning forever.
  const { ch } = await setup();
  const q = b.queue('loop');
  await ch.assertQueue(q, { arguments: {
    'x-message-ttl': 20, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': q } });
  ch.sendToQueue(q, Buffer.from('spin'));
  await new Promise((r) => setTimeout(r, 300));
  assert.equal((await ch.checkQueue(q)).messageCount, 0);
  // Two queues expiring into each other: also dropped, after one round.
  const a = b.queue('a');
  const c = b.queue('c');
  await ch.assertQueue(a, { arguments: {
    'x-message-ttl': 20, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': c } });
  await ch.assertQueue(c, { arguments: {
    'x-message-ttl': 20, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': a } });
  ch.sendToQueue(a, Buffer.from('spin'));
  await new Promise((r) => setTimeout(r, 400));
  assert.equal((await ch.checkQueue(a)).messageCount, 0);
  assert.equal((await ch.checkQueue(c)).messageCount, 0);
});

test('the classic wait queue: rejected messages wait out a TTL and come back', T, async () => {
  // work --reject--> (DLX) wait, x-message-ttl --expire--> (DLX) work. A rejection in every round
  // breaks the cycle rule, so it goes on until the consumer accepts; x-death counts the rounds.
  const { ch } = await setup();
  const work = b.queue('work');
  const wait = b.queue('wait');
  const TTL = 200;
  await ch.assertQueue(work, { arguments: {
    'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': wait } });
  await ch.assertQueue(wait, { arguments: {
    'x-message-ttl': TTL, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': work } });
  const col = new Collector();
  const times = [];
  await ch.consume(work, (m) => {
    times.push(Date.now());
    col.cb(m);
    if (col.msgs.length < 3) ch.reject(m, false); else ch.ack(m);
  });
  ch.sendToQueue(work, Buffer.from('job'), { headers: { attempt: 'any' } });
  const msgs = await col.wait(3, WAIT + 3 * TTL);
  assert.ok(msgs.every((m) => m.content.toString() === 'job'));
  // Never back before the TTL.
  assert.ok(times[1] - times[0] >= TTL - 10, 'round 1 took ' + (times[1] - times[0]) + ' ms');
  assert.ok(times[2] - times[1] >= TTL - 10, 'round 2 took ' + (times[2] - times[1]) + ' ms');
  assert.equal(msgs[0].properties.headers['x-death'], undefined);
  for (const [i, m] of msgs.entries()) {
    assert.equal(m.fields.exchange, '', 'message ' + i);
    assert.equal(m.fields.routingKey, work);
    assert.equal(m.fields.redelivered, false);
  }
  // After round n: [wait/expired n, work/rejected n], the newest (expiry in wait) first.
  for (const n of [1, 2]) {
    const deaths = msgs[n].properties.headerTypes['x-death'].v;
    assert.equal(deaths.length, 2, 'round ' + n);
    checkDeath(deaths[0], { count: n, reason: 'expired', queue: wait, exchange: '',
      routingKeys: [wait] });
    checkDeath(deaths[1], { count: n, reason: 'rejected', queue: work, exchange: '',
      routingKeys: [work] });
    const h = msgs[n].properties.headers;
    assert.equal(h['x-first-death-queue'], work);
    assert.equal(h['x-first-death-reason'], 'rejected');
    assert.equal(h.attempt, 'any');
  }
  await waitFor(async () => (await ch.checkQueue(work)).messageCount === 0 &&
    (await ch.checkQueue(wait)).messageCount === 0);
});
