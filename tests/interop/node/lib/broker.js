'use strict';
// Broker lifecycle and small helpers for the amqplib interop tests.
//
// Without WARREN_TEST_URL each test file starts its own warren process (WARREN_BIN, default
// <repo>/build/asan/broker/warren) on ephemeral ports with a temporary data dir, waits for the
// stdout readiness line "warren ready amqp=HOST:PORT [http=HOST:PORT]", and stops it with SIGTERM
// after the file's tests (a clean shutdown must exit 0). This mirrors the Broker class in
// tests/interop/python/conftest.py.
//
// With WARREN_TEST_URL (e.g. amqp://guest:guest@127.0.0.1:5674/) the tests run against that
// already-running broker instead; RabbitMQ 3.10 is the reference every test must pass on.

const { spawn } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { before, after, afterEach } = require('node:test');
const assert = require('node:assert/strict');
const amqp = require('amqplib');

const REPO = path.resolve(__dirname, '..', '..', '..', '..');
const DEFAULT_BIN = path.join(REPO, 'build', 'asan', 'broker', 'warren');

// Per-test timeout (ms) for test() options; hooks get the same.
const TEST_TIMEOUT = Number(process.env.WARREN_TEST_TIMEOUT || 60) * 1000;
// How long a test waits for something that should happen.
const WAIT = 10000;

class Broker {
  constructor(extraArgs = []) {
    this.extraArgs = extraArgs;
    this.proc = null;
    this.dataDir = null;
    // Set by restart(): the next start() reuses dataDir instead of making a new one.
    this.keepData = false;
    this.external = null;
    this.host = null;
    this.port = null;
  }

