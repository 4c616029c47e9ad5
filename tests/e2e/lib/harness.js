// The e2e harness: the real broker binary on ephemeral ports with a temp data dir (readiness from
// its stdout line "warren ready amqp=HOST:PORT http=HOST:PORT"), Debian's chromium driven by
// playwright-core, and small HTTP/AMQP helpers. Screenshots go to build/e2e-artifacts/.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const ARTIFACTS = process.env.WARREN_E2E_ARTIFACTS || path.join(REPO, 'build', 'e2e-artifacts');
const BIN = process.env.WARREN_BIN || path.join(REPO, 'build', 'asan', 'broker', 'warren');
const CHROMIUM = process.env.WARREN_CHROMIUM || '/usr/bin/chromium';

export async function startBroker(extraArgs = []) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-e2e-'));
  const logPath = path.join(dir, 'broker.log');
  const log = fs.openSync(logPath, 'a');
  // Every port ephemeral (the Prometheus port, 15692 by default, too): several brokers at once.
  const args = ['--bind', '127.0.0.1', '--amqp-port', '0', '--http-port', '0', '--metrics-port', '0', '--data-dir', path.join(dir, 'data')];
  const proc = spawn(BIN, [...args, ...extraArgs], {
    stdio: ['ignore', 'pipe', log],
  });
  fs.closeSync(log);
  const exited = new Promise((resolve) => {
    proc.once('exit', (code, signal) => resolve({ code, signal }));
    proc.once('error', (error) => resolve({ code: null, signal: null, error }));
  });
  const line = await new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`warren did not become ready in 30 s; log: ${logPath}`)), 30000);
    proc.stdout.on('data', (chunk) => {
      buf += chunk.toString();
      const m = buf.split('\n').find((l) => l.startsWith('warren ready'));
      if (m) {
        clearTimeout(timer);
        resolve(m);
      }
    });
    exited.then((r) => {
      clearTimeout(timer);
      reject(new Error(`warren (${BIN}) exited before ready: ${JSON.stringify(r)}; log: ${logPath}`));
    });
  });
  const amqpAddr = /amqp=(\S+)/.exec(line)[1];
  const httpAddr = /http=(\S+)/.exec(line)[1];
  return {
    proc,
    dir,
    logPath,
    amqpUrl: `amqp://guest:guest@${amqpAddr}/`,
    httpUrl: `http://${httpAddr}`,
    async stop() {
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 20000);
      const r = await exited;
      clearTimeout(timer);
      if (r.code !== 0) throw new Error(`warren did not stop cleanly: ${JSON.stringify(r)}; log kept in ${logPath}`);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

// A fresh browser context in a fresh, empty profile directory (removed on close).
export async function launchBrowser(options = {}) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-e2e-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    // Without these, chromium waits on network services this closed machine does not have.
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    timeout: 60000,
    ...options,
  });
  return {
    context,
    async close() {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

// An admin API call with guest's credentials; returns { status, body }.
export async function http(broker, method, p, body, headers = {}) {
  const res = await fetch(broker.httpUrl + p, {
    method,
    headers: {
      Authorization: 'Basic ' + Buffer.from('guest:guest').toString('base64'),
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    /* not JSON */
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

// axe-core (npm), injected into the page through the DevTools protocol: page.evaluate is not bound
// by the console's Content-Security-Policy, which refuses inline scripts.
const AXE_SOURCE = fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
// WCAG 2.1 A and AA (contrast among them) and axe's best practices.
const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'];

// Runs axe on the page as it is now; returns its violations, each with the elements at fault.
export async function axe(page) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.evaluate(AXE_SOURCE);
  return page.evaluate(async (tags) => {
    const r = await window.axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] });
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => ({ target: n.target.join(' '), html: n.html.slice(0, 160), summary: n.failureSummary })),
    }));
  }, AXE_TAGS);
}

// Fails when axe finds a serious or critical violation (contrast is serious); prints the minor and
// moderate ones. `name` says where, for the message.
export async function assertAccessible(page, name) {
  const violations = await axe(page);
  const describe = (v) => `${v.impact} ${v.id}: ${v.help}\n${v.nodes.map((n) => `    ${n.target}  ${n.html}\n      ${n.summary?.replace(/\n/g, '\n      ')}`).join('\n')}`;
  const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  const other = violations.filter((v) => !bad.includes(v));
  if (other.length) console.log(`axe on ${name}, not failing:\n  ${other.map(describe).join('\n  ')}`);
  if (bad.length) throw new Error(`axe on ${name}:\n  ${bad.map(describe).join('\n  ')}`);
  return violations;
}

let shot = 0;
// node --test runs each test file in a process of its own, so the numbers restart per file: the
// file's name ("console", "waiting") keeps the screenshots of different files apart.
const SUITE = path.basename(process.argv[1] ?? 'e2e').replace(/\.test\.js$/, '');
// Fails when the page is wider than the window (a laptop screen must not scroll sideways; wide
// tables scroll inside their own box).
export async function assertFitsWidth(page, name) {
  const { scroll, inner } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, inner: window.innerWidth }));
  if (scroll > inner) throw new Error(`${name}: the page is ${scroll}px wide in a ${inner}px window`);
}

// Saves a full-page screenshot as build/e2e-artifacts/SUITE-NN-name.png, then checks the page with
// axe (assertAccessible) and its width (assertFitsWidth): every page the tests show is audited as
// it was photographed.
export async function screenshot(page, name, { audit = true } = {}) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  // The first one of a run clears this file's pictures from earlier runs, so none is stale.
  if (shot === 0) {
    for (const f of fs.readdirSync(ARTIFACTS)) if (f.startsWith(`${SUITE}-`) && f.endsWith('.png')) fs.rmSync(path.join(ARTIFACTS, f));
  }
  shot += 1;
  const file = path.join(ARTIFACTS, `${SUITE}-${String(shot).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  if (audit) {
    await assertFitsWidth(page, `${SUITE}-${String(shot).padStart(2, '0')}-${name}`);
    await assertAccessible(page, `${SUITE}-${String(shot).padStart(2, '0')}-${name}`);
  }
  return file;
}

// Polls `fn` until it returns a truthy value (or throws the last error after `ms`).
export async function eventually(fn, ms = 10000, what = 'condition') {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ''}`);
}
