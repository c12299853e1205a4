import { useEffect, useState } from 'preact/hooks';

export type Route =
  | { page: 'fleet' }
  | { page: 'host'; name: string }
  | { page: 'events' }
  | { page: 'notify' };

/** Routes live in the hash (#/host/web1), so hbd serves one page and a reload lands where it was. */
export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, '');
  const host = /^\/host\/([^/?]+)/.exec(path);
  if (host) {
    try {
      return { page: 'host', name: decodeURIComponent(host[1]!).toLowerCase() };
    } catch {
      return { page: 'fleet' };
    }
  }
  if (path.startsWith('/events')) return { page: 'events' };
  if (path.startsWith('/notify')) return { page: 'notify' };
  return { page: 'fleet' };
}

export function hostHref(name: string): string {
  return `#/host/${encodeURIComponent(name)}`;
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const changed = () => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', changed);
    return () => removeEventListener('hashchange', changed);
  }, []);
  return route;
}
