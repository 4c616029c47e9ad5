import { useRef } from 'preact/hooks';
import { api } from '../api';
import { Chart, ErrorBox, RateHistory, usePoll } from '../components';
import { bytes, num, rate } from '../format';
import { link } from '../router';
import type { Node, Overview, Paged, Queue } from '../types';
import { vhostText } from './common';

const RATE_SERIES = [
  { label: 'Publish', color: '#1d4ed8' },
  { label: 'Deliver', color: '#047857' },
  { label: 'Ack', color: '#7c3aed' },
  { label: 'Redeliver', color: '#b45309' },
  { label: 'Dead-letter', color: '#b91c1c' },
];
const DEPTH_SERIES = [
  { label: 'Ready', color: '#1d4ed8' },
  { label: 'Unacked', color: '#b45309' },
  { label: 'Waiting', color: '#7c3aed' },
];

// Histories outlive the page, so going back to the overview keeps the charts.
const rates = new RateHistory(RATE_SERIES.length);
const depth = new RateHistory(DEPTH_SERIES.length);

interface Data {
  overview: Overview;
  node: Node | null;
  alarms: { status: string; alarms?: { resource: string }[] };
  dlqs: Queue[];
}

async function load(): Promise<Data> {
  const [overview, nodes, alarms] = await Promise.all([
    api<Overview>('/api/overview', { what: 'load the overview' }),
    api<Node[]>('/api/nodes', { what: 'load node memory and storage' }).catch((e) => {
      // Monitoring tag needed (403 "Not monitor user"); management users see the rest.
      if (e.status === 403) return [] as Node[];
      throw e;
    }),
    fetchAlarms(),
  ]);
  const now = Date.now();
  const s = overview.message_stats ?? {};
  rates.addCounters(now, [
    s.publish ?? 0,
    (s.deliver ?? 0) + (s.deliver_no_ack ?? 0) + (s.get ?? 0) + (s.get_no_ack ?? 0),
    s.ack ?? 0,
    s.redeliver ?? 0,
    deadLettered(overview),
  ]);
  depth.addGauges(now, [overview.queue_totals.messages_ready, overview.queue_totals.messages_unacknowledged, overview.queue_totals.messages_waiting ?? 0]);
  let dlqs: Queue[] = [];
  if ((overview.dead_letter_queues?.queues ?? 0) > 0) dlqs = await loadDlqs();
  return { overview, node: nodes[0] ?? null, alarms, dlqs };
}

// Messages dead-lettered so far: the broker's exact counter (message_stats.dead_lettered, counted
// where messages die); a broker without it gives only the arrivals in dead-letter queues, which
// also count messages moved there by hand.
export function deadLettered(o: Overview): number {
  return o.message_stats?.dead_lettered ?? o.dead_letter_queues?.received ?? 0;
}

async function fetchAlarms() {
  // 503 means "an alarm is in effect", with the list in the body: not a failure of the request.
  const res = await api<{ status: string; alarms?: { resource: string }[] }>('/api/health/checks/alarms', {
    what: 'check alarms',
  }).catch((e) => {
    if (e.status === 503) return { status: 'failed', alarms: [{ resource: 'memory' }] };
    throw e;
  });
  return res;
}

// The dead-letter queues among the 500 deepest queues.
async function loadDlqs(): Promise<Queue[]> {
  const page = await api<Paged<Queue>>(
    '/api/queues?page=1&page_size=500&sort=messages&sort_reverse=true&columns=name,vhost,messages,dead_letter_target',
    { what: 'list dead-letter queues' },
  );
  return page.items.filter((q) => q.dead_letter_target);
}

function Meter({ label, used, limit, unit }: { label: string; used: number; limit: number; unit: (n: number) => string }) {
  const pct = limit > 0 ? Math.min(100, (used / limit) * 100) : 0;
  return (
    <div class="meter">
      <div class="meter-label">
        {label}: <strong>{unit(used)}</strong> of {unit(limit)}
      </div>
      <div class="bar" role="meter" aria-valuemin={0} aria-valuemax={limit} aria-valuenow={used} aria-label={label}>
        <div class={`fill ${pct > 80 ? 'hot' : ''}`} style={{ width: `${pct}%` }} />
      </div>
    </div>
  );
}

