// Hash routes (#/queues/%2F/orders), so the broker serves one index.html for every page.
import { useEffect, useState } from 'preact/hooks';

export function useRoute(): string[] {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const on = () => setHash(location.hash);
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  const path = hash.replace(/^#\/?/, '');
  return path === '' ? ['overview'] : path.split('/').map((s) => decodeURIComponent(s));
}

export const link = (...parts: string[]) => '#/' + parts.map((p) => encodeURIComponent(p)).join('/');

export function go(...parts: string[]) {
  location.hash = link(...parts);
}
