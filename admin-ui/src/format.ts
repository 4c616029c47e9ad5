export function num(n: number | undefined | null): string {
  if (n === undefined || n === null || Number.isNaN(n)) return '–';
  return n.toLocaleString('en-US');
}

export function rate(n: number | undefined | null): string {
  if (n === undefined || n === null || Number.isNaN(n)) return '–';
  if (n === 0) return '0/s';
  return `${n < 10 ? n.toFixed(1) : Math.round(n).toLocaleString('en-US')}/s`;
}

export function bytes(n: number | undefined | null): string {
  if (n === undefined || n === null) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

// Seconds (x-death time, AMQP timestamp) or ms since the epoch -> local date and time.
export function time(secondsOrMs: number | undefined | null, ms = false): string {
  if (secondsOrMs === undefined || secondsOrMs === null) return '–';
  const d = new Date(ms ? secondsOrMs : secondsOrMs * 1000);
  const pad = (x: number) => String(x).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export function hexDump(data: Uint8Array): string {
  const lines: string[] = [];
  for (let off = 0; off < data.length; off += 16) {
    const row = data.subarray(off, off + 16);
    const hex = Array.from(row, (b) => b.toString(16).padStart(2, '0')).join(' ');
    const ascii = Array.from(row, (b) => (b >= 32 && b < 127 ? String.fromCharCode(b) : '.')).join('');
    lines.push(`${off.toString(16).padStart(8, '0')}  ${hex.padEnd(47)}  ${ascii}`);
  }
  return lines.join('\n');
}

export function base64Bytes(b64: string): Uint8Array {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export function payloadBytes(payload: string, encoding: string): Uint8Array {
  return encoding === 'base64' ? base64Bytes(payload) : new TextEncoder().encode(payload);
}

export function vhostLabel(v: string): string {
  return v === '/' ? '/ (default)' : v;
}
