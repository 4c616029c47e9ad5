// Shared pieces: polling, error boxes, sortable tables, pagers, dialogs, charts, toasts.
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState, useCallback } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { errorText } from './api';

// --- data loading ---------------------------------------------------------------------------

export interface Loaded<T> {
  data: T | null;
  error: string | null;
  loading: boolean;
  reload: () => void;
}

// Runs `load` now, whenever `deps` change, and every `intervalMs` (0: once). Keeps the last data
// on a failed refresh and shows the error beside it.
export function usePoll<T>(load: () => Promise<T>, deps: unknown[], intervalMs = 5000): Loaded<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  useEffect(() => {
    let alive = true;
    let timer: number | undefined;
    const run = async () => {
      try {
        const d = await loadRef.current();
        if (!alive) return;
        setData(d);
        setError(null);
      } catch (e) {
        if (alive) setError(errorText(e));
      } finally {
        if (alive) {
          setLoading(false);
          if (intervalMs > 0) timer = window.setTimeout(run, intervalMs);
        }
      }
    };
    setLoading(true);
    run();
    return () => {
      alive = false;
      if (timer !== undefined) clearTimeout(timer);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick, intervalMs]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data, error, loading, reload };
}

// --- feedback ---------------------------------------------------------------------------------

export function ErrorBox({ error, onDismiss }: { error: string | null; onDismiss?: () => void }) {
  if (!error) return null;
  return (
    <div class="error" role="alert">
      <span>{error}</span>
      {onDismiss && (
        <button type="button" class="link" onClick={onDismiss} aria-label="Dismiss this error">
          Dismiss
        </button>
      )}
    </div>
  );
}

type Toast = { id: number; text: string; kind: 'ok' | 'error' };
let toastId = 0;
const toastListeners = new Set<(t: Toast[]) => void>();
let toasts: Toast[] = [];
function setToasts(t: Toast[]) {
  toasts = t;
  toastListeners.forEach((l) => l(t));
}
export function notify(text: string, kind: 'ok' | 'error' = 'ok') {
  const t = { id: ++toastId, text, kind };
  // At most three at a time (the newest), so they never pile up over the page.
  setToasts([...toasts, t].slice(-3));
  // Errors stay until dismissed; confirmations fade after a while.
  if (kind === 'ok') setTimeout(() => setToasts(toasts.filter((x) => x.id !== t.id)), 6000);
}
export function Toasts() {
  const [list, setList] = useState<Toast[]>(toasts);
  useEffect(() => {
    toastListeners.add(setList);
    return () => void toastListeners.delete(setList);
  }, []);
  return (
    <div class="toasts" aria-live="polite">
      {list.map((t) => (
        <div key={t.id} class={`toast ${t.kind}`} role={t.kind === 'error' ? 'alert' : 'status'}>
          <span>{t.text}</span>
          <button type="button" class="link" onClick={() => setToasts(toasts.filter((x) => x.id !== t.id))}>
            Close
          </button>
        </div>
      ))}
    </div>
  );
}

// Runs an action, reports its outcome as a toast, and never swallows a failure.
export async function act<T>(what: () => Promise<T>, done: string | ((result: T) => string)): Promise<boolean> {
  try {
    const result = await what();
    notify(typeof done === 'string' ? done : done(result));
    return true;
  } catch (e) {
    notify(errorText(e), 'error');
    return false;
  }
}

// --- tables -----------------------------------------------------------------------------------

export interface Column<T> {
  key: string;
  label: string;
  sortable?: boolean;
  numeric?: boolean;
  render: (row: T) => ComponentChildren;
}

export interface Sort {
  key: string;
  reverse: boolean;
}

