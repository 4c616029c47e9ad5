import { useState } from 'preact/hooks';
import { api, enc, errorText, qpath } from '../api';
import { act, Confirm, ErrorBox, Pager, Table, usePoll, type Sort } from '../components';
import { go, link } from '../router';
import type { Binding, Exchange, Paged } from '../types';
import {
  ArgsTable,
  BindingsTable,
  Crumbs,
  listingQuery,
  NameFilter,
  NO_NAME_FILTER,
  parseJsonObject,
  PublishForm,
  VhostSelect,
  vhostText,
  type NameFilterValue,
} from './common';

const display = (name: string) => name || '(AMQP default)';
const urlName = (name: string) => name || 'amq.default';

const PAGE_SIZE = 100;

export function ExchangesPage() {
  const [page, setPage] = useState(1);
  const [applied, setApplied] = useState<NameFilterValue>(NO_NAME_FILTER);
  const [sort, setSort] = useState<Sort>({ key: 'name', reverse: false });
  const [creating, setCreating] = useState(false);
  const { data, error, reload } = usePoll(
    () => api<Paged<Exchange>>(`/api/exchanges?${listingQuery(page, PAGE_SIZE, sort, applied)}`, { what: 'list exchanges' }),
    [page, applied.name, applied.regex, sort.key, sort.reverse],
    10000,
  );
  return (
    <section>
      <div class="title-row">
        <h1>Exchanges</h1>
        <button type="button" class="primary" onClick={() => setCreating(!creating)} aria-expanded={creating}>
          {creating ? 'Close the form' : 'Add an exchange'}
        </button>
      </div>
      {creating && (
        <CreateExchange
          onCreated={() => {
            setCreating(false);
            reload();
          }}
        />
      )}
      <NameFilter
        id="exchange-filter"
        noun="exchanges"
        onApply={(f) => {
          setPage(1);
          setApplied(f);
        }}
      />
      <ErrorBox error={error} />
      <Table<Exchange>
        caption="Exchanges"
        rows={data?.items ?? []}
        rowKey={(x) => `${x.vhost}/${x.name}`}
        sort={sort}
        onSort={(s) => {
          setSort(s);
          setPage(1);
        }}
        empty={data ? (applied.name ? 'No exchange matches this filter.' : 'No exchanges.') : 'Loading…'}
        columns={[
          { key: 'name', label: 'Name', sortable: true, render: (x) => <a href={link('exchanges', x.vhost, urlName(x.name))}>{display(x.name)}</a> },
          { key: 'vhost', label: 'Vhost', sortable: true, render: (x) => x.vhost },
          { key: 'type', label: 'Type', sortable: true, render: (x) => x.type },
          {
            key: 'features',
            label: 'Features',
            render: (x) => (
              <span class="features">
                {x.durable && <abbr title="durable">D</abbr>}
                {x.auto_delete && <abbr title="auto-delete">AD</abbr>}
                {x.internal && <abbr title="internal">I</abbr>}
                {x.arguments?.['alternate-exchange'] !== undefined && <abbr title={`alternate exchange '${x.arguments['alternate-exchange']}'`}>AE</abbr>}
              </span>
            ),
          },
        ]}
      />
      {data && <Pager page={data.page} pageCount={data.page_count} filtered={data.filtered_count} total={data.total_count} onPage={setPage} noun="exchanges" />}
    </section>
  );
}

function CreateExchange({ onCreated }: { onCreated: () => void }) {
  const [vhost, setVhost] = useState('/');
  const [name, setName] = useState('');
  const [type, setType] = useState('direct');
  const [durable, setDurable] = useState(true);
  const [autoDelete, setAutoDelete] = useState(false);
  const [internal, setInternal] = useState(false);
  const [args, setArgs] = useState('');
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    try {
      if (!name.trim()) throw new Error('Give the exchange a name.');
      await api(`/api/exchanges/${qpath(vhost, name)}`, {
        method: 'PUT',
        what: `create exchange '${name}'`,
        body: { type, durable, auto_delete: autoDelete, internal, arguments: parseJsonObject(args, 'Arguments') },
      });
      onCreated();
    } catch (err) {
      setError(errorText(err));
    }
  };
  return (
    <form class="form panel" onSubmit={submit} aria-label="Add an exchange">
      <h2>Add an exchange</h2>
      <div class="row">
        <label for="x-vhost">Vhost</label>
        <VhostSelect id="x-vhost" value={vhost} onChange={setVhost} />
      </div>
      <div class="row">
        <label for="x-name">Name</label>
        <input id="x-name" value={name} onInput={(e) => setName(e.currentTarget.value)} required />
      </div>
      <div class="row">
        <label for="x-type">Type</label>
        <select id="x-type" value={type} onChange={(e) => setType(e.currentTarget.value)}>
          {['direct', 'fanout', 'topic', 'headers'].map((t) => (
            <option key={t}>{t}</option>
          ))}
        </select>
      </div>
      <div class="row">
        <span class="label">Options</span>
        <label>
          <input type="checkbox" checked={durable} onChange={(e) => setDurable(e.currentTarget.checked)} /> Durable
        </label>
        <label>
          <input type="checkbox" checked={autoDelete} onChange={(e) => setAutoDelete(e.currentTarget.checked)} /> Auto-delete
        </label>
        <label>
          <input type="checkbox" checked={internal} onChange={(e) => setInternal(e.currentTarget.checked)} /> Internal
        </label>
      </div>
      <div class="row">
        <label for="x-args">Arguments (JSON)</label>
        <input id="x-args" value={args} onInput={(e) => setArgs(e.currentTarget.value)} placeholder='{"alternate-exchange": "unrouted"}' />
      </div>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <button type="submit" class="primary">
        Add exchange
      </button>
    </form>
  );
}

