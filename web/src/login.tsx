import { useState } from 'preact/hooks';
import { ApiError } from './api.js';
import { TextField, useSubmit } from './form.js';
import { login, session } from './session.js';

export function LoginPage() {
  const [user, setUser] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const canCancel = session.value.readAccess === 'public' && session.value.loaded;

  const { busy, submit } = useSubmit(async () => {
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
    }
  });

  return (
    <main class="login">
      <form class="login-form" onSubmit={submit}>
        <h1>hbd</h1>
        <p>Log in to see the fleet.</p>
        <TextField label="User" name="user" autocomplete="username" required value={user} onValue={setUser} />
        <TextField
          label="Password"
          name="password"
          type="password"
          autocomplete="current-password"
          required
          value={password}
          onValue={setPassword}
        />
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