export function Table<T>({
  columns,
  rows,
  rowKey,
  sort,
  onSort,
  empty,
  caption,
}: {
  columns: Column<T>[];
  rows: T[];
  rowKey: (row: T) => string;
  sort?: Sort;
  onSort?: (s: Sort) => void;
  empty: string;
  caption?: string;
}) {
  return (
    <div class="table-wrap">
      <table>
        {caption && <caption class="sr-only">{caption}</caption>}
        <thead>
          <tr>
            {columns.map((c) => {
              const active = sort?.key === c.key;
              const ariaSort = active ? (sort!.reverse ? 'descending' : 'ascending') : undefined;
              return (
                <th key={c.key} class={c.numeric ? 'num' : ''} aria-sort={ariaSort} scope="col">
                  {c.sortable && onSort ? (
                    <button
                      type="button"
                      class="sort"
                      onClick={() => onSort({ key: c.key, reverse: active ? !sort!.reverse : c.numeric === true })}
                    >
                      {c.label}
                      <span aria-hidden="true" class={active ? 'sort-mark' : 'sort-mark idle'}>
                        {active ? (sort!.reverse ? '▼' : '▲') : '↕'}
                      </span>
                    </button>
                  ) : (
                    c.label
                  )}
                </th>
              );
            })}
          </tr>
        </thead>
        <tbody>
          {rows.length === 0 ? (
            <tr>
              <td colSpan={columns.length} class="empty">
                {empty}
              </td>
            </tr>
          ) : (
            rows.map((r) => (
              <tr key={rowKey(r)}>
                {columns.map((c) => (
                  <td key={c.key} class={c.numeric ? 'num' : ''}>
                    {c.render(r)}
                  </td>
                ))}
              </tr>
            ))
          )}
        </tbody>
      </table>
    </div>
  );
}

export function Pager({
  page,
  pageCount,
  filtered,
  total,
  onPage,
  noun,
}: {
  page: number;
  pageCount: number;
  filtered: number;
  total: number;
  onPage: (p: number) => void;
  noun: string;
}) {
  return (
    <nav class="pager" aria-label={`Pages of ${noun}`}>
      <button type="button" disabled={page <= 1} onClick={() => onPage(page - 1)}>
        ← Previous
      </button>
      <span>
        Page {Math.min(page, Math.max(pageCount, 1))} of {Math.max(pageCount, 1)} · {filtered.toLocaleString('en-US')}{' '}
        {noun}
        {filtered !== total ? ` matching (of ${total.toLocaleString('en-US')})` : ''}
      </span>
      <button type="button" disabled={page >= pageCount} onClick={() => onPage(page + 1)}>
        Next →
      </button>
    </nav>
  );
}

// --- dialogs ----------------------------------------------------------------------------------

// A modal <dialog>: focus stays inside, Escape closes it.
export function Dialog({
  title,
  open,
  onClose,
  children,
}: {
  title: string;
  open: boolean;
  onClose: () => void;
  children: ComponentChildren;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) d.showModal();
    if (!open && d.open) d.close();
  }, [open]);
  return (
    <dialog ref={ref} onClose={onClose} aria-label={title}>
      <h2>{title}</h2>
      {open && children}
    </dialog>
  );
}

export function Confirm({
  open,
  title,
  text,
  action,
  danger = true,
  dismiss = 'Cancel',
  onConfirm,
  onCancel,
}: {
  open: boolean;
  title: string;
  text: ComponentChildren;
  action: string;
  danger?: boolean;
  dismiss?: string; // the label of the button that closes the dialog without acting
  onConfirm: () => void;
  onCancel: () => void;
}) {
  return (
    <Dialog title={title} open={open} onClose={onCancel}>
      <p>{text}</p>
      <div class="actions">
        <button type="button" class={danger ? 'danger' : 'primary'} onClick={onConfirm}>
          {action}
        </button>
        <button type="button" onClick={onCancel} autofocus>
          {dismiss}
        </button>
      </div>
    </Dialog>
  );
}

// --- charts -----------------------------------------------------------------------------------

export interface Series {
  label: string;
  color: string;
}