export function ExchangePage({ vhost, name }: { vhost: string; name: string }) {
  const { data: x, error } = usePoll(() => api<Exchange>(`/api/exchanges/${qpath(vhost, name)}`, { what: `load exchange '${name}'` }), [vhost, name], 10000);
  const out = usePoll(
    () => api<Binding[]>(`/api/exchanges/${qpath(vhost, name)}/bindings/source`, { what: `list the bindings of '${name}'` }),
    [vhost, name],
    10000,
  );
  const into = usePoll(
    () => api<Binding[]>(`/api/exchanges/${qpath(vhost, name)}/bindings/destination`, { what: `list the bindings to '${name}'` }),
    [vhost, name],
    10000,
  );
  const [confirm, setConfirm] = useState(false);
  const [dest, setDest] = useState('');
  const [destType, setDestType] = useState<'q' | 'e'>('q');
  const [rk, setRk] = useState('');
  const [bindError, setBindError] = useState<string | null>(null);
  const isDefault = name === 'amq.default';
  const bind = async (e: Event) => {
    e.preventDefault();
    setBindError(null);
    try {
      if (!dest) throw new Error('Name the queue or exchange to bind to.');
      await api(`/api/bindings/${enc(vhost)}/e/${enc(name)}/${destType}/${enc(dest)}`, {
        method: 'POST',
        what: `bind '${dest}' to '${name}'`,
        body: { routing_key: rk, arguments: {} },
      });
      setDest('');
      setRk('');
      out.reload();
    } catch (err) {
      setBindError(errorText(err));
    }
  };
  return (
    <section>
      <Crumbs items={[{ label: 'Exchanges', href: link('exchanges') }, { label: vhostText(vhost) }, { label: isDefault ? '(AMQP default)' : name }]} />
      <div class="title-row">
        <h1>
          Exchange <span class="name">{isDefault ? '(AMQP default)' : name}</span>
        </h1>
        {!isDefault && !name.startsWith('amq.') && (
          <button type="button" class="danger" onClick={() => setConfirm(true)}>
            Delete
          </button>
        )}
      </div>
      <ErrorBox error={error} />
      {x && (
        <div class="grid2">
          <div class="panel">
            <h2>Details</h2>
            <table class="kv">
              <tbody>
                <tr>
                  <th scope="row">Type</th>
                  <td>{x.type}</td>
                </tr>
                <tr>
                  <th scope="row">Durable</th>
                  <td>{x.durable ? 'yes' : 'no'}</td>
                </tr>
                <tr>
                  <th scope="row">Auto-delete</th>
                  <td>{x.auto_delete ? 'yes' : 'no'}</td>
                </tr>
                <tr>
                  <th scope="row">Internal</th>
                  <td>{x.internal ? 'yes' : 'no'}</td>
                </tr>
              </tbody>
            </table>
            <h3>Arguments</h3>
            <ArgsTable args={x.arguments} />
          </div>
          <div class="panel">
            <h2>Publish a test message</h2>
            <PublishForm vhost={vhost} exchange={isDefault ? '' : name} />
          </div>
        </div>
      )}
      <div class="panel">
        <h2>Bindings from this exchange</h2>
        <ErrorBox error={out.error} />
        {isDefault ? (
          <p class="muted">The default exchange routes to every queue by its name; it takes no other bindings.</p>
        ) : (
          <>
            <BindingsTable bindings={out.data ?? []} onDeleted={out.reload} showSource={false} caption="Bindings from this exchange" />
            <form class="form inline" onSubmit={bind} aria-label="Add a binding">
              <label for="xb-type">To</label>
              <select id="xb-type" value={destType} onChange={(e) => setDestType(e.currentTarget.value as 'q' | 'e')}>
                <option value="q">queue</option>
                <option value="e">exchange</option>
              </select>
              <label for="xb-dest">Name</label>
              <input id="xb-dest" value={dest} onInput={(e) => setDest(e.currentTarget.value)} />
              <label for="xb-rk">Routing key</label>
              <input id="xb-rk" value={rk} onInput={(e) => setRk(e.currentTarget.value)} />
              <button type="submit">Bind</button>
              {bindError && (
                <p class="error" role="alert">
                  {bindError}
                </p>
              )}
            </form>
          </>
        )}
      </div>
      {!isDefault && (
        <div class="panel">
          <h2>Bindings to this exchange</h2>
          <ErrorBox error={into.error} />
          <BindingsTable bindings={into.data ?? []} onDeleted={into.reload} caption="Bindings to this exchange" empty="No exchange routes into this one." />
        </div>
      )}
      <Confirm
        open={confirm}
        title={`Delete exchange '${name}'?`}
        text="Its bindings go with it; messages published to it afterwards are refused."
        action="Delete exchange"
        onConfirm={() => {
          setConfirm(false);
          act(() => api(`/api/exchanges/${qpath(vhost, name)}`, { method: 'DELETE', what: `delete exchange '${name}'` }), `Exchange '${name}' deleted.`).then(
            (ok) => ok && go('exchanges'),
          );
        }}
        onCancel={() => setConfirm(false)}
      />
    </section>
  );
}
