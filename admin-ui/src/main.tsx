import { render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import './style.css';
import { api, ApiError } from './api';
import { basicToken, currentSession, endSession, expireIfIdle, onSessionChange, startSession, touch } from './session';
import { link, useRoute } from './router';
import { Toasts } from './components';
import { OverviewPage } from './pages/Overview';
import { ExchangesPage, ExchangePage } from './pages/Exchanges';
import { QueuesPage } from './pages/Queues';
import { QueuePage } from './pages/Queue';
import { ConnectionsPage } from './pages/Connections';
import { DlqPage } from './pages/Dlq';
import { DelayedPage } from './pages/Waiting';

function Login({ reason }: { reason: string | null }) {
  const [user, setUser] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const passwordRef = useRef<HTMLInputElement>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const token = basicToken(user, password);
    try {
      const me = await api<{ name: string; tags: string[] | string }>('/api/whoami', { what: 'log in', token });
      const tags = Array.isArray(me.tags) ? me.tags : String(me.tags).split(',').filter(Boolean);
      startSession({ user: me.name, token, tags });
    } catch (err) {
      // 403: the credentials are right but the user may not use the API; 401: wrong credentials.
      if (err instanceof ApiError && err.status === 403) {
        setError(
          err.reason === 'Not management user'
            ? 'Login failed: this user has no management tag, so it may not use the console.'
            : `Login failed: ${err.reason || 'the broker refused this user'}.`,
        );
      } else if (err instanceof ApiError && err.status === 401) {
        setError('Login failed: wrong user name or password (the default user guest may log in only from the broker’s own machine).');
      } else {
        setError(err instanceof Error ? err.message : String(err));
      }
      // The button was disabled while busy, which took focus away: put it where the fix goes.
      setTimeout(() => passwordRef.current?.select());
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="login">
      <form onSubmit={submit} aria-labelledby="login-title">
        <h1 id="login-title">
          <span class="logo" aria-hidden="true">◆</span> Warren
        </h1>
        <p class="muted">Log in with a broker user that has a management tag.</p>
        {reason && (
          <p class="notice" role="status">
            {reason}
          </p>
        )}
        <label>
          User name
          <input name="username" autocomplete="username" value={user} onInput={(e) => setUser(e.currentTarget.value)} required autofocus />
        </label>
        <label>
          Password
          <input
            ref={passwordRef}
            name="password"
            type="password"
            autocomplete="current-password"
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
            required
          />
        </label>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Logging in…' : 'Log in'}
        </button>
      </form>
    </main>
  );
}

const NAV: [string, string][] = [
  ['overview', 'Overview'],
  ['connections', 'Connections'],
  ['exchanges', 'Exchanges'],
  ['queues', 'Queues'],
  ['dlq', 'DLQ inspector'],
  ['delayed', 'Delayed'],
];

function Shell() {
  const route = useRoute();
  const session = currentSession()!;
  const [page, ...rest] = route;
  let body;
  switch (page) {
    case 'overview':
      body = <OverviewPage />;
      break;
    case 'connections':
      body = <ConnectionsPage />;
      break;
    case 'exchanges':
      body = rest.length >= 2 ? <ExchangePage key={`${rest[0]}/${rest[1]}`} vhost={rest[0]} name={rest[1]} /> : <ExchangesPage />;
      break;
    // Keyed by the object: moving from one queue's page to another's starts afresh (forms, charts),
    // so a publish form never keeps the previous queue's routing key.
    case 'queues':
      body = rest.length >= 2 ? <QueuePage key={`${rest[0]}/${rest[1]}`} vhost={rest[0]} name={rest[1]} /> : <QueuesPage />;
      break;
    case 'dlq':
      body = <DlqPage vhost={rest[0]} name={rest[1]} />;
      break;
    case 'delayed':
      body = <DelayedPage vhost={rest[0]} />;
      break;
    default:
      body = (
        <section>
          <h1>Page not found</h1>
          <p>
            There is no page at <code>{location.hash}</code>. <a href={link('overview')}>Go to the overview.</a>
          </p>
        </section>
      );
  }
  useEffect(() => {
    const title = NAV.find(([k]) => k === page)?.[1] ?? 'Warren';
    document.title = `${title} · Warren`;
  }, [page]);
  // A link inside the page (a queue in the list, say) is gone once the next page renders, and focus
  // with it; keyboard users then continue from the top of the new page's content, not the document.
  // (Not on the first page shown: a fresh document starts at the top, skip link first.)
  const path = route.join('/');
  const firstPath = useRef(path);
  useEffect(() => {
    if (path === firstPath.current) return;
    firstPath.current = '';
    const active = document.activeElement;
    if (!active || active === document.body) document.getElementById('main')?.focus({ preventScroll: true });
  }, [path]);
  return (
    <div class="shell">
      {/* Not a plain #main link: the hash is the route, so it would open a page called "main". */}
      <a
        class="skip"
        href="#main"
        onClick={(e) => {
          e.preventDefault();
          document.getElementById('main')?.focus();
        }}
      >
        Skip to content
      </a>
      <header class="top">
        <span class="brand">
          <span class="logo" aria-hidden="true">◆</span> Warren
        </span>
        <nav aria-label="Main">
          <ul>
            {NAV.map(([k, label]) => (
              <li key={k}>
                <a href={link(k)} aria-current={k === page ? 'page' : undefined}>
                  {label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <span class="who">
          {session.user}
          <button type="button" class="link" onClick={() => endSession('You logged out.')}>
            Log out
          </button>
        </span>
      </header>
      <main id="main" tabIndex={-1}>
        {body}
      </main>
      <Toasts />
    </div>
  );
}

function App() {
  const [loggedIn, setLoggedIn] = useState(currentSession() !== null && !expireIfIdle());
  const [reason, setReason] = useState<string | null>(null);
  useEffect(
    () =>
      onSessionChange((why) => {
        setLoggedIn(currentSession() !== null);
        setReason(why);
      }),
    [],
  );
  // Activity keeps the session alive; a timer ends it when idle, even with no request going out.
  useEffect(() => {
    const on = () => touch();
    window.addEventListener('keydown', on);
    window.addEventListener('pointerdown', on);
    const timer = window.setInterval(() => expireIfIdle(), 5000);
    return () => {
      window.removeEventListener('keydown', on);
      window.removeEventListener('pointerdown', on);
      clearInterval(timer);
    };
  }, []);
  return loggedIn ? <Shell /> : <Login reason={reason} />;
}

render(<App />, document.getElementById('app')!);
