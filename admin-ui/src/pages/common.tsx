// Pieces several pages share: the vhost list, argument tables, binding tables, publish forms.
import { useState } from 'preact/hooks';
import { api, enc, errorText } from '../api';
import { act, Table, usePoll, type Sort } from '../components';
import type { Args, Binding } from '../types';

// The vhosts the user may see; until they are loaded (or when that fails, with the reason in
// `error`), just the default vhost.
export function useVhosts(): { names: string[]; error: string | null } {
  const { data, error } = usePoll(() => api<{ name: string }[]>('/api/vhosts', { what: 'list vhosts' }), [], 0);
  return { names: data ? data.map((v) => v.name) : ['/'], error };
}

export function VhostSelect({ value, onChange, id }: { value: string; onChange: (v: string) => void; id: string }) {
  const { names, error } = useVhosts();
  return (
    <>
      <select id={id} value={value} onChange={(e) => onChange(e.currentTarget.value)}>
        {names.map((v) => (
          <option key={v} value={v}>
            {v}
          </option>
        ))}
      </select>
      {error && (
        <span class="error inline-error" role="alert">
          {error} Only the default vhost is offered.
        </span>
      )}
    </>
  );
}

// "vhost “/” (default)", "vhost “staging”": a vhost named in running text, where a bare "/"
// would read as a separator.
export function vhostText(v: string): string {
  return v === '/' ? 'vhost “/” (default)' : `vhost “${v}”`;
}

// The trail above a detail page: list page › vhost › this object (the last one is the page itself).
export function Crumbs({ items }: { items: { label: string; href?: string }[] }) {
  return (
    <nav class="crumbs" aria-label="Breadcrumb">
      <ol>
        {items.map((c, i) => (
          <li key={i} aria-current={i === items.length - 1 ? 'page' : undefined}>
            {c.href ? <a href={c.href}>{c.label}</a> : c.label}
          </li>
        ))}
      </ol>
    </nav>
  );
}

// RabbitMQ's listing filter: `name` (a substring, or a regular expression with `use_regex`),
// applied by the broker, so it works over every page.
export interface NameFilterValue {
  name: string;
  regex: boolean;
}
export const NO_NAME_FILTER: NameFilterValue = { name: '', regex: false };

export function NameFilter({ id, noun, onApply }: { id: string; noun: string; onApply: (f: NameFilterValue) => void }) {
  const [name, setName] = useState('');
  const [regex, setRegex] = useState(false);
  return (
    <form
      class="filters"
      role="search"
      aria-label={`Filter ${noun}`}
      onSubmit={(e) => {
        e.preventDefault();
        onApply({ name, regex });
      }}
    >
      <label for={id}>Filter by name</label>
      <input id={id} type="search" value={name} onInput={(e) => setName(e.currentTarget.value)} placeholder="part of a name" />
      <label>
        <input type="checkbox" checked={regex} onChange={(e) => setRegex(e.currentTarget.checked)} /> Regular expression
      </label>
      <button type="submit">Apply</button>
    </form>
  );
}

// The query of one page of a listing: paging, sorting and the name filter, as RabbitMQ takes them.
export function listingQuery(page: number, pageSize: number, sort: Sort, filter: NameFilterValue, columns?: string): URLSearchParams {
  const params = new URLSearchParams({ page: String(page), page_size: String(pageSize), sort: sort.key, sort_reverse: String(sort.reverse) });
  if (columns) params.set('columns', columns);
  if (filter.name) {
    params.set('name', filter.name);
    params.set('use_regex', String(filter.regex));
  }
  return params;
}