  async start(timeoutMs = 30000) {
    const external = process.env.WARREN_TEST_URL;
    if (external) {
      const u = new URL(external);
      this.external = external;
      this.host = u.hostname;
      this.port = Number(u.port || 5672);
      this.username = decodeURIComponent(u.username || 'guest');
      this.password = decodeURIComponent(u.password || 'guest');
      return this;
    }
    this.username = 'guest';
    this.password = 'guest';
    const bin = process.env.WARREN_BIN || DEFAULT_BIN;
    if (!(this.keepData && this.dataDir)) {
      this.dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-node-'));
    }
    this.keepData = false;
    this.logPath = path.join(this.dataDir, 'broker.log');
    const log = fs.openSync(this.logPath, 'a');
    const args = ['--bind', '127.0.0.1', '--amqp-port', '0', '--http-port', '0', '--metrics-port', '0',
      '--data-dir', this.dataDir, ...this.extraArgs];
    const proc = spawn(bin, args, { stdio: ['ignore', 'pipe', log] });
    this.proc = proc;
    fs.closeSync(log);
    this.exited = new Promise((resolve) => {
      proc.once('exit', (code, signal) => resolve({ code, signal }));
      // spawn failures (e.g. no such binary) emit 'error' and no 'exit'
      proc.once('error', (err) => resolve({ code: null, signal: null, error: err }));
    });
    const line = await new Promise((resolve, reject) => {
      let buf = '';
      const timer = setTimeout(() => done(new Error('warren did not become ready within ' +
        timeoutMs + ' ms')), timeoutMs);
      const onData = (chunk) => {
        buf += chunk.toString('utf8');
        let nl;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const l = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          if (l.startsWith('warren ready')) return done(null, l);
        }
      };
      this.exited.then((r) => done(new Error('warren (' + bin + ') exited before ready: ' +
        (r.error ? r.error.message : (r.signal || r.code)))));
      const done = (err, l) => {
        clearTimeout(timer);
        proc.stdout.off('data', onData);
        if (err) reject(err); else resolve(l);
      };
      proc.stdout.on('data', onData);
    }).catch(async (err) => {
      let logText = '';
      try { logText = fs.readFileSync(this.logPath, 'utf8').slice(-4000); } catch (_) { /* none */ }
      await this.stop();
      throw new Error(err.message + '; log: ' + logText);
    });
    // Keep draining stdout so the broker never blocks on a full pipe.
    proc.stdout.resume();
    const fields = Object.fromEntries(line.trim().split(/\s+/).slice(2).map((f) => {
      const i = f.indexOf('=');
      return [f.slice(0, i), f.slice(i + 1)];
    }));
    const amqpAddr = fields.amqp;
    const i = amqpAddr.lastIndexOf(':');
    this.host = amqpAddr.slice(0, i);
    this.port = Number(amqpAddr.slice(i + 1));
    this.http = fields.http;
    return this;
  }

  // Connection options for amqplib (vhost "/" unless given).
  options(extra = {}) {
    return {
      protocol: 'amqp', hostname: this.host, port: this.port,
      username: this.username, password: this.password, vhost: '/', heartbeat: 0, ...extra,
    };
  }

  url(vhost = '/') {
    return 'amqp://' + encodeURIComponent(this.username) + ':' +
      encodeURIComponent(this.password) + '@' + this.host + ':' + this.port + '/' +
      encodeURIComponent(vhost);
  }

  // SIGTERM, then wait (SIGKILL after 20 s). Returns { code, signal } or null if external.
  // The data dir is removed unless keepData (restart() keeps it).
  async stop(keepData = false) {
    if (!this.proc) return null;
    const proc = this.proc;
    this.proc = null;
    let result;
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM');
      const killer = setTimeout(() => proc.kill('SIGKILL'), 20000);
      result = await this.exited;
      clearTimeout(killer);
    } else {
      result = await this.exited;
    }
    if (this.dataDir && !keepData) fs.rmSync(this.dataDir, { recursive: true, force: true });
    return result;
  }

  // SIGKILL, as a crash would; the data dir stays. Returns { code, signal }.
  async kill() {
    if (!this.proc) return null;
    const proc = this.proc;
    this.proc = null;
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    return this.exited;
  }

  // Stop (SIGTERM, which must exit 0) or kill (SIGKILL) the broker, then start a new one on the
  // same data dir and flags. It listens on new ephemeral ports: connect again with options().
  // Only for a broker this process started (not with WARREN_TEST_URL).
  async restart({ kill = false } = {}) {
    assert.ok(!this.external, 'restart() needs a warren started by the test');
    if (kill) {
      const r = await this.kill();
      assert.equal(r.signal, 'SIGKILL', 'warren was not killed: ' + JSON.stringify(r));
    } else {
      const r = await this.stop(true);
      assert.deepEqual(r, { code: 0, signal: null }, 'warren did not exit 0 on SIGTERM');
    }
    this.keepData = true;
    return this.start();
  }
}

// True when the server is Warren (it advertises capability warren.nack_delay, as the pika tests
// check); Warren-only tests skip elsewhere (RabbitMQ 3.10).
function isWarren(conn) {
  const caps = conn.connection.serverProperties.capabilities || {};
  return caps['warren.nack_delay'] === true;
}