export function OverviewPage() {
  const { data, error } = usePoll(load, [], 2000);
  const chartTick = useRef(0);
  chartTick.current++;
  const o = data?.overview;
  const n = data?.node;
  const alarmList: string[] = [];
  if (n?.mem_alarm) alarmList.push('Memory alarm: publishers are blocked until memory use drops below the limit.');
  if (n?.disk_free_alarm) alarmList.push('Storage alarm: publishers are blocked (disk below the free-space limit, or writes failing).');
  if (!n && data?.alarms.status === 'failed') alarmList.push('An alarm is in effect: publishers are blocked.');
  return (
    <section>
      <h1>Overview</h1>
      <ErrorBox error={error} />
      {o && (
        <>
          <p class="muted">
            {o.product_name} {o.product_version} · node {o.node} · AMQP on{' '}
            {o.listeners.map((l) => `${l.ip_address}:${l.port}`).join(', ')}
          </p>
          <div class="cards" role="group" aria-label="Totals">
            <Card label="Queues" value={o.object_totals.queues} href={link('queues')} />
            <Card label="Connections" value={o.object_totals.connections} href={link('connections')} />
            <Card label="Channels" value={o.object_totals.channels} href={link('connections')} />
            <Card label="Consumers" value={o.object_totals.consumers} />
            <Card label="Exchanges" value={o.object_totals.exchanges} href={link('exchanges')} />
            <Card label="Messages ready" value={o.queue_totals.messages_ready} />
            <Card label="Unacked" value={o.queue_totals.messages_unacknowledged} />
            <Card label="In dead-letter queues" value={o.dead_letter_queues?.messages ?? 0} href={link('dlq')} />
            <Card label="Waiting to retry" value={o.queue_totals.messages_waiting ?? 0} />
            <Card label="Delayed" value={o.delayed_messages ?? 0} href={link('delayed')} />
          </div>
          <div class="grid2">
            <Chart
              title="Message rates"
              series={RATE_SERIES}
              times={rates.times}
              values={rates.values}
              unit={(v) => rate(v)}
            />
            <Chart title="Queued messages" series={DEPTH_SERIES} times={depth.times} values={depth.values} unit={(v) => num(Math.round(v))} integer />
          </div>
          <div class="grid2">
            <div class="panel">
              <h2>Alarms</h2>
              {alarmList.length === 0 ? (
                <p class="ok" data-testid="no-alarms">
                  No alarms: publishers are not blocked.
                </p>
              ) : (
                <ul class="alarms">
                  {alarmList.map((a) => (
                    <li key={a} class="error">
                      {a}
                    </li>
                  ))}
                </ul>
              )}
            </div>
            <div class="panel">
              <h2>Node</h2>
              {n ? (
                <>
                  <Meter label="Memory (resident)" used={n.mem_used ?? 0} limit={n.mem_limit} unit={bytes} />
                  <p class="muted">
                    Messages hold {bytes(n.message_bytes ?? 0)}; the memory alarm fires when they pass {bytes(n.mem_limit)}.
                  </p>
                  {n.disk_free !== null && n.disk_free !== undefined ? (
                    <p>
                      Storage: <strong>{bytes(n.disk_free)}</strong> free on the data directory's disk (alarm below{' '}
                      {bytes(n.disk_free_limit ?? 0)}).
                    </p>
                  ) : (
                    <p class="muted">Free disk space is unknown (the data directory could not be examined).</p>
                  )}
                </>
              ) : (
                <p class="muted">Node details need the monitoring or administrator tag.</p>
              )}
            </div>
          </div>
          {data && data.dlqs.length > 0 && (
            <div class="panel">
              <h2>Dead-letter queues</h2>
              <ul class="dlq-list">
                {data.dlqs.map((q) => (
                  <li key={q.vhost + q.name}>
                    <a href={link('dlq', q.vhost, q.name)}>{q.name}</a> <span class="muted">in {vhostText(q.vhost)}</span>:{' '}
                    {num(q.messages)} messages
                  </li>
                ))}
              </ul>
            </div>
          )}
        </>
      )}
    </section>
  );
}

function Card({ label, value, href }: { label: string; value: number; href?: string }) {
  const inner = (
    <>
      <span class="card-value">{num(value)}</span>
      <span class="card-label">{label}</span>
    </>
  );
  return href ? (
    <a class="card" href={href}>
      {inner}
    </a>
  ) : (
    <div class="card">{inner}</div>
  );
}
