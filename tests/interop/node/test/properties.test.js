'use strict';
// Message properties, header tables of every type, and body sizes, with amqplib.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { useBroker, Collector, TEST_TIMEOUT } = require('../lib/broker');

const b = useBroker();
const T = { timeout: TEST_TIMEOUT };

async function setup() {
  const c = await b.connect();
  const ch = await b.channel(c, true);
  const q = b.queue();
  await ch.assertQueue(q);
  return { c, ch, q };
}

async function roundTrip(ch, q, body, options = {}) {
  ch.sendToQueue(q, body, options);
  await ch.waitForConfirms();
  const m = await ch.get(q, { noAck: true });
  assert.ok(m, 'message not in queue');
  return m;
}

// What amqplib sends for each header, and what it decodes from the broker's copy.
const HEADERS_SENT = {
  str: 'hello',
  utf8: 'héllo wörld ✓ 日本',
  emptyStr: '',
  byte: 7,
  negByte: -7,
  short: 1000,
  int: 100000,
  negInt: -100000,
  long: 2 ** 40,
  negLong: -(2 ** 40),
  double: 3.25,
  float: { '!': 'float', value: 1.5 },
  yes: true,
  no: false,
  ts: { '!': 'timestamp', value: 1700000000 },
  dec: { '!': 'decimal', value: { places: 2, digits: 12345 } },
  nothing: null,
  bytes: Buffer.from([0, 1, 2, 254, 255]),
  arr: [1, 'two', true, 3.5, [4, 'nested'], { k: 'v' }],
  emptyArr: [],
  nested: { a: 1, b: { c: 'deep', d: [false, null], e: {} } },
  'x-unicode-κλειδί': 'value',
};
const HEADERS_RECEIVED = { ...HEADERS_SENT, float: 1.5 };

test('a message with every property set arrives intact', T, async () => {
  const { ch, q } = await setup();
  const body = Buffer.from('{"every": "property"}');
  const options = {
    contentType: 'application/json',
    contentEncoding: 'utf-8',
    headers: HEADERS_SENT,
    deliveryMode: 2,
    priority: 5,
    correlationId: 'corr-123',
    replyTo: 'reply.queue',
    expiration: '600000',
    messageId: 'msg-456',
    timestamp: 1700000001,
    type: 'test.type',
    userId: b.username, // must match the authenticated user
    appId: 'warren-interop',
  };
  const m = await roundTrip(ch, q, body, options);
  assert.ok(m.content.equals(body));
  const p = m.properties;
  for (const k of ['contentType', 'contentEncoding', 'deliveryMode', 'priority', 'correlationId',
    'replyTo', 'expiration', 'messageId', 'timestamp', 'type', 'userId', 'appId']) {
    assert.deepEqual(p[k], options[k], k);
  }
  assert.deepEqual(p.headers, HEADERS_RECEIVED);
  assert.equal(p.clusterId, undefined);
});

test('properties arrive intact through a consumer too', T, async () => {
  const { ch, q } = await setup();
  const col = new Collector();
  await ch.consume(q, col.cb, { noAck: true });
  ch.sendToQueue(q, Buffer.from('x'), { headers: HEADERS_SENT, persistent: true, priority: 9 });
  const [m] = await col.wait(1);
  assert.deepEqual(m.properties.headers, HEADERS_RECEIVED);
  assert.equal(m.properties.deliveryMode, 2);
  assert.equal(m.properties.priority, 9);
});

test('a message with no properties has none', T, async () => {
  const { ch, q } = await setup();
  const m = await roundTrip(ch, q, Buffer.from('bare'));
  const set = Object.entries(m.properties).filter(([, v]) => v !== undefined);
  // amqplib always sends an (empty) headers table.
  assert.deepEqual(set, [['headers', {}]]);
});

test('userId other than the authenticated user is refused (406)', T, async () => {
  const { ch, q } = await setup();
  ch.sendToQueue(q, Buffer.from('x'), { userId: 'somebody-else' });
  await ch.waitClosed();
  assert.equal(ch.errors.length, 1);
  assert.equal(ch.errors[0].code, 406);
});

test('1 MB body', T, async () => {
  const { ch, q } = await setup();
  const body = crypto.randomBytes(1024 * 1024);
  const m = await roundTrip(ch, q, body);
  assert.equal(m.content.length, body.length);
  assert.ok(m.content.equals(body));
});

test('zero-length body', T, async () => {
  const { ch, q } = await setup();
  const m = await roundTrip(ch, q, Buffer.alloc(0), { contentType: 'text/plain' });
  assert.equal(m.content.length, 0);
  assert.equal(m.properties.contentType, 'text/plain');
  // And through a consumer.
  const col = new Collector();
  await ch.consume(q, col.cb, { noAck: true });
  ch.sendToQueue(q, Buffer.alloc(0));
  const [d] = await col.wait(1);
  assert.equal(d.content.length, 0);
});

test('bodies around the frame size boundary', T, async () => {
  const { c, ch, q } = await setup();
  const frameMax = c.connection.frameMax;
  const sizes = [1, frameMax - 9, frameMax - 8, frameMax - 7, frameMax, 2 * (frameMax - 8),
    2 * (frameMax - 8) + 1, 3 * frameMax + 17];
  for (const n of sizes) {
    const body = crypto.randomBytes(n);
    const m = await roundTrip(ch, q, body);
    assert.ok(m.content.equals(body), 'size ' + n);
  }
});

test('every byte value in the body', T, async () => {
  const { ch, q } = await setup();
  const body = Buffer.from(Array.from({ length: 256 * 4 }, (_, i) => i % 256));
  const m = await roundTrip(ch, q, body);
  assert.ok(m.content.equals(body));
});
