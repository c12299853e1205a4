import { ApiError, getJson, type SessionJson, sendJson } from './api.js';
import { Observable } from './observable.js';

export interface Session {
  /** False until /api/session has answered (or failed). */
  loaded: boolean;
  /** Whether this hbd has logins at all (an older one answers /api/session with 404). */
  logins: boolean;
  user: string | null;
  role: 'viewer' | 'admin' | null;
  csrf: string | null;
  readAccess: 'public' | 'login';
  /** Reads were refused: the page shows the login form instead. */
  needLogin: boolean;
}

export const session = new Observable<Session>({
  loaded: false,
  logins: false,
  user: null,
  role: null,
  csrf: null,
  readAccess: 'public',
  needLogin: false,
});

const TOKEN_KEY = 'hbd.api_token';

export async function loadSession(): Promise<void> {
  try {
    const answer = await getJson<SessionJson>('/api/session');
    session.set({
      loaded: true,
      logins: answer.logins,
      user: answer.user,
      role: answer.role,
      csrf: answer.csrf,
      readAccess: answer.read_access,
      needLogin: answer.read_access === 'login' && answer.user === null,
    });
  } catch (error) {
    const status = error instanceof ApiError ? error.status : 0;
    session.set({
      ...session.value,
      loaded: true,
      // 404: an hbd without logins, where every read is public.
      logins: status !== 404 && status !== 0,
      needLogin: status === 401,
    });
  }
}

/** A read came back 401: the session expired, or reads need a login. */
export function readRefused(): void {
  if (!session.value.needLogin) session.set({ ...session.value, needLogin: true, user: null, csrf: null });
}

export async function login(user: string, password: string): Promise<void> {
  const answer = await sendJson<{ user: string; role: 'viewer' | 'admin'; csrf: string }>(
    'POST',
    '/api/login',
    { user, password },
  );
  session.set({
    ...session.value,
    loaded: true,
    logins: true,
    user: answer.user,
    role: answer.role,
    csrf: answer.csrf,
    needLogin: false,
  });
}

export async function logout(): Promise<void> {
  try {
    await sendJson('POST', '/api/logout', undefined, csrfHeader());
  } finally {
    await loadSession();
  }
}

/** An admin session writes with its CSRF token; anyone else needs the API token. */
export function writesNeedToken(): boolean {
  const { role, csrf } = session.value;
  return !(role === 'admin' && csrf !== null);
}

/** Kept for this tab only: closing it forgets the token. */
export function storedToken(): string {
  return sessionStorage.getItem(TOKEN_KEY) ?? '';
}

export function storeToken(token: string | null): void {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

/** The headers that authorise a write call. */
export function writeHeaders(token: string): Record<string, string> {
  if (!writesNeedToken()) return csrfHeader();
  return token ? { authorization: `Bearer ${token}` } : {};
}

function csrfHeader(): Record<string, string> {
  const { csrf } = session.value;
  return csrf ? { 'X-CSRF-Token': csrf } : {};
}
