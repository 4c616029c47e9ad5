// The DLQ inspector: browse a queue's ready messages without consuming them (GET .../messages),
// filter by x-death reason, origin queue, routing key, time and body text, look at one message
// (properties, headers, x-death as a table, body as JSON, text or hex), and act on a selection or
// on everything that matches the filter: redrive to the origin queue (a background task with
// progress and cancel), move to a chosen queue, delete, export as JSON.
import { Fragment } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { api, errorText, qpath } from '../api';
import { act, Confirm, Dialog, ErrorBox, notify, usePoll } from '../components';
import { bytes, hexDump, num, payloadBytes, time } from '../format';
import { Crumbs, vhostText } from './common';
import { link } from '../router';
import type { BrowsedMessage, BrowsePage, Death, Paged, Queue, RedriveTask } from '../types';

const PAGE = 25;
const REASONS = ['rejected', 'expired', 'maxlen', 'delivery_limit'];

interface Filter {
  reason: string;
  original_queue: string;
  routing_key: string;
  since: string; // datetime-local
  until: string;
  contains: string;
}
const NO_FILTER: Filter = { reason: '', original_queue: '', routing_key: '', since: '', until: '', contains: '' };

const toSeconds = (local: string) => (local ? String(Math.floor(new Date(local).getTime() / 1000)) : '');

function filterQuery(f: Filter): Record<string, string> {
  const q: Record<string, string> = {};
  if (f.reason) q.reason = f.reason;
  if (f.original_queue) q.original_queue = f.original_queue;
  if (f.routing_key) q.routing_key = f.routing_key;
  if (f.since) q.since = toSeconds(f.since);
  if (f.until) q.until = toSeconds(f.until);
  if (f.contains) q.contains = f.contains;
  return q;
}

function filterBody(f: Filter): Record<string, string | number> {
  const q = filterQuery(f);
  const out: Record<string, string | number> = { ...q };
  if (q.since) out.since = Number(q.since);
  if (q.until) out.until = Number(q.until);
  return out;
}

export function DlqPage({ vhost, name }: { vhost?: string; name?: string }) {
  if (vhost === undefined || name === undefined) return <DlqIndex />;
  return <Inspector key={`${vhost}/${name}`} vhost={vhost} name={name} />;
}

function DlqIndex() {
  const { data, error } = usePoll(
    () =>
      api<Paged<Queue>>('/api/queues?page=1&page_size=500&sort=messages&sort_reverse=true&columns=name,vhost,messages,dead_letter_target', {
        what: 'list queues',
      }),
    [],
    5000,
  );
  const dlqs = (data?.items ?? []).filter((q) => q.dead_letter_target);
  return (
    <section>
      <h1>DLQ inspector</h1>
      <p class="muted">
        Dead-letter queues are the queues that other queues' <code>x-dead-letter-exchange</code> routes to. Any queue can be browsed
        from its page (“Browse messages”).
      </p>
      <ErrorBox error={error} />
      {data && dlqs.length === 0 && <p>No dead-letter queue found among the 500 deepest queues.</p>}
      <ul class="dlq-list">
        {dlqs.map((q) => (
          <li key={q.vhost + q.name}>
            <a href={link('dlq', q.vhost, q.name)}>{q.name}</a> <span class="muted">in {vhostText(q.vhost)}</span>: {num(q.messages)} messages
          </li>
        ))}
      </ul>
    </section>
  );
}

type Selection = { mode: 'ids'; ids: Set<number> } | { mode: 'filter' };

