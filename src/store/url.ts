/**
 * A store URL as hbd may show it (log lines, /healthz, errors): `scheme://user@host:port/database`,
 * without the password and without the query, which may hold one too (`?password=…`).
 * Undefined when `text` is no URL with a `//` authority.
 */
export function urlWithoutPassword(text: string): string | undefined {
  if (schemeOf(text) === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  const user = url.username === '' ? '' : `${url.username}@`;
  // A password with an unescaped `/` spills into the path: only a plain database name is shown.
  const [database = ''] = url.pathname.split('/').slice(1);
  const shown = /[@:]/.test(decodeURIComponent(database)) ? '…' : database;
  return `${url.protocol}//${user}${url.host}${url.pathname === '' ? '' : `/${shown}`}`;
}

/** The scheme of `<scheme>://…`, lower-cased; undefined for anything else (a file path). */
export function schemeOf(text: string): string | undefined {
  return /^([a-z][a-z0-9+.-]*):\/\//i.exec(text)?.[1]?.toLowerCase();
}
