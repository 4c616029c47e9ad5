import { useMemo, useState } from 'preact/hooks';
import { api, enc, errorText, qpath } from '../api';
import { act, Chart, Confirm, ErrorBox, RateHistory, Table, usePoll } from '../components';
import { bytes, num, rate } from '../format';
import { go, link } from '../router';
import type { Binding, Queue } from '../types';
import { ArgsTable, BindingsTable, Crumbs, parseJsonObject, PublishForm, vhostText } from './common';
import { RetryingPanel } from './Waiting';

const RATES = [
  { label: 'Incoming', color: '#1d4ed8' },
  { label: 'Deliver / get', color: '#047857' },
  { label: 'Ack', color: '#7c3aed' },
  { label: 'Redeliver', color: '#b45309' },
  { label: 'Dead-letter', color: '#b91c1c' },
];
const DEPTH = [
  { label: 'Ready', color: '#1d4ed8' },
  { label: 'Unacked', color: '#b45309' },
  { label: 'Waiting', color: '#7c3aed' },
];

export function QueuePage({ vhost, name }: { vhost: string; name: string }) {
  const histories = useMemo(() => ({ rates: new RateHistory(RATES.length), depth: new RateHistory(DEPTH.length) }), [vhost, name]);
  const { data: q, error, reload } = usePoll(
    async () => {
      const queue = await api<Queue>(`/api/queues/${qpath(vhost, name)}`, { what: `load queue '${name}'` });
      const now = Date.now();
      const s = queue.message_stats ?? {};
      histories.rates.addCounters(now, [s.publish ?? 0, s.deliver_get ?? 0, s.ack ?? 0, s.redeliver ?? 0, s.dead_lettered ?? null]);
      histories.depth.addGauges(now, [queue.messages_ready, queue.messages_unacknowledged, queue.messages_waiting ?? 0]);
      return queue;
    },
    [vhost, name],
    2000,
  );
  const bindings = usePoll(
    () => api<Binding[]>(`/api/queues/${qpath(vhost, name)}/bindings`, { what: `list the bindings of '${name}'` }),
    [vhost, name],
    10000,
  );
  const [confirm, setConfirm] = useState<'purge' | 'delete' | null>(null);
  const purge = () =>
    act(() => api(`/api/queues/${qpath(vhost, name)}/contents`, { method: 'DELETE', what: `purge '${name}'` }), `Queue '${name}' purged.`).then(reload);
  const remove = () =>
    act(() => api(`/api/queues/${qpath(vhost, name)}`, { method: 'DELETE', what: `delete queue '${name}'` }), `Queue '${name}' deleted.`).then(
      (ok) => ok && go('queues'),
    );
  return (
    <section>
      <Crumbs items={[{ label: 'Queues', href: link('queues') }, { label: vhostText(vhost) }, { label: name }]} />
      <div class="title-row">
        <h1>
          Queue <span class="name">{name}</span>
          {q?.dead_letter_target && <span class="badge dlq">DLQ</span>}
        </h1>
        <div class="actions">
          <a class="button" href={link('dlq', vhost, name)}>
            Browse messages
          </a>
          <button type="button" onClick={() => setConfirm('purge')}>
            Purge
          </button>
          <button type="button" class="danger" onClick={() => setConfirm('delete')}>
            Delete
          </button>
        </div>
      </div>
      <ErrorBox error={error} />
      {q && (
        <>
          {q.dead_letter_target && (
            <p class="notice">
              This is a dead-letter queue for {q.dead_letter_sources?.map((s) => `'${s}'`).join(', ')}.{' '}
              <a href={link('dlq', vhost, name)}>Open it in the DLQ inspector</a> to see why messages died and send them back.
            </p>
          )}
          <div class="cards">
            <div class="card">
              <span class="card-value" data-testid="queue-ready">{num(q.messages_ready)}</span>
              <span class="card-label">Ready</span>
            </div>
            <div class="card">
              <span class="card-value">{num(q.messages_unacknowledged)}</span>
              <span class="card-label">Unacked</span>
            </div>
            <div class="card">
              <span class="card-value" data-testid="queue-waiting">{num(q.messages_waiting ?? 0)}</span>
              <span class="card-label">Waiting to retry</span>
            </div>
            <div class="card">
              <span class="card-value">{num(q.messages)}</span>
              <span class="card-label">Total</span>
            </div>
            <div class="card">
              <span class="card-value">{num(q.consumers)}</span>
              <span class="card-label">Consumers</span>
            </div>
            <div class="card">
              <span class="card-value">{bytes(q.message_bytes ?? 0)}</span>
              <span class="card-label">Ready bytes</span>
            </div>
            {q.message_stats?.dead_lettered !== undefined && (
              <div class="card" title="Messages that died here (rejected, expired, over the length limit or the delivery limit) and went to the dead-letter exchange, since the broker started">
                <span class="card-value" data-testid="queue-dead-lettered">{num(q.message_stats.dead_lettered)}</span>
                <span class="card-label">Dead-lettered</span>
              </div>
            )}
          </div>
          <div class="grid2">
            <Chart title="Queued messages" series={DEPTH} times={histories.depth.times} values={histories.depth.values} unit={(v) => num(Math.round(v))} integer />
            <Chart title="Message rates" series={RATES} times={histories.rates.times} values={histories.rates.values} unit={rate} />
          </div>
          <div class="grid2">
            <div class="panel">
              <h2>Details</h2>
              <table class="kv">
                <tbody>
                  <tr>
                    <th scope="row">Durable</th>
                    <td>{q.durable ? 'yes' : 'no'}</td>
                  </tr>
                  <tr>
                    <th scope="row">Auto-delete</th>
                    <td>{q.auto_delete ? 'yes' : 'no'}</td>
                  </tr>
                  <tr>
                    <th scope="row">Exclusive</th>
                    <td>{q.exclusive ? 'yes' : 'no'}</td>
                  </tr>
                  <tr>
                    <th scope="row">State</th>
                    <td>{q.state ?? 'running'}</td>
                  </tr>
                </tbody>
              </table>
              <h3>Arguments</h3>
              <ArgsTable args={q.arguments} />
            </div>
            <div class="panel">
              <h2>Consumers</h2>
              <Table
                caption="Consumers"
                rows={q.consumer_details ?? []}
                rowKey={(c) => `${c.channel_details?.name}|${c.consumer_tag}`}
                empty="No consumers."
                columns={[
                  { key: 'tag', label: 'Tag', render: (c) => <code>{c.consumer_tag}</code> },
                  { key: 'ch', label: 'Channel', render: (c) => c.channel_details?.name ?? '' },
                  { key: 'ack', label: 'Ack', render: (c) => (c.ack_required ? 'manual' : 'auto') },
                  { key: 'pf', label: 'Prefetch', numeric: true, render: (c) => num(c.prefetch_count) },
                  { key: 'ex', label: 'Exclusive', render: (c) => (c.exclusive ? 'yes' : 'no') },
                ]}
              />
            </div>
          </div>
          <RetryingPanel vhost={vhost} queue={name} onChange={reload} />
          <div class="panel">
            <h2>Bindings</h2>
            <ErrorBox error={bindings.error} />
            <BindingsTable bindings={bindings.data ?? []} onDeleted={bindings.reload} />
            <AddBinding vhost={vhost} queue={name} onAdded={bindings.reload} />
          </div>
          <div class="grid2">
            <div class="panel">
              <h2>Publish a message</h2>
              <p class="muted">Through the default exchange, with this queue's name as the routing key.</p>
              <PublishForm vhost={vhost} exchange="" routingKey={name} />
            </div>
            <div class="panel">
              <h2>Get messages</h2>
              <GetMessages vhost={vhost} queue={name} onDone={reload} />
            </div>
          </div>
        </>
      )}
      <Confirm
        open={confirm === 'purge'}
        title={`Purge '${name}'?`}
        text={`Every ready message in '${name}' is removed for good.`}
        action="Purge"
        onConfirm={() => {
          setConfirm(null);
          purge();
        }}
        onCancel={() => setConfirm(null)}
      />
      <Confirm
        open={confirm === 'delete'}
        title={`Delete '${name}'?`}
        text={`The queue '${name}' and its messages are deleted, and its consumers cancelled.`}
        action="Delete queue"
        onConfirm={() => {
          setConfirm(null);
          remove();
        }}
        onCancel={() => setConfirm(null)}
      />
    </section>
  );
}

