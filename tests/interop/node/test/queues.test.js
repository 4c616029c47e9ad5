'use strict';
// Queue declaration, inspection, purge, delete, exclusivity with amqplib.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { useBroker, expectChannelError, waitFor, TEST_TIMEOUT } = require('../lib/broker');

const b = useBroker();
const T = { timeout: TEST_TIMEOUT };

async function fill(ch, q, n) {
  for (let i = 0; i < n; i++) ch.sendToQueue(q, Buffer.from('m' + i));
  await waitFor(async () => (await ch.checkQueue(q)).messageCount === n, undefined,
    n + ' messages in ' + q);
}

test('assertQueue returns name and counts; checkQueue sees the queue', T, async () => {
  const c = await b.connect();
  const ch = await b.channel(c);
  const q = b.queue();
  assert.deepEqual(await ch.assertQueue(q), { queue: q, messageCount: 0, consumerCount: 0 });
  // Re-declaring with the same arguments is fine.
  assert.deepEqual(await ch.assertQueue(q), { queue: q, messageCount: 0, consumerCount: 0 });
  await fill(ch, q, 2);
  await ch.consume(q, () => {}, { noAck: false });
  const r = await ch.checkQueue(q);
  assert.equal(r.queue, q);
  assert.equal(r.consumerCount, 1);
});

test('checkQueue on a missing queue: 404 and the channel closes', T, async () => {
  const c = await b.connect();
  const ch = await b.channel(c);
  await expectChannelError(ch, ch.checkQueue(b.queue('missing')), 404);
  assert.match(ch.errors[0].message, /NOT_FOUND/);
  await assert.rejects(ch.checkQueue('anything'), /closed/i);
  // The connection survives.
  const ch2 = await b.channel(c);
  await ch2.checkExchange('amq.direct');
});

test('redeclaring with different arguments: 406', T, async () => {
  const c = await b.connect();
  const ch = await b.channel(c);
  const q = b.queue();
  await ch.assertQueue(q, { durable: false });
  await expectChannelError(ch, ch.assertQueue(q, { durable: true }), 406);
  assert.match(ch.errors[0].message, /PRECONDITION_FAILED/);
});

test('server-named queues', T, async () => {
  const c = await b.connect();
  const ch = await b.channel(c);
  const a = await ch.assertQueue('', { exclusive: true });
  const bq = await ch.assertQueue('', { exclusive: true });
  assert.match(a.queue, /^amq\.gen-/);
  assert.match(bq.queue, /^amq\.gen-/);
  assert.notEqual(a.queue, bq.queue);
  assert.equal(a.messageCount, 0);
  ch.sendToQueue(a.queue, Buffer.from('to a server-named queue'));
  const m = await (async () => {
    const deadline = Date.now() + 10000;
    for (;;) {
      const got = await ch.get(a.queue, { noAck: true });
      if (got) return got;
      assert.ok(Date.now() < deadline);
    }
  })();
  assert.equal(m.content.toString(), 'to a server-named queue');
});

test('purgeQueue returns the number of messages purged', T, async () => {
  const c = await b.connect();
  const ch = await b.channel(c);
  const q = b.queue();
  await ch.assertQueue(q);
  await fill(ch, q, 7);
  assert.deepEqual(await ch.purgeQueue(q), { messageCount: 7 });
  assert.equal((await ch.checkQueue(q)).messageCount, 0);
  assert.deepEqual(await ch.purgeQueue(q), { messageCount: 0 });
});

test('deleteQueue returns the number of messages deleted', T, async () => {
  const c = await b.connect();
  const ch = await b.channel(c);
  const q = b.queue();
  await ch.assertQueue(q);
  await fill(ch, q, 4);
  assert.deepEqual(await ch.deleteQueue(q), { messageCount: 4 });
  await expectChannelError(ch, ch.checkQueue(q), 404);
});

test('deleteQueue ifEmpty on a non-empty queue: 406', T, async () => {
  const c = await b.connect();
  const ch = await b.channel(c);
  const q = b.queue();
  await ch.assertQueue(q);
  await fill(ch, q, 1);
  await expectChannelError(ch, ch.deleteQueue(q, { ifEmpty: true }), 406);
  const ch2 = await b.channel(c);
  assert.equal((await ch2.checkQueue(q)).messageCount, 1);
});

test('exclusive queue is locked to its connection (405)', T, async () => {
  const owner = await b.connect();
  const other = await b.connect();
  const och = await b.channel(owner);
  const q = b.queue('excl');
  await och.assertQueue(q, { exclusive: true });

  const attempts = {
    checkQueue: (ch) => ch.checkQueue(q),
    assertQueue: (ch) => ch.assertQueue(q, { exclusive: true }),
    consume: (ch) => ch.consume(q, () => {}),
    deleteQueue: (ch) => ch.deleteQueue(q),
    purgeQueue: (ch) => ch.purgeQueue(q),
    bindQueue: (ch) => ch.bindQueue(q, 'amq.direct', 'k'),
  };
  for (const [name, op] of Object.entries(attempts)) {
    const ch = await b.channel(other);
    await expectChannelError(ch, op(ch), 405);
    assert.match(ch.errors[0].message, /RESOURCE_LOCKED/, name);
  }
  // Publishing to it from another connection is allowed.
  const pch = await b.channel(other);
  pch.sendToQueue(q, Buffer.from('from elsewhere'));
  await waitFor(async () => (await och.checkQueue(q)).messageCount === 1);
  // The owner still uses it freely; once the owner is gone, so is the queue.
  await och.purgeQueue(q);
  await owner.close();
  await waitFor(async () => {
    const ch = await b.channel(other);
    try {
      await ch.checkQueue(q);
      await ch.close();
      return false;
    } catch (e) {
      assert.equal(e.code, 404);
      return true;
    }
  }, undefined, 'exclusive queue deleted with its connection');
});

test('auto-delete queue goes away with its last consumer', T, async () => {
  const c = await b.connect();
  const ch = await b.channel(c);
  const q = b.queue('ad');
  await ch.assertQueue(q, { autoDelete: true });
  const { consumerTag } = await ch.consume(q, () => {});
  assert.equal((await ch.checkQueue(q)).consumerCount, 1);
  await ch.cancel(consumerTag);
  const ch2 = await b.channel(c);
  await waitFor(async () => {
    try {
      await ch2.checkQueue(q);
      return false;
    } catch (e) {
      assert.equal(e.code, 404);
      return true;
    }
  }, undefined, 'auto-delete queue deleted');
});
