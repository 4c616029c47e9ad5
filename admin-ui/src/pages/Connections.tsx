import { useState } from 'preact/hooks';
import { api, enc } from '../api';
import { act, Confirm, ErrorBox, Table, usePoll } from '../components';
import { num, time } from '../format';
import type { Channel, Connection } from '../types';

export function ConnectionsPage() {
  const conns = usePoll(() => api<Connection[]>('/api/connections', { what: 'list connections' }), [], 5000);
  const chans = usePoll(() => api<Channel[]>('/api/channels', { what: 'list channels' }), [], 5000);
  const [closing, setClosing] = useState<Connection | null>(null);
  const close = (c: Connection) =>
    act(
      () =>
        api(`/api/connections/${enc(c.name)}`, {
          method: 'DELETE',
          what: `close connection ${c.name}`,
          headers: { 'X-Reason': 'Closed via the Warren web console' },
        }),
      `Connection ${c.name} closed.`,
    ).then(() => {
      conns.reload();
      chans.reload();
    });
  const client = (c: Connection) => {
    const p = c.client_properties ?? {};
    const product = typeof p.product === 'string' ? p.product : '';
    const version = typeof p.version === 'string' ? p.version : '';
    const name = typeof p.connection_name === 'string' ? ` "${p.connection_name}"` : '';
    return `${product} ${version}${name}`.trim() || '–';
  };
  return (
    <section>
      <h1>Connections</h1>
      <ErrorBox error={conns.error} />
      <Table<Connection>
        caption="Connections"
        rows={conns.data ?? []}
        rowKey={(c) => c.name}
        empty={conns.data ? 'No client is connected.' : 'Loading…'}
        columns={[
          { key: 'name', label: 'Name', render: (c) => c.name },
          { key: 'user', label: 'User', render: (c) => c.user },
          { key: 'vhost', label: 'Vhost', render: (c) => c.vhost ?? '–' },
          { key: 'client', label: 'Client', render: client },
          { key: 'channels', label: 'Channels', numeric: true, render: (c) => num(c.channels) },
          { key: 'state', label: 'State', render: (c) => c.state },
          { key: 'since', label: 'Connected at', render: (c) => time(c.connected_at, true) },
          {
            key: 'x',
            label: 'Actions',
            render: (c) => (
              <button type="button" class="small danger" onClick={() => setClosing(c)} aria-label={`Close connection ${c.name}`}>
                Close
              </button>
            ),
          },
        ]}
      />
      <h2>Channels</h2>
      <ErrorBox error={chans.error} />
      <Table<Channel>
        caption="Channels"
        rows={chans.data ?? []}
        rowKey={(c) => c.name}
        empty={chans.data ? 'No channels are open.' : 'Loading…'}
        columns={[
          { key: 'name', label: 'Channel', render: (c) => c.name },
          { key: 'user', label: 'User', render: (c) => c.user },
          { key: 'mode', label: 'Mode', render: (c) => [c.confirm ? 'confirm' : '', c.transactional ? 'transactional' : ''].filter(Boolean).join(', ') || '–' },
          { key: 'prefetch', label: 'Prefetch', numeric: true, render: (c) => num(c.prefetch_count) },
          { key: 'unacked', label: 'Unacked', numeric: true, render: (c) => num(c.messages_unacknowledged) },
          { key: 'consumers', label: 'Consumers', numeric: true, render: (c) => num(c.consumer_count) },
          { key: 'state', label: 'State', render: (c) => c.state ?? '' },
        ]}
      />
      <Confirm
        open={closing !== null}
        title="Close this connection?"
        text={`The client at ${closing?.name} is disconnected with 320 CONNECTION_FORCED; it may reconnect.`}
        action="Close connection"
        onConfirm={() => {
          const c = closing!;
          setClosing(null);
          close(c);
        }}
        onCancel={() => setClosing(null)}
      />
    </section>
  );
}
