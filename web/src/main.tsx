import { render } from 'preact';
import { whenUnauthorized } from './api.js';
import { App } from './app.js';
import { startFeed } from './feed.js';
import { loadSession, readRefused } from './session.js';
import './style.css';

whenUnauthorized(readRefused);
// Before the first render, so the snapshot is on its way while the page draws itself.
startFeed();
void loadSession();
render(<App />, document.getElementById('app')!);