// Register before/after hooks that start a broker for this test file and stop it afterwards.
// Also tracks connections opened with b.connect() and closes them after each test.
function useBroker(extraArgs = []) {
  const b = new Broker(extraArgs);
  const open = new Set();
  b.connect = async (extra = {}) => {
    const c = await amqp.connect(b.options(extra));
    // A connection closed by the server emits 'error'; keep it from becoming an uncaught
    // exception. Tests that care listen themselves.
    c.on('error', () => {});
    open.add(c);
    c.once('close', () => open.delete(c));
    return c;
  };
  // A channel with an 'error' listener (unhandled 'error' events would crash the process);
  // channel.errors collects them, channel.closed resolves when the channel is closed
  // (channel.waitClosed() fails after WAIT ms instead of waiting forever).
  b.channel = async (conn, confirm = false) => {
    const ch = confirm ? await conn.createConfirmChannel() : await conn.createChannel();
    watchChannel(ch);
    return ch;
  };
  // Unique queue / exchange names, deleted (over a fresh connection) after each test.
  const declared = { queue: [], exchange: [] };
  b.queue = (prefix = 'q') => { const n = uid(prefix); declared.queue.push(n); return n; };
  b.exchange = (prefix = 'x') => { const n = uid(prefix); declared.exchange.push(n); return n; };
  b.trackQueue = (n) => { declared.queue.push(n); return n; };
  before(async () => { await b.start(); }, { timeout: 60000 });
  afterEach(async () => {
    for (const c of [...open]) {
      try { await c.close(); } catch (_) { /* already closing */ }
    }
    open.clear();
    if (declared.queue.length || declared.exchange.length) {
      const c = await amqp.connect(b.options());
      c.on('error', () => {});
      try {
        for (const kind of ['queue', 'exchange']) {
          for (const n of declared[kind]) {
            // One channel per delete: a failing delete closes only its own channel.
            const ch = watchChannel(await c.createChannel());
            try {
              if (kind === 'queue') await ch.deleteQueue(n); else await ch.deleteExchange(n);
              await ch.close();
            } catch (_) { /* already gone, or locked by a closed test connection */ }
          }
          declared[kind] = [];
        }
      } finally {
        await c.close();
      }
    }
  }, { timeout: TEST_TIMEOUT });
  after(async () => {
    const r = await b.stop();
    if (r) {
      assert.deepEqual(r, { code: 0, signal: null }, 'warren did not exit 0 on SIGTERM');
    }
  }, { timeout: 60000 });
  return b;
}

function watchChannel(ch) {
  ch.errors = [];
  ch.on('error', (e) => ch.errors.push(e));
  ch.closed = new Promise((resolve) => ch.once('close', resolve));
  ch.waitClosed = (ms = WAIT) => within(ch.closed, ms, 'channel close');
  return ch;
}

// `promise`, or a rejection if it does not settle within `ms`.
function within(promise, ms, what = 'operation') {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(what + ' did not happen within ' + ms + ' ms')), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// A name no other test (or run) uses.
function uid(prefix = 'node') {
  return prefix + '-' + crypto.randomBytes(6).toString('hex');
}

// Resolve when pred() is true (polled on timers), reject after timeoutMs.
async function waitFor(pred, timeoutMs = WAIT, what = 'condition') {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await pred()) return;
    if (Date.now() > deadline) throw new Error(what + ' not met within ' + timeoutMs + ' ms');
    await new Promise((r) => setTimeout(r, 5));
  }
}

// Resolve with the value of the next `event` emitted by `emitter`; reject after timeoutMs.
function nextEvent(emitter, event, timeoutMs = WAIT) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, on);
      reject(new Error('no ' + event + ' event within ' + timeoutMs + ' ms'));
    }, timeoutMs);
    const on = (v) => { clearTimeout(timer); resolve(v); };
    emitter.once(event, on);
  });
}

// A consumer that collects messages; wait(n) resolves once n have arrived.
class Collector {
  constructor() {
    this.msgs = [];
    this.waiters = [];
    this.cb = (m) => {
      this.msgs.push(m);
      this.waiters = this.waiters.filter((w) => {
        if (this.msgs.length < w.n) return true;
        clearTimeout(w.timer);
        w.resolve(this.msgs.slice());
        return false;
      });
    };
  }

  wait(n, timeoutMs = WAIT) {
    if (this.msgs.length >= n) return Promise.resolve(this.msgs.slice());
    return new Promise((resolve, reject) => {
      const w = { n, resolve };
      w.timer = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        reject(new Error('got ' + this.msgs.length + ' of ' + n + ' messages within ' +
          timeoutMs + ' ms'));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }
}

// Expect `promise` to reject because the server closed the channel with `code`; the channel
// must then be closed.
async function expectChannelError(ch, promise, code) {
  await assert.rejects(promise, (e) => {
    assert.equal(e.code, code, e.message);
    return true;
  });
  await ch.waitClosed();
  assert.equal(ch.errors.length, 1);
  assert.equal(ch.errors[0].code, code);
}

module.exports = {
  Broker, useBroker, watchChannel, uid, waitFor, nextEvent, Collector, expectChannelError, within,
  isWarren, TEST_TIMEOUT, WAIT, amqp,
};