export function ArgsTable({ args }: { args: Args }) {
  const keys = Object.keys(args ?? {});
  if (keys.length === 0) return <p class="muted">No arguments.</p>;
  return (
    <table class="kv">
      <tbody>
        {keys.map((k) => (
          <tr key={k}>
            <th scope="row">{k}</th>
            <td>
              <code>{typeof args[k] === 'string' ? (args[k] as string) : JSON.stringify(args[k])}</code>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function BindingsTable({
  bindings,
  onDeleted,
  showSource = true,
  caption = 'Bindings',
  empty = 'No bindings.',
}: {
  bindings: Binding[];
  onDeleted: () => void;
  showSource?: boolean;
  caption?: string;
  empty?: string;
}) {
  const remove = (b: Binding) =>
    act(
      () =>
        api(
          `/api/bindings/${enc(b.vhost)}/e/${enc(b.source)}/${b.destination_type === 'queue' ? 'q' : 'e'}/${enc(b.destination)}/${enc(b.properties_key)}`,
          { method: 'DELETE', what: `remove the binding from '${b.source}' to '${b.destination}'` },
        ),
      `Binding from '${b.source || '(default)'}' to '${b.destination}' removed.`,
    ).then((ok) => ok && onDeleted());
  return (
    <Table
      caption={caption}
      rows={bindings}
      rowKey={(b) => `${b.source}|${b.destination_type}|${b.destination}|${b.properties_key}`}
      empty={empty}
      columns={[
        ...(showSource ? [{ key: 'source', label: 'From exchange', render: (b: Binding) => b.source || '(default exchange)' }] : []),
        { key: 'dest', label: 'To', render: (b: Binding) => `${b.destination_type} ${b.destination}` },
        { key: 'rk', label: 'Routing key', render: (b: Binding) => <code>{b.routing_key}</code> },
        { key: 'args', label: 'Arguments', render: (b: Binding) => (Object.keys(b.arguments ?? {}).length ? JSON.stringify(b.arguments) : '') },
        {
          key: 'x',
          label: 'Actions',
          render: (b: Binding) =>
            b.source === '' ? (
              <span class="muted">implicit</span>
            ) : (
              <button type="button" class="small" onClick={() => remove(b)} aria-label={`Unbind ${b.destination} from ${b.source}`}>
                Unbind
              </button>
            ),
        },
      ]}
    />
  );
}

// Parses "a=1, b=x" style headers or a JSON object.
export function parseJsonObject(text: string, what: string): Record<string, unknown> {
  if (!text.trim()) return {};
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new Error(`${what} is not valid JSON (${(e as Error).message}).`);
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error(`${what} must be a JSON object, like {"key": "value"}.`);
  return v as Record<string, unknown>;
}

// Publishes through POST /api/exchanges/{vhost}/{exchange}/publish.
export function PublishForm({ vhost, exchange, routingKey = '' }: { vhost: string; exchange: string; routingKey?: string }) {
  const [rk, setRk] = useState(routingKey);
  const [payload, setPayload] = useState('');
  const [headers, setHeaders] = useState('');
  const [contentType, setContentType] = useState('');
  const [persistent, setPersistent] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [result, setResult] = useState<string | null>(null);
  const id = `pub-${exchange}-${routingKey}`.replace(/[^a-zA-Z0-9-]/g, '_');
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    setResult(null);
    try {
      const properties: Record<string, unknown> = { delivery_mode: persistent ? 2 : 1 };
      const h = parseJsonObject(headers, 'Headers');
      if (Object.keys(h).length) properties.headers = h;
      if (contentType) properties.content_type = contentType;
      const r = await api<{ routed: boolean }>(`/api/exchanges/${enc(vhost)}/${enc(exchange || 'amq.default')}/publish`, {
        method: 'POST',
        what: 'publish the message',
        body: { properties, routing_key: rk, payload, payload_encoding: 'string' },
      });
      setResult(r.routed ? 'Message published and routed to at least one queue.' : 'Message published, but no queue received it (not routed).');
    } catch (err) {
      setError(errorText(err));
    }
  };
  return (
    <form class="form" onSubmit={submit} aria-label="Publish a message">
      <div class="row">
        <label for={`${id}-rk`}>Routing key</label>
        <input id={`${id}-rk`} value={rk} onInput={(e) => setRk(e.currentTarget.value)} />
      </div>
      <div class="row">
        <label for={`${id}-ct`}>Content type</label>
        <input id={`${id}-ct`} value={contentType} placeholder="e.g. application/json" onInput={(e) => setContentType(e.currentTarget.value)} />
      </div>
      <div class="row">
        <label for={`${id}-h`}>Headers (JSON)</label>
        <input id={`${id}-h`} value={headers} placeholder='{"x-source": "console"}' onInput={(e) => setHeaders(e.currentTarget.value)} />
      </div>
      <div class="row">
        <label for={`${id}-p`}>Payload</label>
        <textarea id={`${id}-p`} rows={3} value={payload} onInput={(e) => setPayload(e.currentTarget.value)} />
      </div>
      <div class="row">
        <label>
          <input type="checkbox" checked={persistent} onChange={(e) => setPersistent(e.currentTarget.checked)} /> Persistent
        </label>
      </div>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {result && (
        <p class="ok" role="status">
          {result}
        </p>
      )}
      <button type="submit" class="primary">
        Publish message
      </button>
    </form>
  );
}
