// Every call to the broker's admin API goes through here: basic auth from the session, JSON in
// and out, and errors turned into plain sentences (ApiError.message) that pages show as they are.
// A 401 (credentials no longer accepted) ends the session (the login page says why); a 403 (the
// user lacks the tag or the permission) is an ordinary error, shown where the page shows errors.
import { currentSession, endSession, expireIfIdle } from './session';

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly reason = '', // the broker's own words, when it gave any
  ) {
    super(message);
  }
}

function reasonText(body: unknown): string {
  if (body && typeof body === 'object' && 'reason' in body) {
    const r = (body as { reason: unknown }).reason;
    return typeof r === 'string' ? r : JSON.stringify(r);
  }
  return '';
}

// The sentence for a failed request.
export function describe(status: number, body: unknown, what: string): string {
  const reason = reasonText(body);
  switch (status) {
    case 400:
      return `The broker refused to ${what}: ${reason || 'bad request'}.`;
    case 401:
    case 403:
      return reason ? `Not allowed to ${what}: ${reason}` : `Not allowed to ${what}.`;
    case 404:
      return `Could not ${what}: ${reason && reason !== 'Not Found' ? reason : 'it does not exist (any more)'}.`;
    case 405:
      return `Could not ${what}: the broker does not support this request.`;
    case 413:
      return `Could not ${what}: the request is too large for the broker.`;
    case 500:
      return `The broker hit an internal error while trying to ${what}: ${reason}. It is logged on the broker.`;
    case 503:
      return `The broker could not ${what} right now: ${reason || 'service unavailable'}.`;
    default:
      return `Could not ${what}: HTTP ${status}${reason ? ` (${reason})` : ''}.`;
  }
}

export interface RequestOptions {
  method?: string;
  body?: unknown;
  headers?: Record<string, string>;
  // What the request does, for error messages: "list queues", "delete queue 'q'".
  what: string;
  // For the login check: do not end a session on 401 (there is none yet).
  token?: string;
}

export async function api<T = unknown>(path: string, opts: RequestOptions): Promise<T> {
  if (!opts.token && expireIfIdle()) throw new ApiError('Your session expired.', 401);
  const token = opts.token ?? currentSession()?.token;
  const headers: Record<string, string> = { Accept: 'application/json', ...opts.headers };
  if (token) headers.Authorization = `Basic ${token}`;
  if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(path, {
      method: opts.method ?? 'GET',
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      // Our own Authorization header only: no browser login prompt, no cached credentials.
      credentials: 'omit',
      cache: 'no-store',
    });
  } catch {
    throw new ApiError(
      `Could not ${opts.what}: the broker did not answer (is it running, and reachable at ${location.host}?).`,
      0,
    );
  }
  const text = await res.text();
  let body: unknown = null;
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
  }
  // Only a 401: a 403 refuses this request, not the user, who stays logged in.
  if (res.status === 401 && !opts.token) {
    const reason = reasonText(body) || 'the broker no longer accepts your credentials';
    endSession(`You were logged out: ${reason}. Log in again.`);
  }
  if (!res.ok) throw new ApiError(describe(res.status, body, opts.what), res.status, reasonText(body));
  return body as T;
}

export const enc = encodeURIComponent;
export const qpath = (vhost: string, name: string) => `${enc(vhost)}/${enc(name)}`;

export function errorText(e: unknown): string {
  if (e instanceof ApiError) return e.message;
  if (e instanceof Error) return `Something went wrong in the console: ${e.message}`;
  return String(e);
}