function AddBinding({ vhost, queue, onAdded }: { vhost: string; queue: string; onAdded: () => void }) {
  const [exchange, setExchange] = useState('');
  const [rk, setRk] = useState('');
  const [args, setArgs] = useState('');
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    try {
      if (!exchange) throw new Error('Name the exchange to bind from.');
      await api(`/api/bindings/${enc(vhost)}/e/${enc(exchange)}/q/${enc(queue)}`, {
        method: 'POST',
        what: `bind '${queue}' to '${exchange}'`,
        body: { routing_key: rk, arguments: parseJsonObject(args, 'Arguments') },
      });
      setExchange('');
      setRk('');
      onAdded();
    } catch (err) {
      setError(errorText(err));
    }
  };
  return (
    <form class="form inline" onSubmit={submit} aria-label="Add a binding">
      <label for="b-ex">From exchange</label>
      <input id="b-ex" value={exchange} onInput={(e) => setExchange(e.currentTarget.value)} />
      <label for="b-rk">Routing key</label>
      <input id="b-rk" value={rk} onInput={(e) => setRk(e.currentTarget.value)} />
      <label for="b-args">Arguments (JSON)</label>
      <input id="b-args" value={args} onInput={(e) => setArgs(e.currentTarget.value)} />
      <button type="submit">Bind</button>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}

