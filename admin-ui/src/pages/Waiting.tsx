// Messages that wait for a due time: a queue's messages waiting to be retried (a panel on the
// queue page) and the messages of x-delayed-message exchanges (the Delayed page). Both list with
// the due time and let the user cancel a wait, after a confirmation: a retrying message becomes
// ready at once, a delayed one is dropped.
import { useState } from 'preact/hooks';
import { api, enc, qpath } from '../api';
import { act, Confirm, ErrorBox, Table, usePoll } from '../components';
import { num, time, vhostLabel } from '../format';
import { link } from '../router';
import type { WaitingMessage, WaitingPage } from '../types';
import { VhostSelect } from './common';

const PAGE = 50;

// "in 9 min 58 s", "in 2 h 5 min", "due now".
export function dueIn(ms: number): string {
  if (ms <= 0) return 'due now';
  const s = Math.round(ms / 1000);
  if (s < 60) return `in ${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `in ${m} min ${s % 60} s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `in ${h} h ${m % 60} min`;
  return `in ${Math.floor(h / 24)} days ${h % 24} h`;
}

function preview(m: WaitingMessage): string {
  if (m.payload_encoding === 'base64') return `(binary, ${num(m.payload_bytes)} bytes)`;
  return m.payload.length > 120 ? m.payload.slice(0, 120) + '…' : m.payload;
}

function Due({ m, age }: { m: WaitingMessage; age: number }) {
  return (
    <span class="due" title={`${m.due} (UTC)`}>
      <time dateTime={m.due}>{time(m.due_unix_ms, true)}</time>
      <span class="muted"> · {dueIn(m.due_in_ms - age)}</span>
    </span>
  );
}

function Payload({ m }: { m: WaitingMessage }) {
  const text = m.payload_json !== undefined ? JSON.stringify(m.payload_json, null, 2) : m.payload;
  return (
    <details class="payload">
      <summary title={m.payload_encoding === 'string' ? m.payload : undefined}>{preview(m) || <span class="muted">(empty body)</span>}</summary>
      <pre class="body" tabIndex={0} role="region" aria-label={`Body of message ${m.id}`}>{m.payload_encoding === 'base64' ? `(base64) ${m.payload}` : text}</pre>
    </details>
  );
}

// One page of waiting messages with Previous / Next, refreshed every few seconds.
function usePage(path: string | null, what: string) {
  const [offset, setOffset] = useState(0);
  const loaded = usePoll(
    async () => {
      if (path === null) return null;
      const page = await api<WaitingPage>(`${path}?offset=${offset}&limit=${PAGE}`, { what });
      return { page, at: Date.now() };
    },
    [path, offset],
    5000,
  );
  return { ...loaded, offset, setOffset };
}

function Paging({ offset, shown, next, setOffset, noun }: { offset: number; shown: number; next: number | null; setOffset: (o: number) => void; noun: string }) {
  if (offset === 0 && next === null) return null;
  return (
    <nav class="pager" aria-label={`Pages of ${noun}`}>
      <button type="button" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>
        ← Previous
      </button>
      <span>
        {noun} {num(shown ? offset + 1 : offset)}–{num(offset + shown)}
      </span>
      <button type="button" disabled={next === null} onClick={() => next !== null && setOffset(next)}>
        Next →
      </button>
    </nav>
  );
}

// The queue page's panel: messages waiting to be retried, with "Retry now".
export function RetryingPanel({ vhost, queue, onChange }: { vhost: string; queue: string; onChange: () => void }) {
  const { data, error, reload, offset, setOffset } = usePage(`/api/queues/${qpath(vhost, queue)}/waiting`, `list the messages waiting to be retried in '${queue}'`);
  const [confirm, setConfirm] = useState<WaitingMessage | null>(null);
  const release = (m: WaitingMessage) =>
    act(
      () => api(`/api/queues/${qpath(vhost, queue)}/waiting/${m.id}`, { method: 'DELETE', what: `retry message ${m.id} now` }),
      `Message ${m.id} is ready again and will be delivered now.`,
    ).then(() => {
      reload();
      onChange();
    });
  const page = data?.page;
  const age = data ? Date.now() - data.at : 0;
  return (
    <div class="panel" data-testid="retrying">
      <h2>
        Waiting to be retried <span class="count">{page ? num(page.messages_waiting) : ''}</span>
      </h2>
      <ErrorBox error={error} />
      {page && page.messages_waiting === 0 && offset === 0 && (
        <p class="muted" data-testid="retrying-none">
          No message is waiting to be retried in this queue. Messages returned with a delay (nack with a delay, or the queue’s
          x-delayed-retry arguments) are listed here until they are due.
        </p>
      )}
      {page && (page.messages_waiting !== 0 || offset !== 0) && (
        <>
          <p class="muted">
            These messages were returned to the queue and wait before they are delivered again. They count in the queue’s total,
            not as ready.
          </p>
          <Table
            caption="Messages waiting to be retried"
            rows={page.items}
            rowKey={(m) => String(m.id)}
            empty="No message is waiting to be retried in this queue."
            columns={[
              { key: 'id', label: 'Id', numeric: true, render: (m) => m.id },
              { key: 'due', label: 'Retried at', render: (m) => <Due m={m} age={age} /> },
              { key: 'dc', label: 'Failed deliveries', numeric: true, render: (m) => num(m.delivery_count) },
              { key: 'ac', label: 'Returns', numeric: true, render: (m) => num(m.acquired_count) },
              { key: 'rk', label: 'Routing key', render: (m) => <code class="clip">{m.routing_key}</code> },
              { key: 'body', label: 'Body', render: (m) => <Payload m={m} /> },
              {
                key: 'x',
                label: 'Actions',
                render: (m) => (
                  <button type="button" class="small" onClick={() => setConfirm(m)} aria-label={`Retry now: message ${m.id}`}>
                    Retry now
                  </button>
                ),
              },
            ]}
          />
          <Paging offset={offset} shown={page.items.length} next={page.next_offset} setOffset={setOffset} noun="Messages" />
        </>
      )}
      <Confirm
        open={confirm !== null}
        title={`Retry message ${confirm?.id ?? ''} now?`}
        text={`It stops waiting and becomes ready at once, at its place in '${queue}', so a consumer gets it right away. Its delivery count is kept.`}
        action="Retry now"
        danger={false}
        dismiss="Keep waiting"
        onConfirm={() => {
          const m = confirm!;
          setConfirm(null);
          release(m);
        }}
        onCancel={() => setConfirm(null)}
      />
    </div>
  );
}