// A time series chart: `times` in seconds, one array per series. Numbers shown beside the
// chart keep it readable without colour.
export function Chart({
  title,
  series,
  times,
  values,
  unit,
  integer = false,
}: {
  title: string;
  series: Series[];
  times: number[];
  values: (number | null)[][]; // null: no value (drawn as a gap, shown as "–")
  unit: (v: number) => string;
  integer?: boolean; // counts: ticks on whole numbers only (no "0, 1, 1" from rounding 0.5)
}) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  useEffect(() => {
    if (!box.current) return;
    const opts: uPlot.Options = {
      width: Math.max(box.current.clientWidth, 280),
      height: 180,
      legend: { show: false },
      cursor: { show: true, drag: { x: false, y: false } },
      scales: {
        // At least the last minute: with one or two samples uPlot would otherwise span years or milliseconds.
        x: {
          time: true,
          // From the data itself: for a single sample uPlot passes a range of 1,000 days.
          range: (u) => {
            const xs = u.data[0] as number[];
            if (!xs || xs.length === 0) {
              const now = Date.now() / 1000;
              return [now - 60, now];
            }
            const first = xs[0];
            const last = xs[xs.length - 1];
            return last - first < 60 ? [last - 60, last] : [first, last];
          },
        },
        y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.15 : 1] },
      },
      axes: [
        {
          stroke: '#374151',
          grid: { stroke: '#e5e7eb' },
          // Clock times only: the charts cover minutes, so uPlot's second row of dates is noise.
          space: 70,
          size: 34, // one row of labels (uPlot keeps room for two)
          values: (_u, ticks) => ticks.map(clock),
        },
        {
          stroke: '#374151',
          grid: { stroke: '#e5e7eb' },
          size: 60,
          values: (_u, v) => v.map((x) => unit(x)),
          ...(integer ? { incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6, 2e6, 5e6, 1e7, 1e8, 1e9] } : {}),
        },
      ],
      // Points only while samples are sparse (uPlot's default), so a single sample is visible.
      series: [{}, ...series.map((s) => ({ label: s.label, stroke: s.color, width: 2 }))],
    };
    plot.current = new uPlot(opts, [times, ...values] as uPlot.AlignedData, box.current);
    const resize = () => {
      if (box.current && plot.current) plot.current.setSize({ width: Math.max(box.current.clientWidth, 280), height: 180 });
    };
    window.addEventListener('resize', resize);
    return () => {
      window.removeEventListener('resize', resize);
      plot.current?.destroy();
      plot.current = null;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [series.map((s) => s.label).join()]);
  useEffect(() => {
    plot.current?.setData([times, ...values] as uPlot.AlignedData);
  }, [times, values]);
  const last = (i: number) => (values[i].length ? values[i][values[i].length - 1] : null);
  return (
    <figure class="chart" data-chart={title} data-points={times.length}>
      <figcaption>{title}</figcaption>
      <div ref={box} class="plot" role="img" aria-label={`${title} over the last minutes`} />
      <ul class="legend">
        {series.map((s, i) => (
          <li key={s.label}>
            <span class="swatch" style={{ background: s.color }} aria-hidden="true" />
            {s.label}: <strong data-series={s.label}>{last(i) === null ? '–' : unit(last(i)!)}</strong>
          </li>
        ))}
      </ul>
    </figure>
  );
}

// "23:05:40": the local time of a chart tick (seconds since the epoch).
function clock(t: number): string {
  const d = new Date(t * 1000);
  const pad = (x: number) => String(x).padStart(2, '0');
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

// Keeps the last `max` samples of counters and turns consecutive ones into per-second rates.
export class RateHistory {
  times: number[] = [];
  values: (number | null)[][];
  private prev: { t: number; c: (number | null)[] } | null = null;
  constructor(
    readonly count: number,
    readonly max = 150,
  ) {
    this.values = Array.from({ length: count }, () => []);
  }
  // Counters (cumulative) at time t (ms); null for one the broker does not report.
  addCounters(t: number, counters: (number | null)[]): void {
    if (this.prev && t > this.prev.t) {
      const dt = (t - this.prev.t) / 1000;
      const before = this.prev.c;
      const rates = counters.map((c, i) => (c === null || before[i] === null ? null : Math.max(0, (c - before[i]!) / dt)));
      this.push(t, rates);
    }
    this.prev = { t, c: counters };
  }
  // Gauges (instant values) at time t (ms).
  addGauges(t: number, gauges: number[]): void {
    this.push(t, gauges);
  }
  private push(t: number, vals: (number | null)[]) {
    this.times = [...this.times, t / 1000].slice(-this.max);
    this.values = this.values.map((arr, i) => [...arr, vals[i]].slice(-this.max));
  }
}