interface GotMessage {
  payload: string;
  payload_encoding: string;
  payload_bytes: number;
  redelivered: boolean;
  exchange: string;
  routing_key: string;
  message_count: number;
  properties: Record<string, unknown>;
}

function GetMessages({ vhost, queue, onDone }: { vhost: string; queue: string; onDone: () => void }) {
  const [count, setCount] = useState('1');
  const [ackmode, setAckmode] = useState('ack_requeue_true');
  const [got, setGot] = useState<GotMessage[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    try {
      if (!/^\d+$/.test(count)) throw new Error('Count must be a whole number.');
      const r = await api<GotMessage[]>(`/api/queues/${qpath(vhost, queue)}/get`, {
        method: 'POST',
        what: `get messages from '${queue}'`,
        body: { count: Number(count), ackmode, encoding: 'auto', truncate: 50000 },
      });
      setGot(r);
      onDone();
    } catch (err) {
      setError(errorText(err));
    }
  };
  return (
    <>
      <form class="form" onSubmit={submit} aria-label="Get messages">
        <div class="row">
          <label for="g-mode">Ack mode</label>
          <select id="g-mode" value={ackmode} onChange={(e) => setAckmode(e.currentTarget.value)}>
            <option value="ack_requeue_true">Requeue (nack, put back)</option>
            <option value="reject_requeue_true">Reject and requeue (counts as a failed delivery)</option>
            <option value="ack_requeue_false">Ack (remove)</option>
            <option value="reject_requeue_false">Reject without requeue (dead-letters)</option>
          </select>
        </div>
        <div class="row">
          <label for="g-count">Messages</label>
          <input id="g-count" inputMode="numeric" value={count} onInput={(e) => setCount(e.currentTarget.value)} />
        </div>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit">Get messages</button>
      </form>
      {got && got.length === 0 && <p class="muted">The queue had no ready message.</p>}
      {got?.map((m, i) => (
        <div class="message" key={i}>
          <p>
            Message {i + 1}: {m.payload_bytes} bytes, routing key <code>{m.routing_key}</code>
            {m.redelivered ? ', redelivered' : ''}; {m.message_count} left in the queue.
          </p>
          <pre class="body" tabIndex={0} role="region" aria-label={`Body of message ${i + 1}`}>{m.payload_encoding === 'base64' ? `(base64) ${m.payload}` : m.payload}</pre>
        </div>
      ))}
    </>
  );
}
