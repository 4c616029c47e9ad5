import { useState } from 'preact/hooks';
import { api, enc, errorText } from '../api';
import { ErrorBox, Pager, Table, usePoll, type Sort } from '../components';
import { num, rate } from '../format';
import { go, link } from '../router';
import type { Paged, Queue } from '../types';
import { listingQuery, NameFilter, NO_NAME_FILTER, parseJsonObject, VhostSelect, type NameFilterValue } from './common';

const PAGE_SIZE = 50;
const COLUMNS = 'name,vhost,durable,auto_delete,exclusive,arguments,state,messages,messages_ready,messages_unacknowledged,consumers,message_stats,dead_letter_target';

export function QueuesPage() {
  const [page, setPage] = useState(1);
  const [applied, setApplied] = useState<NameFilterValue>(NO_NAME_FILTER);
  const [sort, setSort] = useState<Sort>({ key: 'name', reverse: false });
  const [creating, setCreating] = useState(false);
  const { data, error, reload } = usePoll(
    () => api<Paged<Queue>>(`/api/queues?${listingQuery(page, PAGE_SIZE, sort, applied, COLUMNS)}`, { what: 'list queues' }),
    [page, applied.name, applied.regex, sort.key, sort.reverse],
    5000,
  );
  const rows = data?.items ?? [];
  return (
    <section>
      <div class="title-row">
        <h1>Queues</h1>
        <button type="button" class="primary" onClick={() => setCreating(!creating)} aria-expanded={creating}>
          {creating ? 'Close the form' : 'Add a queue'}
        </button>
      </div>
      {creating && (
        <CreateQueue
          onCreated={(vhost, name) => {
            setCreating(false);
            reload();
            go('queues', vhost, name);
          }}
        />
      )}
      <NameFilter
        id="queue-filter"
        noun="queues"
        onApply={(f) => {
          setPage(1);
          setApplied(f);
        }}
      />
      <ErrorBox error={error} />
      <Table<Queue>
        caption="Queues"
        rows={rows}
        rowKey={(q) => `${q.vhost}/${q.name}`}
        sort={sort}
        onSort={(s) => {
          setSort(s);
          setPage(1);
        }}
        empty={data ? (applied.name ? 'No queue matches this filter.' : 'No queues yet.') : 'Loading…'}
        columns={[
          {
            key: 'name',
            label: 'Name',
            sortable: true,
            render: (q) => (
              <>
                <a href={link('queues', q.vhost, q.name)}>{q.name}</a>
                {q.dead_letter_target && (
                  <a class="badge dlq" href={link('dlq', q.vhost, q.name)} title="A dead-letter queue: open it in the DLQ inspector">
                    DLQ
                  </a>
                )}
              </>
            ),
          },
          { key: 'vhost', label: 'Vhost', sortable: true, render: (q) => q.vhost },
          {
            key: 'features',
            label: 'Features',
            render: (q) => (
              <span class="features">
                {q.durable && <abbr title="durable">D</abbr>}
                {q.auto_delete && <abbr title="auto-delete">AD</abbr>}
                {q.exclusive && <abbr title="exclusive">E</abbr>}
                {q.arguments?.['x-dead-letter-exchange'] !== undefined && <abbr title={`dead-letters to '${q.arguments['x-dead-letter-exchange']}'`}>DLX</abbr>}
                {q.arguments?.['x-message-ttl'] !== undefined && <abbr title={`message TTL ${q.arguments['x-message-ttl']} ms`}>TTL</abbr>}
                {q.arguments?.['x-max-length'] !== undefined && <abbr title={`max length ${q.arguments['x-max-length']}`}>Lim</abbr>}
              </span>
            ),
          },
          { key: 'messages', label: 'Total', sortable: true, numeric: true, render: (q) => num(q.messages) },
          { key: 'messages_ready', label: 'Ready', sortable: true, numeric: true, render: (q) => num(q.messages_ready) },
          { key: 'messages_unacknowledged', label: 'Unacked', sortable: true, numeric: true, render: (q) => num(q.messages_unacknowledged) },
          { key: 'consumers', label: 'Consumers', sortable: true, numeric: true, render: (q) => num(q.consumers) },
          {
            key: 'message_stats.publish_details.rate',
            label: 'Incoming',
            sortable: true,
            numeric: true,
            render: (q) => rate(q.message_stats?.publish_details?.rate),
          },
          {
            key: 'message_stats.deliver_get_details.rate',
            label: 'Deliver / get',
            sortable: true,
            numeric: true,
            render: (q) => rate(q.message_stats?.deliver_get_details?.rate),
          },
          { key: 'message_stats.ack_details.rate', label: 'Ack', sortable: true, numeric: true, render: (q) => rate(q.message_stats?.ack_details?.rate) },
          {
            key: 'message_stats.dead_lettered_details.rate',
            label: 'Dead-letter',
            sortable: true,
            numeric: true,
            render: (q) => rate(q.message_stats?.dead_lettered_details?.rate),
          },
        ]}
      />
      {data && <Pager page={data.page} pageCount={data.page_count} filtered={data.filtered_count} total={data.total_count} onPage={setPage} noun="queues" />}
    </section>
  );
}

