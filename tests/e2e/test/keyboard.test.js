// Keyboard use and contrast, measured: log in and work a queue with the keyboard only (Tab, Enter,
// Space, Escape), with a visible focus ring on every stop whose colour keeps 3:1 against what is
// behind it (WCAG 1.4.11), and axe-core on the pages and dialogs on the way (screenshot() runs it;
// contrast is among its rules). One broker and one browser for the file; the tests run in order.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import amqp from 'amqplib';
import { assertAccessible, assertFitsWidth, eventually, http, launchBrowser, screenshot, startBroker } from '../lib/harness.js';

const T = { timeout: 120000 };
const VIEWPORT = { width: 1366, height: 768 };

let broker, chrome, page, conn;

// What has focus now: a short description, and how its focus ring looks. The ring is the outline
// (the console draws focus as an outline); its contrast is taken against the first opaque
// background behind it: the element's own for an inset ring, else its parents'.
async function focused() {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return { tag: 'body', text: '', ring: null };
    const rgb = (c) => {
      const m = /rgba?\(([\d.]+),\s*([\d.]+),\s*([\d.]+)(?:,\s*([\d.]+))?\)/.exec(c);
      return m ? { r: +m[1], g: +m[2], b: +m[3], a: m[4] === undefined ? 1 : +m[4] } : null;
    };
    const lum = ({ r, g, b }) => {
      const f = (v) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
      return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
    };
    const s = getComputedStyle(el);
    const inset = parseFloat(s.outlineOffset) < 0;
    let bgEl = inset ? el : el.parentElement;
    let bg = null;
    while (bgEl) {
      const c = rgb(getComputedStyle(bgEl).backgroundColor);
      if (c && c.a === 1) {
        bg = c;
        break;
      }
      bgEl = bgEl.parentElement;
    }
    bg ??= { r: 255, g: 255, b: 255, a: 1 };
    const ring = rgb(s.outlineColor);
    const [hi, lo] = [lum(ring), lum(bg)].sort((a, b) => b - a);
    const label = el.getAttribute('aria-label') || el.labels?.[0]?.textContent || el.textContent || el.getAttribute('name') || '';
    return {
      tag: el.tagName.toLowerCase(),
      type: el.getAttribute('type') ?? '',
      text: label.trim().replace(/\s+/g, ' ').slice(0, 60),
      // A date field's focus is on one of its parts (month, day...), inside the field.
      visible: el.matches(':focus-visible') || (el.type === 'datetime-local' && el.matches(':focus-within')),
      inDialog: el.closest('dialog[open]') !== null,
      ring: { style: s.outlineStyle, width: parseFloat(s.outlineWidth), contrast: (hi + 0.05) / (lo + 0.05) },
    };
  });
}

// The focus ring is there and readable.
function assertRing(f) {
  assert.ok(f.visible, `focus on ${f.tag} "${f.text}" matches :focus-visible`);
  assert.notEqual(f.ring.style, 'none', `${f.tag} "${f.text}" has a focus outline`);
  assert.ok(f.ring.width >= 2, `${f.tag} "${f.text}": outline ${f.ring.width}px wide`);
  assert.ok(f.ring.contrast >= 3, `${f.tag} "${f.text}": focus ring contrast ${f.ring.contrast.toFixed(2)}:1, under 3:1`);
}

// Presses Tab until `match(focused)` holds, checking the ring at every stop; fails after `max`.
async function tabTo(match, what, max = 80, key = 'Tab') {
  const seen = [];
  for (let i = 0; i < max; i++) {
    await page.keyboard.press(key);
    const f = await focused();
    seen.push(`${f.tag}:${f.text}`);
    if (f.tag !== 'body') assertRing(f);
    if (match(f)) return f;
  }
  throw new Error(`Tab never reached ${what}; focus went through: ${seen.join(' | ')}`);
}

const heading = (name) => page.getByRole('heading', { name, level: 1 }).waitFor({ timeout: 10000 });

