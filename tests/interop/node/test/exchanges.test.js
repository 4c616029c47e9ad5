'use strict';
// Exchanges of every type, queue and exchange bindings, routing, with amqplib.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { useBroker, expectChannelError, TEST_TIMEOUT } = require('../lib/broker');

const b = useBroker();
const T = { timeout: TEST_TIMEOUT };

// Publish each [routingKey, body, options] through a confirm channel (so everything is routed
// once the confirms are in), then return, per queue, the bodies it holds (drained with get).
async function routeAndCollect(conn, exchange, publishes, queues) {
  const cch = await b.channel(conn, true);
  for (const [rk, body, opts] of publishes) cch.publish(exchange, rk, Buffer.from(body), opts || {});
  await cch.waitForConfirms();
  const ch = await b.channel(conn);
  const out = {};
  for (const q of queues) {
    out[q] = [];
    for (;;) {
      const m = await ch.get(q, { noAck: true });
      if (!m) break;
      out[q].push(m.content.toString());
    }
  }
  return out;
}

async function declareQueues(ch, n) {
  const qs = [];
  for (let i = 0; i < n; i++) {
    const q = b.queue();
    await ch.assertQueue(q);
    qs.push(q);
  }
  return qs;
}

test('assertExchange of each type; checkExchange; redeclare', T, async () => {
  const c = await b.connect();
  const ch = await b.channel(c);
  for (const type of ['direct', 'fanout', 'topic', 'headers']) {
    const x = b.exchange(type);
    assert.deepEqual(await ch.assertExchange(x, type, { durable: false }), { exchange: x });
    assert.deepEqual(await ch.assertExchange(x, type, { durable: false }), { exchange: x });
    await ch.checkExchange(x);
  }
  for (const x of ['amq.direct', 'amq.fanout', 'amq.topic', 'amq.headers', 'amq.match']) {
    await ch.checkExchange(x);
  }
});

test('checkExchange on a missing exchange: 404', T, async () => {
  const c = await b.connect();
  const ch = await b.channel(c);
  await expectChannelError(ch, ch.checkExchange(b.exchange('missing')), 404);
});

test('redeclaring an exchange with another type: 406', T, async () => {
  const c = await b.connect();
  const ch = await b.channel(c);
  const x = b.exchange();
  await ch.assertExchange(x, 'direct', { durable: false });
  await expectChannelError(ch, ch.assertExchange(x, 'fanout', { durable: false }), 406);
});

test('deleteExchange', T, async () => {
  const c = await b.connect();
  const ch = await b.channel(c);
  const x = b.exchange();
  await ch.assertExchange(x, 'fanout', { durable: false });
  await ch.deleteExchange(x);
  await expectChannelError(ch, ch.checkExchange(x), 404);
});

test('direct exchange routing, bindQueue / unbindQueue', T, async () => {
  const c = await b.connect();
  const ch = await b.channel(c);
  const x = b.exchange('direct');
  await ch.assertExchange(x, 'direct', { durable: false });
  const [q1, q2] = await declareQueues(ch, 2);
  await ch.bindQueue(q1, x, 'red');
  await ch.bindQueue(q2, x, 'green');
  await ch.bindQueue(q2, x, 'red');
  let got = await routeAndCollect(c, x, [['red', 'r1'], ['green', 'g1'], ['blue', 'b1']], [q1, q2]);
  assert.deepEqual(got, { [q1]: ['r1'], [q2]: ['r1', 'g1'] });
  await ch.unbindQueue(q2, x, 'red');
  got = await routeAndCollect(c, x, [['red', 'r2'], ['green', 'g2']], [q1, q2]);
  assert.deepEqual(got, { [q1]: ['r2'], [q2]: ['g2'] });
});

test('fanout exchange routing', T, async () => {
  const c = await b.connect();
  const ch = await b.channel(c);
  const x = b.exchange('fanout');
  await ch.assertExchange(x, 'fanout', { durable: false });
  const qs = await declareQueues(ch, 3);
  for (const q of qs) await ch.bindQueue(q, x, '');
  const got = await routeAndCollect(c, x, [['ignored', 'a'], ['', 'b']], qs);
  for (const q of qs) assert.deepEqual(got[q], ['a', 'b']);
});