function CreateQueue({ onCreated }: { onCreated: (vhost: string, name: string) => void }) {
  const [vhost, setVhost] = useState('/');
  const [name, setName] = useState('');
  const [durable, setDurable] = useState(true);
  const [autoDelete, setAutoDelete] = useState(false);
  const [dlx, setDlx] = useState('');
  const [dlrk, setDlrk] = useState('');
  const [ttl, setTtl] = useState('');
  const [maxLength, setMaxLength] = useState('');
  const [extra, setExtra] = useState('');
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    try {
      if (!name.trim()) throw new Error('Give the queue a name.');
      const args: Record<string, unknown> = parseJsonObject(extra, 'Other arguments');
      if (dlx !== '') args['x-dead-letter-exchange'] = dlx;
      if (dlrk !== '') args['x-dead-letter-routing-key'] = dlrk;
      const int = (v: string, label: string) => {
        if (!/^\d+$/.test(v)) throw new Error(`${label} must be a whole number.`);
        return Number(v);
      };
      if (ttl !== '') args['x-message-ttl'] = int(ttl, 'Message TTL');
      if (maxLength !== '') args['x-max-length'] = int(maxLength, 'Max length');
      await api(`/api/queues/${enc(vhost)}/${enc(name)}`, {
        method: 'PUT',
        what: `create queue '${name}'`,
        body: { durable, auto_delete: autoDelete, arguments: args },
      });
      onCreated(vhost, name);
    } catch (err) {
      setError(errorText(err));
    }
  };
  return (
    <form class="form panel" onSubmit={submit} aria-label="Add a queue">
      <h2>Add a queue</h2>
      <div class="row">
        <label for="q-vhost">Vhost</label>
        <VhostSelect id="q-vhost" value={vhost} onChange={setVhost} />
      </div>
      <div class="row">
        <label for="q-name">Name</label>
        <input id="q-name" value={name} onInput={(e) => setName(e.currentTarget.value)} required />
      </div>
      <div class="row">
        <span class="label">Options</span>
        <label>
          <input type="checkbox" checked={durable} onChange={(e) => setDurable(e.currentTarget.checked)} /> Durable
        </label>
        <label>
          <input type="checkbox" checked={autoDelete} onChange={(e) => setAutoDelete(e.currentTarget.checked)} /> Auto-delete
        </label>
      </div>
      <div class="row">
        <label for="q-dlx">Dead-letter exchange</label>
        <input id="q-dlx" value={dlx} onInput={(e) => setDlx(e.currentTarget.value)} placeholder="x-dead-letter-exchange (empty: none)" />
      </div>
      <div class="row">
        <label for="q-dlrk">Dead-letter routing key</label>
        <input id="q-dlrk" value={dlrk} onInput={(e) => setDlrk(e.currentTarget.value)} placeholder="x-dead-letter-routing-key (optional)" />
      </div>
      <div class="row">
        <label for="q-ttl">Message TTL (ms)</label>
        <input id="q-ttl" inputMode="numeric" value={ttl} onInput={(e) => setTtl(e.currentTarget.value)} />
      </div>
      <div class="row">
        <label for="q-max">Max length</label>
        <input id="q-max" inputMode="numeric" value={maxLength} onInput={(e) => setMaxLength(e.currentTarget.value)} />
      </div>
      <div class="row">
        <label for="q-extra">Other arguments (JSON)</label>
        <input id="q-extra" value={extra} onInput={(e) => setExtra(e.currentTarget.value)} placeholder='{"x-max-priority": 10}' />
      </div>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <button type="submit" class="primary">
        Add queue
      </button>
    </form>
  );
}