describe('keyboard and contrast', () => {
  before(async () => {
    broker = await startBroker();
    chrome = await launchBrowser({ viewport: VIEWPORT });
    page = chrome.context.pages()[0] ?? (await chrome.context.newPage());
    page.on('pageerror', (e) => console.error('page error:', e.message));
    conn = await amqp.connect(broker.amqpUrl);
    // A work queue that dead-letters into kb.dead, with three dead letters in it.
    const put = async (p, body) => assert.ok([201, 204].includes((await http(broker, p[0], p[1], body)).status), p[1]);
    await put(['PUT', '/api/exchanges/%2F/kb.dlx'], { type: 'fanout', durable: true });
    await put(['PUT', '/api/queues/%2F/kb.dead'], { durable: true });
    await put(['POST', '/api/bindings/%2F/e/kb.dlx/q/kb.dead'], { routing_key: '' });
    await put(['PUT', '/api/queues/%2F/kb.work'], { durable: true, arguments: { 'x-dead-letter-exchange': 'kb.dlx' } });
    const ch = await conn.createChannel();
    for (let i = 0; i < 3; i++) ch.sendToQueue('kb.work', Buffer.from(JSON.stringify({ n: i })), { contentType: 'application/json' });
    for (let i = 0; i < 3; i++) ch.nack(await eventually(() => ch.get('kb.work'), 5000, 'a message'), false, false);
    await eventually(async () => (await http(broker, 'GET', '/api/queues/%2F/kb.dead')).body.messages === 3, 10000, '3 dead letters');
    await ch.close();
  });

  after(async () => {
    await conn?.close().catch(() => {});
    await chrome?.close();
    await broker?.stop();
  });

  test('log in with the keyboard only: Tab through the form, Enter submits', T, async () => {
    await page.goto(broker.httpUrl + '/');
    await page.getByLabel('User name').waitFor();
    await assertAccessible(page, 'login');
    // The user name field has focus from the start.
    let f = await focused();
    assert.equal(f.tag, 'input');
    assert.equal(f.text, 'User name');
    await page.keyboard.type('guest');
    f = await tabTo((x) => x.text === 'Password', 'the password field', 1);
    await page.keyboard.type('wrong');
    f = await tabTo((x) => x.tag === 'button', 'the Log in button', 1);
    assert.equal(f.text, 'Log in');
    await screenshot(page, 'login-focus');
    await page.keyboard.press('Enter');
    await page.getByText('Login failed').waitFor();
    await assertAccessible(page, 'login failed');
    // Focus is back in the password field, its text selected: typing replaces it, and Enter in the
    // field submits the form.
    await eventually(async () => (await focused()).text === 'Password', 5000, 'focus in the password field');
    await page.keyboard.type('guest');
    await page.keyboard.press('Enter');
    await heading('Overview');
  });

  test('the skip link jumps to the page content without leaving the page', T, async () => {
    await page.reload();
    await heading('Overview');
    const f = await tabTo((x) => x.text === 'Skip to content', 'the skip link', 1);
    assertRing(f);
    await page.keyboard.press('Enter');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'main');
    assert.match(page.url(), /#\/overview$|\/$/, 'still on the overview');
    await heading('Overview');
    // The next Tab lands in the content (the first card link), not in the navigation.
    const next = await tabTo(() => true, 'anything', 1);
    assert.equal(await page.evaluate(() => document.activeElement.closest('main') !== null), true, `focus in main, got ${next.text}`);
  });

  test('reach a queue through the list with Tab and Enter, and its actions; Escape closes a dialog', T, async () => {
    await page.reload();
    await heading('Overview');
    await tabTo((x) => x.text === 'Queues' && x.tag === 'a', 'the Queues link');
    await page.keyboard.press('Enter');
    await heading('Queues');
    // Filter with the keyboard: type into the field, Enter applies.
    await tabTo((x) => x.text === 'Filter by name', 'the filter field');
    await page.keyboard.type('kb.');
    await page.keyboard.press('Enter');
    await eventually(async () => (await page.locator('tbody tr').count()) === 2, 10000, 'two kb. queues');
    // Sort by a column header with Enter.
    await tabTo((x) => x.text.startsWith('Total'), 'the Total column header');
    await page.keyboard.press('Enter');
    await eventually(async () => (await page.locator('th[aria-sort]').textContent()).startsWith('Total'), 10000, 'sorted by total');
    await eventually(async () => (await page.locator('tbody tr').first().textContent()).includes('kb.dead'), 10000, 'kb.dead first');
    await screenshot(page, 'queues-keyboard');
    await tabTo((x) => x.text === 'kb.dead' && x.tag === 'a', 'the kb.dead link', 20, 'Shift+Tab');
    await page.keyboard.press('Enter');
    await heading(/Queue kb\.dead/);
    // The link that had focus is gone with the list: focus is at the top of the new page's content.
    assert.equal(await page.evaluate(() => document.activeElement.id), 'main');

    // Purge opens a confirmation; Escape closes it without purging, and focus returns to Purge.
    await tabTo((x) => x.text === 'Purge', 'the Purge button', 10);
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: "Purge 'kb.dead'?" });
    await dialog.waitFor();
    let f = await focused();
    assert.ok(f.inDialog, 'focus moved into the dialog');
    assert.equal(f.text, 'Cancel', 'the harmless choice has focus');
    await screenshot(page, 'queue-purge-dialog');
    // Tab stays inside the modal dialog.
    for (let i = 0; i < 4; i++) {
      await page.keyboard.press('Tab');
      f = await focused();
      if (f.tag !== 'body') assert.ok(f.inDialog, `Tab left the dialog for ${f.tag} "${f.text}"`);
    }
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    f = await focused();
    assert.equal(f.text, 'Purge', 'focus back on the button that opened the dialog');
    assert.equal((await http(broker, 'GET', '/api/queues/%2F/kb.dead')).body.messages, 3, 'nothing purged');

    // Browse messages (a link): Enter opens the DLQ inspector; Show opens a message; Space selects it.
    await tabTo((x) => x.text === 'Browse messages', 'Browse messages', 5, 'Shift+Tab');
    await page.keyboard.press('Enter');
    await heading(/kb\.dead/);
    await page.locator('tr[data-message-id]').first().waitFor();
    await tabTo((x) => /^Select message \d+$/.test(x.text), 'the first message checkbox');
    await page.keyboard.press('Space');
    await page.getByText('1 selected').waitFor();
    await tabTo((x) => x.text === 'Show', 'the first Show button');
    await page.keyboard.press('Enter');
    await page.locator('tr.detail table.deaths').waitFor();
    await tabTo((x) => x.text === 'Hex', 'the Hex view button');
    await page.keyboard.press('Enter');
    await eventually(async () => /^00000000/.test(await page.locator('tr.detail pre.body').textContent()), 5000, 'hex body');
    // The body box scrolls, so it takes focus too.
    await tabTo((x) => x.text === 'Message body', 'the message body');
    await screenshot(page, 'dlq-keyboard');
    // Delete… opens its dialog; Escape closes it; nothing deleted.
    await tabTo((x) => x.text === 'Delete…', 'Delete…', 40, 'Shift+Tab');
    await page.keyboard.press('Enter');
    await page.getByRole('dialog', { name: 'Delete messages?' }).waitFor();
    await assertAccessible(page, 'delete dialog');
    await page.keyboard.press('Escape');
    await page.getByRole('dialog', { name: 'Delete messages?' }).waitFor({ state: 'hidden' });
    assert.equal((await focused()).text, 'Delete…');
    assert.equal((await http(broker, 'GET', '/api/queues/%2F/kb.dead')).body.messages, 3, 'nothing deleted');
  });

  test('every page: axe finds nothing serious, and every stop has a visible focus ring', T, async () => {
    for (const [hash, title] of [
      ['#/overview', 'Overview'],
      ['#/exchanges', 'Exchanges'],
      ['#/exchanges/%2F/kb.dlx', /Exchange kb\.dlx/],
      ['#/queues', 'Queues'],
      ['#/queues/%2F/kb.work', /Queue kb\.work/],
      ['#/dlq', 'DLQ inspector'],
      ['#/dlq/%2F/kb.dead', /kb\.dead/],
      ['#/connections', 'Connections'],
      ['#/delayed', 'Delayed messages'],
      ['#/no-such-page', 'Page not found'],
    ]) {
      await page.goto(broker.httpUrl + '/' + hash);
      await page.reload(); // focus starts at the top
      await heading(title);
      await page.waitForLoadState('networkidle').catch(() => {});
      await assertFitsWidth(page, hash);
      await assertAccessible(page, hash);
      // Tab through the whole page until focus comes back round to the skip link.
      const stops = [];
      for (let i = 0; i < 200; i++) {
        await page.keyboard.press('Tab');
        const f = await focused();
        if (f.tag === 'body') continue;
        assertRing(f);
        if (i > 0 && f.text === 'Skip to content') break;
        stops.push(f.text);
      }
      assert.ok(stops.length > 7, `${hash}: ${stops.length} focus stops: ${stops.join(' | ')}`);
    }
  });
});