test('topic exchange routing', T, async () => {
  const c = await b.connect();
  const ch = await b.channel(c);
  const x = b.exchange('topic');
  await ch.assertExchange(x, 'topic', { durable: false });
  const [star, hash, exact, all] = await declareQueues(ch, 4);
  await ch.bindQueue(star, x, 'logs.*.error');
  await ch.bindQueue(hash, x, 'logs.#');
  await ch.bindQueue(exact, x, 'logs.db.info');
  await ch.bindQueue(all, x, '#');
  const got = await routeAndCollect(c, x, [
    ['logs.db.error', 'm1'], ['logs.db.info', 'm2'], ['logs', 'm3'], ['logs.a.b.error', 'm4'],
    ['other', 'm5'],
  ], [star, hash, exact, all]);
  assert.deepEqual(got, {
    [star]: ['m1'],
    [hash]: ['m1', 'm2', 'm3', 'm4'],
    [exact]: ['m2'],
    [all]: ['m1', 'm2', 'm3', 'm4', 'm5'],
  });
});

test('headers exchange routing (x-match all / any)', T, async () => {
  const c = await b.connect();
  const ch = await b.channel(c);
  const x = b.exchange('headers');
  await ch.assertExchange(x, 'headers', { durable: false });
  const [qAll, qAny] = await declareQueues(ch, 2);
  await ch.bindQueue(qAll, x, '', { 'x-match': 'all', format: 'pdf', type: 'report' });
  await ch.bindQueue(qAny, x, '', { 'x-match': 'any', format: 'pdf', type: 'report' });
  const got = await routeAndCollect(c, x, [
    ['', 'both', { headers: { format: 'pdf', type: 'report', extra: 1 } }],
    ['', 'format-only', { headers: { format: 'pdf' } }],
    ['', 'wrong-value', { headers: { format: 'zip', type: 'log' } }],
    ['', 'no-headers', {}],
  ], [qAll, qAny]);
  assert.deepEqual(got, { [qAll]: ['both'], [qAny]: ['both', 'format-only'] });
});

test('amq.headers with the headers exchange: unbinding stops routing', T, async () => {
  const c = await b.connect();
  const ch = await b.channel(c);
  const [q] = await declareQueues(ch, 1);
  const args = { 'x-match': 'all', tag: b.queue('tag') };
  await ch.bindQueue(q, 'amq.headers', '', args);
  let got = await routeAndCollect(c, 'amq.headers', [['', 'yes', { headers: { tag: args.tag } }]], [q]);
  assert.deepEqual(got[q], ['yes']);
  await ch.unbindQueue(q, 'amq.headers', '', args);
  got = await routeAndCollect(c, 'amq.headers', [['', 'no', { headers: { tag: args.tag } }]], [q]);
  assert.deepEqual(got[q], []);
});

test('bindExchange: exchange-to-exchange routing; unbindExchange', T, async () => {
  const c = await b.connect();
  const ch = await b.channel(c);
  const src = b.exchange('src');
  const dst = b.exchange('dst');
  await ch.assertExchange(src, 'topic', { durable: false });
  await ch.assertExchange(dst, 'fanout', { durable: false });
  const [qd, qs] = await declareQueues(ch, 2);
  await ch.bindQueue(qd, dst, '');
  await ch.bindQueue(qs, src, 'direct.#');
  await ch.bindExchange(dst, src, 'orders.*');
  let got = await routeAndCollect(c, src, [
    ['orders.new', 'o1'], ['orders.new.eu', 'o2'], ['direct.x', 'd1'],
  ], [qd, qs]);
  assert.deepEqual(got, { [qd]: ['o1'], [qs]: ['d1'] });
  await ch.unbindExchange(dst, src, 'orders.*');
  got = await routeAndCollect(c, src, [['orders.new', 'o3']], [qd, qs]);
  assert.deepEqual(got, { [qd]: [], [qs]: [] });
});

test('publishing to a missing exchange closes the channel with 404', T, async () => {
  const c = await b.connect();
  const ch = await b.channel(c);
  ch.publish(b.exchange('missing'), 'k', Buffer.from('x'));
  await ch.waitClosed();
  assert.equal(ch.errors.length, 1);
  assert.equal(ch.errors[0].code, 404);
  // The connection is fine.
  const ch2 = await b.channel(c);
  await ch2.checkExchange('amq.direct');
});