function Inspector({ vhost, name }: { vhost: string; name: string }) {
  const [form, setForm] = useState<Filter>(NO_FILTER);
  const [filter, setFilter] = useState<Filter>(NO_FILTER);
  const [offsets, setOffsets] = useState<number[]>([0]); // offsets of the pages seen, for "Previous"
  const [page, setPage] = useState<BrowsePage | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [sel, setSel] = useState<Selection>({ mode: 'ids', ids: new Set() });
  const [seen] = useState(() => new Map<number, BrowsedMessage>());
  const [open, setOpen] = useState<Set<number>>(new Set());
  const [dialog, setDialog] = useState<'move' | 'delete' | 'redrive' | null>(null);
  const [task, setTask] = useState<RedriveTask | null>(null);
  const offset = offsets[offsets.length - 1];
  const info = usePoll(() => api<Queue>(`/api/queues/${qpath(vhost, name)}`, { what: `load queue '${name}'` }), [vhost, name], 5000);

  const load = async (at = offset, f = filter) => {
    setLoading(true);
    try {
      const params = new URLSearchParams({ offset: String(at), limit: String(PAGE), truncate: '65536', ...filterQuery(f) });
      const p = await api<BrowsePage>(`/api/queues/${qpath(vhost, name)}/messages?${params}`, { what: `browse '${name}'` });
      p.items.forEach((m) => seen.set(m.id, m));
      setPage(p);
      setError(null);
      info.reload(); // the header's count, fetched at the same moment as the page

    } catch (e) {
      setError(errorText(e));
    } finally {
      setLoading(false);
    }
  };
  useEffect(() => {
    load();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [offset, filter]);

  // A redrive of this queue started earlier (another tab, before a reload) is shown too.
  useEffect(() => {
    api<RedriveTask[]>('/api/redrives', { what: 'list redrives' })
      .then((ts) => {
        const running = ts.filter((t) => t.vhost === vhost && t.queue === name && t.state === 'running').pop();
        if (running) setTask(running);
      })
      .catch((e) => setError(errorText(e)));
  }, [vhost, name]);

  useEffect(() => {
    if (!task || task.state !== 'running') return;
    const timer = window.setTimeout(async () => {
      try {
        const t = await api<RedriveTask>(`/api/redrives/${task.id}`, { what: 'follow the redrive' });
        setTask(t);
        if (t.state !== 'running') {
          notify(`Redrive ${t.state}: ${t.moved} moved, ${t.skipped} skipped.`, t.state === 'failed' ? 'error' : 'ok');
          info.reload();
          load();
        }
      } catch (e) {
        notify(errorText(e), 'error');
      }
    }, 500);
    return () => clearTimeout(timer);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [task]);

  const items = page?.items ?? [];
  const selectedCount = sel.mode === 'ids' ? sel.ids.size : null;
  const filtered = Object.keys(filterQuery(filter)).length > 0;
  const selectionBody = (): Record<string, unknown> =>
    sel.mode === 'ids' ? { ids: [...sel.ids] } : filtered ? { all: true, filter: filterBody(filter) } : { all: true };
  const selectionText =
    sel.mode === 'ids'
      ? `${selectedCount} selected message${selectedCount === 1 ? '' : 's'}`
      : filtered
        ? 'every message that matches the filter'
        : 'every message in the queue';
  const nothingSelected = sel.mode === 'ids' && sel.ids.size === 0;

  const toggle = (id: number) => {
    const ids = new Set(sel.mode === 'ids' ? sel.ids : []);
    if (ids.has(id)) ids.delete(id);
    else ids.add(id);
    setSel({ mode: 'ids', ids });
  };
  const allOnPage = items.length > 0 && sel.mode === 'ids' && items.every((m) => sel.ids.has(m.id));
  const togglePage = () => {
    const ids = new Set(sel.mode === 'ids' ? sel.ids : []);
    if (allOnPage) items.forEach((m) => ids.delete(m.id));
    else items.forEach((m) => ids.add(m.id));
    setSel({ mode: 'ids', ids });
  };
  const clearSelection = () => setSel({ mode: 'ids', ids: new Set() });
  const afterChange = () => {
    clearSelection();
    info.reload();
    setOffsets([0]);
    load(0);
  };

  const apply = (e: Event) => {
    e.preventDefault();
    clearSelection();
    setOffsets([0]);
    setFilter({ ...form });
  };

  const doDelete = () =>
    act(
      () =>
        api<{ deleted: number }>(`/api/queues/${qpath(vhost, name)}/messages/delete`, {
          method: 'POST',
          what: 'delete the messages',
          body: selectionBody(),
        }),
      (r) => `${r.deleted} message${r.deleted === 1 ? '' : 's'} deleted.`,
    ).then(afterChange);

  const exportJson = async () => {
    try {
      let out: BrowsedMessage[] = [];
      if (sel.mode === 'ids') {
        for (const id of sel.ids) {
          const m = seen.get(id) ?? (await api<BrowsedMessage>(`/api/queues/${qpath(vhost, name)}/messages/${id}`, { what: `read message ${id}` }));
          out.push(m);
        }
      } else {
        let at: number | null = 0;
        while (at !== null) {
          const params = new URLSearchParams({ offset: String(at), limit: '1000', ...filterQuery(filter) });
          const p: BrowsePage = await api<BrowsePage>(`/api/queues/${qpath(vhost, name)}/messages?${params}`, { what: 'read messages for the export' });
          out = out.concat(p.items);
          at = p.next_offset;
        }
      }
      const blob = new Blob([JSON.stringify({ vhost, queue: name, exported_at: new Date().toISOString(), messages: out }, null, 2)], {
        type: 'application/json',
      });
      const a = document.createElement('a');
      a.href = URL.createObjectURL(blob);
      a.download = `${name}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(a.href), 10000);
      notify(`Exported ${out.length} message${out.length === 1 ? '' : 's'} as JSON.`);
    } catch (e) {
      notify(errorText(e), 'error');
    }
  };

  const q = info.data;
  return (
    <section>
      <Crumbs items={[{ label: 'DLQ inspector', href: link('dlq') }, { label: vhostText(vhost) }, { label: name }]} />
      <div class="title-row">
        <h1>
          <span class="name">{name}</span>
          {q?.dead_letter_target && <span class="badge dlq">DLQ</span>}
        </h1>
        <div class="actions">
          <p class="muted" data-testid="dlq-ready">
            {q ? `${num(q.messages_ready)} ready` : ''}
            {q?.dead_letter_sources?.length ? ` · dead letters from ${q.dead_letter_sources.join(', ')}` : ''}
          </p>
          <a class="button" href={link('queues', vhost, name)}>
            Queue page
          </a>
        </div>
      </div>
      <ErrorBox error={info.error} />
      <form class="filters grid-filters" onSubmit={apply} role="search" aria-label="Filter messages">
        <label>
          Reason
          <select value={form.reason} onChange={(e) => setForm({ ...form, reason: e.currentTarget.value })}>
            <option value="">any</option>
            {REASONS.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
        </label>
        <label>
          Origin queue
          <input
           
            list="dlq-sources"
            value={form.original_queue}
            onInput={(e) => setForm({ ...form, original_queue: e.currentTarget.value })}
          />
          <datalist id="dlq-sources">
            {q?.dead_letter_sources?.map((s) => (
              <option key={s} value={s} />
            ))}
          </datalist>
        </label>
        <label>
          Routing key
          <input value={form.routing_key} onInput={(e) => setForm({ ...form, routing_key: e.currentTarget.value })} />
        </label>
        <label>
          Died after
          <input type="datetime-local" step={1} value={form.since} onInput={(e) => setForm({ ...form, since: e.currentTarget.value })} />
        </label>
        <label>
          Died before
          <input type="datetime-local" step={1} value={form.until} onInput={(e) => setForm({ ...form, until: e.currentTarget.value })} />
        </label>
        <label>
          Body contains
          <input value={form.contains} onInput={(e) => setForm({ ...form, contains: e.currentTarget.value })} />
        </label>
        <div class="filter-buttons">
          <button type="submit" class="primary">
            Apply filter
          </button>
          <button
            type="button"
            onClick={() => {
              setForm(NO_FILTER);
              setFilter(NO_FILTER);
              setOffsets([0]);
              clearSelection();
            }}
          >
            Clear
          </button>
        </div>
      </form>

      {task && <RedriveProgress task={task} onCancel={async (t) => {
        try {
          setTask(await api<RedriveTask>(`/api/redrives/${t.id}`, { method: 'DELETE', what: 'cancel the redrive' }));
          notify('Redrive cancelled; what moved stays moved.');
          afterChange();
        } catch (e) {
          notify(errorText(e), 'error');
        }
      }} onClose={() => setTask(null)} />}

      <div class="toolbar" role="toolbar" aria-label="Act on the selection">
        <span class="selection" data-testid="selection" aria-live="polite">
          {sel.mode === 'ids' ? (selectedCount ? `${selectedCount} selected` : 'Nothing selected') : filtered ? 'All matching the filter selected' : 'All messages selected'}
        </span>
        <button type="button" onClick={() => setSel({ mode: 'filter' })} disabled={sel.mode === 'filter'}>
          {filtered ? 'Select all matching' : 'Select all'}
        </button>
        <button type="button" onClick={clearSelection} disabled={nothingSelected}>
          Clear selection
        </button>
        <span class="sep" />
        <button type="button" class="primary" disabled={nothingSelected || task?.state === 'running'} onClick={() => setDialog('redrive')}>
          Redrive to origin…
        </button>
        <button type="button" disabled={nothingSelected} onClick={() => setDialog('move')}>
          Move to queue…
        </button>
        <button type="button" disabled={nothingSelected} onClick={exportJson}>
          Export JSON
        </button>
        <button type="button" class="danger" disabled={nothingSelected} onClick={() => setDialog('delete')}>
          Delete…
        </button>
        <span class="sep" />
        <button type="button" onClick={() => load()} disabled={loading}>
          {loading ? 'Loading…' : 'Refresh'}
        </button>
      </div>
      <ErrorBox error={error} />

      {/* The message details below have h3 headings: this keeps the outline h1 > h2 > h3. */}
      <h2 class="sr-only">Messages</h2>
      <div class="table-wrap">
        <table class="messages">
          <caption class="sr-only">Messages in {name}</caption>
          <thead>
            <tr>
              <th scope="col">
                <input type="checkbox" checked={sel.mode === 'filter' || allOnPage} onChange={togglePage} aria-label="Select every message on this page" />
              </th>
              <th scope="col" class="num">
                #
              </th>
              <th scope="col">Died</th>
              <th scope="col">Reason</th>
              <th scope="col">Origin queue</th>
              <th scope="col">Routing key</th>
              <th scope="col" class="num">
                Size
              </th>
              <th scope="col">Body</th>
              <th scope="col">
                <span class="sr-only">Details</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {items.length === 0 && (
              <tr>
                <td colSpan={9} class="empty">
                  {page ? (filtered ? 'No message matches this filter.' : 'The queue has no ready messages.') : 'Loading…'}
                </td>
              </tr>
            )}
            {items.map((m) => {
              const d = m.x_death[0];
              const isOpen = open.has(m.id);
              return (
                <Fragment key={m.id}>
                  <tr data-message-id={m.id} class={isOpen ? 'open' : ''}>
                    <td>
                      <input
                        type="checkbox"
                        checked={sel.mode === 'filter' || (sel.mode === 'ids' && sel.ids.has(m.id))}
                        disabled={sel.mode === 'filter'}
                        onChange={() => toggle(m.id)}
                        aria-label={`Select message ${m.id}`}
                      />
                    </td>
                    <td class="num">{m.id}</td>
                    <td>{d?.time ? time(d.time) : m.properties.timestamp ? time(m.properties.timestamp) : '–'}</td>
                    <td>{d?.reason ? <span class={`reason ${d.reason}`}>{d.reason}</span> : '–'}</td>
                    <td>{d?.queue ?? '–'}</td>
                    <td>
                      <code>{m.routing_key}</code>
                    </td>
                    <td class="num">{bytes(m.payload_bytes)}</td>
                    <td class="preview">{m.payload_encoding === 'string' ? m.payload.slice(0, 80) : '(binary)'}</td>
                    <td>
                      <button
                        type="button"
                        class="small"
                        aria-expanded={isOpen}
                        onClick={() => {
                          const s = new Set(open);
                          if (isOpen) s.delete(m.id);
                          else s.add(m.id);
                          setOpen(s);
                        }}
                      >
                        {isOpen ? 'Hide' : 'Show'}
                      </button>
                    </td>
                  </tr>
                  {isOpen && (
                    <tr class="detail">
                      <td colSpan={9}>
                        <MessageDetail m={m} />
                      </td>
                    </tr>
                  )}
                </Fragment>
              );
            })}
          </tbody>
        </table>
      </div>
      <nav class="pager" aria-label="Pages of messages">
        <button type="button" disabled={offsets.length <= 1} onClick={() => setOffsets(offsets.slice(0, -1))}>
          ← Previous
        </button>
        <span>
          {items.length ? `Messages at positions ${items[0].position + 1}–${items[items.length - 1].position + 1}` : ''}
          {page ? ` of ${num(page.messages_ready)} ready` : ''}
        </span>
        <button type="button" disabled={page?.next_offset == null} onClick={() => page?.next_offset != null && setOffsets([...offsets, page.next_offset])}>
          Next →
        </button>
      </nav>

      <Confirm
        open={dialog === 'delete'}
        title="Delete messages?"
        text={`Delete ${selectionText} from '${name}'? They are gone for good.`}
        action="Delete"
        onConfirm={() => {
          setDialog(null);
          doDelete();
        }}
        onCancel={() => setDialog(null)}
      />
      <RedriveDialog
        open={dialog === 'redrive'}
        text={selectionText}
        onCancel={() => setDialog(null)}
        onStart={async (rate) => {
          setDialog(null);
          try {
            const t = await api<RedriveTask>(`/api/queues/${qpath(vhost, name)}/redrive`, {
              method: 'POST',
              what: 'start the redrive',
              body: { ...selectionBody(), rate },
            });
            setTask(t);
            clearSelection();
            if (t.state !== 'running') {
              // A small redrive can finish within the request that starts it.
              notify(`Redrive ${t.state}: ${t.moved} moved, ${t.skipped} skipped.`, t.state === 'failed' ? 'error' : 'ok');
              afterChange();
            }
          } catch (e) {
            notify(errorText(e), 'error');
          }
        }}
      />
      <MoveDialog
        open={dialog === 'move'}
        vhost={vhost}
        source={name}
        text={selectionText}
        onCancel={() => setDialog(null)}
        onMove={async (to) => {
          setDialog(null);
          await act(
            () =>
              api<{ moved: number; not_moved: number }>(`/api/queues/${qpath(vhost, name)}/messages/move`, {
                method: 'POST',
                what: `move the messages to '${to}'`,
                body: { ...selectionBody(), to },
              }),
            (r) => `${r.moved} moved to '${to}'${r.not_moved ? `; ${r.not_moved} stayed here (the target refused them: it is full)` : ''}.`,
          );
          afterChange();
        }}
      />
    </section>
  );
}

function RedriveProgress({ task, onCancel, onClose }: { task: RedriveTask; onCancel: (t: RedriveTask) => void; onClose: () => void }) {
  const done = task.moved + task.skipped;
  return (
    <div class="panel redrive" role="status" aria-live="polite" data-testid="redrive" data-state={task.state}>
      <h2>
        Redrive #{task.id}: {task.state}
      </h2>
      <progress max={Math.max(task.total, 1)} value={done} aria-label="Redrive progress" />
      <p>
        {num(task.moved)} moved back{task.to ? ` to '${task.to}'` : ' to their origin queues'}, {num(task.skipped)} skipped, {num(task.remaining)} to go, of{' '}
        {num(task.total)} (at most {task.rate}/s).
        {task.skipped > 0 && ' Skipped: consumed meanwhile, no origin queue recorded, origin gone or full.'}
        {task.error && ` Error: ${task.error}.`}
      </p>
      {task.state === 'running' ? (
        <button type="button" class="danger" onClick={() => onCancel(task)}>
          Cancel redrive
        </button>
      ) : (
        <button type="button" onClick={onClose}>
          Dismiss
        </button>
      )}
    </div>
  );
}

function RedriveDialog({ open, text, onStart, onCancel }: { open: boolean; text: string; onStart: (rate: number) => void; onCancel: () => void }) {
  const [rate, setRate] = useState('100');
  const [error, setError] = useState<string | null>(null);
  return (
    <Dialog title="Redrive to origin" open={open} onClose={onCancel}>
      <form
        class="form"
        onSubmit={(e) => {
          e.preventDefault();
          const r = Number(rate);
          if (!(r > 0)) return setError('The rate must be a number above 0.');
          setError(null);
          onStart(r);
        }}
      >
        <p>
          Send {text} back to the queue each one died in (the newest <code>x-death</code> entry), with the header{' '}
          <code>x-warren-redrive-count</code> raised by one.
        </p>
        <div class="row">
          <label for="rd-rate">At most (messages per second)</label>
          <input id="rd-rate" inputMode="decimal" value={rate} onInput={(e) => setRate(e.currentTarget.value)} />
        </div>
        <ErrorBox error={error} />
        <div class="actions">
          <button type="submit" class="primary">
            Start redrive
          </button>
          <button type="button" onClick={onCancel}>
            Cancel
          </button>
        </div>
      </form>
    </Dialog>
  );
}

function MoveDialog({
  open,
  vhost,
  source,
  text,
  onMove,
  onCancel,
}: {
  open: boolean;
  vhost: string;
  source: string;
  text: string;
  onMove: (to: string) => void;
  onCancel: () => void;
}) {
  const [to, setTo] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [names, setNames] = useState<string[]>([]);
  useEffect(() => {
    if (!open) return;
    api<Paged<Queue>>(`/api/queues/${encodeURIComponent(vhost)}?page=1&page_size=500&columns=name`, { what: 'list queues' })
      .then((p) => setNames(p.items.map((q) => q.name).filter((n) => n !== source)))
      .catch((e) => setError(errorText(e)));
  }, [open, vhost, source]);
  return (
    <Dialog title="Move to another queue" open={open} onClose={onCancel}>
      <form
        class="form"
        onSubmit={(e) => {
          e.preventDefault();
          if (!to) return setError('Name the queue to move the messages to.');
          setError(null);
          onMove(to);
        }}
      >
        <p>Move {text} to another queue in vhost {vhost}. They keep their headers.</p>
        <div class="row">
          <label for="mv-to">Target queue</label>
          <input id="mv-to" list="mv-queues" value={to} onInput={(e) => setTo(e.currentTarget.value)} autofocus />
          <datalist id="mv-queues">
            {names.map((n) => (
              <option key={n} value={n} />
            ))}
          </datalist>
        </div>
        <ErrorBox error={error} />
        <div class="actions">
          <button type="submit" class="primary">
            Move
          </button>
          <button type="button" onClick={onCancel}>
            Cancel
          </button>
        </div>
      </form>
    </Dialog>
  );
}

function value(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function DeathTable({ deaths }: { deaths: Death[] }) {
  if (!deaths.length) return <p class="muted">No x-death header: this message was not dead-lettered.</p>;
  return (
    <table class="deaths">
      <caption>x-death (newest first)</caption>
      <thead>
        <tr>
          <th scope="col">Queue</th>
          <th scope="col">Reason</th>
          <th scope="col" class="num">
            Count
          </th>
          <th scope="col">Last time</th>
          <th scope="col">Exchange</th>
          <th scope="col">Routing keys</th>
          <th scope="col">Original expiration</th>
        </tr>
      </thead>
      <tbody>
        {deaths.map((d, i) => (
          <tr key={i}>
            <td>{d.queue}</td>
            <td>{d.reason}</td>
            <td class="num">{d.count}</td>
            <td>{time(d.time)}</td>
            <td>{d.exchange === '' ? '(default)' : d.exchange}</td>
            <td>{(d['routing-keys'] ?? []).join(', ')}</td>
            <td>{d['original-expiration'] ?? ''}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function MessageDetail({ m }: { m: BrowsedMessage }) {
  // Parsed from the text when possible, which keeps the sender's key order.
  const json = useMemo(() => {
    if (m.payload_encoding === 'string') {
      try {
        return JSON.parse(m.payload);
      } catch {
        /* not JSON text */
      }
    }
    return m.payload_json;
  }, [m]);
  const [view, setView] = useState<'json' | 'text' | 'hex'>(json !== undefined ? 'json' : m.payload_encoding === 'string' ? 'text' : 'hex');
  const { headers, ...props } = m.properties;
  const otherHeaders = Object.entries(headers ?? {}).filter(([k]) => k !== 'x-death');
  let body: string;
  if (view === 'json') body = JSON.stringify(json, null, 2);
  else if (view === 'text') body = m.payload_encoding === 'string' ? m.payload : '(not UTF-8 text; see the hex view)';
  else body = hexDump(payloadBytes(m.payload, m.payload_encoding));
  const truncated = m.payload_bytes > payloadBytes(m.payload, m.payload_encoding).length;
  return (
    <div class="msg-detail">
      <div class="grid2">
        <div>
          <h3>Properties</h3>
          <table class="kv">
            <tbody>
              <tr>
                <th scope="row">exchange</th>
                <td>{m.exchange === '' ? '(default)' : m.exchange}</td>
              </tr>
              <tr>
                <th scope="row">routing key</th>
                <td>
                  <code>{m.routing_key}</code>
                </td>
              </tr>
              {Object.entries(props).map(([k, v]) => (
                <tr key={k}>
                  <th scope="row">{k}</th>
                  <td>{k === 'timestamp' && typeof v === 'number' ? `${time(v)} (${v})` : value(v)}</td>
                </tr>
              ))}
              <tr>
                <th scope="row">delivery count</th>
                <td>{m.delivery_count}</td>
              </tr>
            </tbody>
          </table>
        </div>
        <div>
          <h3>Headers</h3>
          {otherHeaders.length === 0 ? (
            <p class="muted">No headers besides x-death.</p>
          ) : (
            <table class="kv">
              <tbody>
                {otherHeaders.map(([k, v]) => (
                  <tr key={k}>
                    <th scope="row">{k}</th>
                    <td>{v === '' ? <span class="muted">(empty)</span> : <code>{value(v)}</code>}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </div>
      </div>
      <DeathTable deaths={m.x_death} />
      <div class="body-view">
        <div class="tabs" role="group" aria-label="Body view">
          {json !== undefined && (
            <button type="button" aria-pressed={view === 'json'} onClick={() => setView('json')}>
              JSON
            </button>
          )}
          <button type="button" aria-pressed={view === 'text'} onClick={() => setView('text')}>
            Text
          </button>
          <button type="button" aria-pressed={view === 'hex'} onClick={() => setView('hex')}>
            Hex
          </button>
          <span class="muted">
            {bytes(m.payload_bytes)}
            {truncated ? ' (shown truncated)' : ''}
          </span>
        </div>
        <pre class="body" tabIndex={0} role="region" aria-label="Message body">
          {body}
        </pre>
      </div>
    </div>
  );
}
