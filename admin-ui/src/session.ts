// The login session: a broker user's credentials, kept in sessionStorage (gone when the tab
// closes) and sent as HTTP basic auth with every API request. A session ends after
// IDLE_LIMIT_MS without user activity, or as soon as the broker answers 401 (password changed,
// user deleted); either way the user is sent back to the login page with the reason. A 403 (a tag
// or permission missing, e.g. the management tag removed) does not end it: pages show the refusal.

export const IDLE_LIMIT_MS = 30 * 60 * 1000;
const KEY = 'warren.session';

export interface Session {
  user: string;
  token: string; // base64(user:password)
  tags: string[];
  lastActive: number; // ms since the epoch
}

type Listener = (reason: string | null) => void;
const listeners = new Set<Listener>();

export function basicToken(user: string, password: string): string {
  // btoa takes Latin-1; encode UTF-8 first so any password works.
  const bytes = new TextEncoder().encode(`${user}:${password}`);
  let bin = '';
  bytes.forEach((b) => (bin += String.fromCharCode(b)));
  return btoa(bin);
}

export function currentSession(): Session | null {
  const raw = sessionStorage.getItem(KEY);
  if (!raw) return null;
  try {
    return JSON.parse(raw) as Session;
  } catch {
    sessionStorage.removeItem(KEY);
    return null;
  }
}

export function startSession(s: Omit<Session, 'lastActive'>): void {
  sessionStorage.setItem(KEY, JSON.stringify({ ...s, lastActive: Date.now() }));
  listeners.forEach((l) => l(null));
}

// Ends the session; `reason` is shown on the login page.
export function endSession(reason: string | null): void {
  sessionStorage.removeItem(KEY);
  listeners.forEach((l) => l(reason));
}

export function onSessionChange(l: Listener): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}

// Called on user input (not on background polling).
export function touch(): void {
  const s = currentSession();
  if (!s) return;
  s.lastActive = Date.now();
  sessionStorage.setItem(KEY, JSON.stringify(s));
}

// True (and the session ended) when it has been idle too long.
export function expireIfIdle(): boolean {
  const s = currentSession();
  if (!s) return false;
  if (Date.now() - s.lastActive <= IDLE_LIMIT_MS) return false;
  endSession(`Your session expired after ${IDLE_LIMIT_MS / 60000} minutes without activity. Log in again.`);
  return true;
}
