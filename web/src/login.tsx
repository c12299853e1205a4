import { useState } from 'preact/hooks';
import { ApiError } from './api.js';
import { login, session } from './session.js';

export function LoginPage() {
  const [user, setUser] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const canCancel = session.value.readAccess === 'public' && session.value.loaded;

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await login(user, password);
    } catch (failure) {
      setError(
        failure instanceof ApiError && failure.status === 429
          ? 'Too many attempts: wait a minute, then try again.'
          : failure instanceof ApiError && failure.status === 401
            ? 'Wrong user name or password.'
            : `Cannot log in: ${(failure as Error).message}`,
      );
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="login">
      <form class="login-form" onSubmit={submit}>
        <h1>hbd</h1>
        <p>Log in to see the fleet.</p>
        <label>
          User
          <input
            name="user"
            autocomplete="username"
            required
            value={user}
            onInput={(event) => setUser(event.currentTarget.value)}
          />
        </label>
        <label>
          Password
          <input
            name="password"
            type="password"
            autocomplete="current-password"
            required
            value={password}
            onInput={(event) => setPassword(event.currentTarget.value)}
          />
        </label>
        {error && (
          <p class="error-text" role="alert">
            {error}
          </p>
        )}
        <div class="form-actions">
          <button type="submit" class="primary" disabled={busy}>
            {busy ? 'Logging in…' : 'Log in'}
          </button>
          {canCancel && (
            <button type="button" onClick={() => session.set({ ...session.value, needLogin: false })}>
              Cancel
            </button>
          )}
        </div>
      </form>
    </main>
  );
}
