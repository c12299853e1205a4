import { useEffect } from 'preact/hooks';
import { useNow } from './clock.js';
import { EventsPage } from './events-page.js';
import { retryNow, startFeed, stopFeed } from './feed.js';
import { fleet } from './fleet.js';
import { FleetPage } from './fleet-page.js';
import { HostPage } from './host-page.js';
import { LoginPage } from './login.js';
import { NotifyPage } from './notify-page.js';
import { useObservable, useSelect } from './observable.js';
import { type Route, useRoute } from './route.js';
import { logout, session } from './session.js';

export function App() {
  const route = useRoute();
  const { loaded, needLogin } = useObservable(session);

  // Connecting does not wait for /api/session: when reads are public, the snapshot comes a round trip sooner.
  useEffect(() => {
    if (needLogin) stopFeed();
    else startFeed();
  }, [needLogin]);

  if (!loaded) return <p class="empty">Loading…</p>;
  if (needLogin) return <LoginPage />;
  return (
    <div class="shell">
      <ConnectionBanner />
      <header class="top">
        <a class="brand" href="#/">
          hbd
        </a>
        <nav>
          <NavLink route={route} page="fleet" href="#/" label="Fleet" />
          <NavLink route={route} page="events" href="#/events" label="Events" />
          <NavLink route={route} page="notify" href="#/notify" label="Notifications" />
        </nav>
        <UserBox />
      </header>
      <main class={`page page-${route.page}`}>
        {route.page === 'host' ? (
          <HostPage key={route.name} name={route.name} />
        ) : route.page === 'events' ? (
          <EventsPage />
        ) : route.page === 'notify' ? (
          <NotifyPage />
        ) : (
          <FleetPage />
        )}
      </main>
    </div>
  );
}

function NavLink({
  route,
  page,
  href,
  label,
}: {
  route: Route;
  page: Route['page'];
  href: string;
  label: string;
}) {
  const current = route.page === page || (page === 'fleet' && route.page === 'host');
  return (
    <a class="tab" href={href} aria-current={current ? 'page' : undefined}>
      {label}
    </a>
  );
}

function UserBox() {
  const { user, role, logins } = useObservable(session);
  if (user) {
    return (
      <div class="user">
        <span class="user-name">
          {user} <small>({role})</small>
        </span>
        <button type="button" onClick={() => void logout()}>
          Log out
        </button>
      </div>
    );
  }
  if (!logins) return null;
  return (
    <div class="user">
      <button type="button" onClick={() => session.set({ ...session.value, needLogin: true })}>
        Log in
      </button>
    </div>
  );
}

/** While the feed is down the page says so, and what it shows may be out of date. */
function ConnectionBanner() {
  const connection = useSelect(fleet, (state) => state.connection);
  const now = useNow();
  if (connection.state === 'open' || (connection.state === 'connecting' && connection.attempt === 0))
    return null;
  const when =
    connection.state === 'closed'
      ? `reconnecting in ${Math.max(0, Math.ceil((connection.retryAt - now) / 1000))} s`
      : 'reconnecting…';
  return (
    <div class="banner" id="connection-banner" role="alert">
      <span>Disconnected from hbd: what you see may be out of date; {when}.</span>
      <button type="button" onClick={retryNow}>
        Retry now
      </button>
    </div>
  );
}