// #/delayed/{vhost}: the messages of x-delayed-message exchanges, with "Cancel".
export function DelayedPage({ vhost: routeVhost }: { vhost?: string }) {
  const vhost = routeVhost ?? '/';
  const { data, error, reload, offset, setOffset } = usePage(`/api/delayed/${enc(vhost)}`, `list the delayed messages of vhost '${vhost}'`);
  const [confirm, setConfirm] = useState<WaitingMessage | null>(null);
  const cancel = (m: WaitingMessage) =>
    act(
      () => api(`/api/delayed/${enc(vhost)}/${enc(String(m.id))}`, { method: 'DELETE', what: `cancel the delayed message for '${m.exchange}'` }),
      `Delayed message cancelled: it will not be routed.`,
    ).then(reload);
  const page = data?.page;
  const age = data ? Date.now() - data.at : 0;
  return (
    <section>
      <div class="title-row">
        <h1>Delayed messages</h1>
        <div class="actions">
          <label for="delayed-vhost">Virtual host</label>
          <VhostSelect id="delayed-vhost" value={vhost} onChange={(v) => (location.hash = link('delayed', v))} />
        </div>
      </div>
      <p class="muted">
        Messages published to <code>x-delayed-message</code> exchanges with an <code>x-delay</code> header wait here until they
        are due, then are routed. Cancelling one drops it for good. Messages waiting to be retried in a queue are on that
        queue’s page.
      </p>
      <ErrorBox error={error} />
      {page && (
        <>
          <p data-testid="delayed-count">
            {num(page.delayed_messages)} delayed {page.delayed_messages === 1 ? 'message' : 'messages'} in virtual host {vhostLabel(vhost)}
            {page.not_shown ? `; ${num(page.not_shown)} on this page not shown (no read permission on their exchange)` : ''}.
          </p>
          <Table
            caption={`Delayed messages in ${vhostLabel(vhost)}`}
            rows={page.items}
            rowKey={(m) => String(m.id)}
            empty={`No delayed message is waiting in ${vhostLabel(vhost)}.`}
            columns={[
              { key: 'due', label: 'Routed at', render: (m) => <Due m={m} age={age} /> },
              {
                key: 'ex',
                label: 'Exchange',
                render: (m) => (
                  <a class="clip" href={link('exchanges', vhost, m.exchange)}>
                    {m.exchange}
                  </a>
                ),
              },
              { key: 'rk', label: 'Routing key', render: (m) => <code class="clip">{m.routing_key}</code> },
              { key: 'size', label: 'Size', numeric: true, render: (m) => `${num(m.payload_bytes)} B` },
              { key: 'body', label: 'Body', render: (m) => <Payload m={m} /> },
              {
                key: 'x',
                label: 'Actions',
                render: (m) => (
                  <button type="button" class="small danger" onClick={() => setConfirm(m)} aria-label={`Cancel delivery of the delayed message ${m.id}`}>
                    Cancel delivery
                  </button>
                ),
              },
            ]}
          />
          <Paging offset={offset} shown={page.items.length} next={page.next_offset} setOffset={setOffset} noun="Messages" />
        </>
      )}
      <Confirm
        open={confirm !== null}
        title="Cancel delivery of this delayed message?"
        text={
          confirm
            ? `The message for exchange '${confirm.exchange}' (routing key '${confirm.routing_key}'), due ${time(confirm.due_unix_ms, true)}, is dropped and never routed. This cannot be undone.`
            : ''
        }
        action="Cancel delivery"
        dismiss="Keep it"
        onConfirm={() => {
          const m = confirm!;
          setConfirm(null);
          cancel(m);
        }}
        onCancel={() => setConfirm(null)}
      />
    </section>
  );
}
