// The portal's shell: opens a link or finds the session, then shows the
// page the address names (#/subscriptions, #/deliveries/…, …).
import {call, get} from './api.js';
import {h, fill, note, time} from './dom.js';
import * as subscriptions from './subscriptions.js';
import * as deliveries from './deliveries.js';
import * as chart from './chart.js';
import * as catalogue from './catalogue.js';

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const who = document.getElementById('who');
const signout = document.getElementById('signout');

const REFUSED = {
  expired: 'This portal link has expired.',
  used: 'This portal link was used already: each link opens the portal once.',
  invalid: 'This is not a valid portal link.',
};

/** A page that says why the portal cannot open, and what to do. */
function closed(title, detail) {
  nav.hidden = true;
  signout.hidden = true;
  fill(who);
  fill(main,
    h('section', {class: 'closed'},
      h('h1', {}, title),
      h('p', {}, detail),
      h('p', {}, 'Ask your hub operator for a new portal link.')));
  document.title = `${title} · hubhooks portal`;
}

/** Opens the link in the address (its key is in the fragment). */
async function openLink() {
  const link = decodeURIComponent(location.hash.slice(1));
  // The key leaves the address bar and the history at once.
  history.replaceState(null, '', '/portal/#/subscriptions');
  try {
    return await call('POST', '/portal/session', {link});
  } catch (e) {
    const code = (e.pointer || '').split('/').pop();
    closed('This link does not open the portal', REFUSED[code] || e.message);
    return null;
  }
}

const ROUTES = [
  [/^#\/subscriptions\/new$/, () => subscriptions.edit(main, null)],
  [/^#\/subscriptions\/([^/]+)\/edit$/, (id) => subscriptions.edit(main, id)],
  [/^#\/subscriptions\/([^/]+)$/, (id) => subscriptions.show(main, id)],
  [/^#\/deliveries\/([^/?]+)$/, (id) => deliveries.show(main, id)],
  [/^#\/deliveries(\?.*)?$/, (q) => deliveries.list(main, new URLSearchParams((q || '').slice(1)))],
  [/^#\/activity$/, () => chart.show(main)],
  [/^#\/catalogue$/, () => catalogue.show(main)],
];

async function route() {
  const hash = location.hash || '#/subscriptions';
  for (const a of nav.querySelectorAll('a')) {
    a.toggleAttribute('aria-current', hash.startsWith(a.getAttribute('href')));
  }
  const found = ROUTES.find(([re]) => re.test(hash));
  fill(main, h('p', {class: 'loading'}, 'Loading…'));
  try {
    if (!found) {
      await subscriptions.list(main);
    } else {
      const [re, render] = found;
      const args = hash.match(re).slice(1).map((a) => (a === undefined ? a : decodeURIComponent(a)));
      await render(...args);
    }
  } catch (e) {
    fill(main, note('error', `Could not load this page: ${e.message}`),
      h('button', {type: 'button', onclick: route}, 'Try again'));
  }
  main.focus({preventScroll: true});
}

async function start() {
  let session = null;
  if (location.pathname.endsWith('/enter')) {
    session = await openLink();
    if (!session) return;
  } else {
    try {
      session = await get('/portal/session');
    } catch (e) {
      if (e.status === 401) {
        closed('You are not signed in', 'The portal opens from a portal link, and a session lasts 8 hours.');
      } else {
        closed('The portal is not available', e.message);
      }
      return;
    }
  }
  const party = `${session.party.type} ${session.party.id}`;
  fill(who, h('span', {}, party), ' · until ', time(session.expiresAt));
  nav.hidden = false;
  signout.hidden = false;
  window.addEventListener('hashchange', route);
  window.addEventListener('session-ended', () =>
    closed('Your session has ended', 'Sessions last 8 hours, and end when you sign out.'));
  signout.addEventListener('click', async () => {
    try { await call('DELETE', '/portal/session'); } catch { /* ended already */ }
    closed('You are signed out', 'Your session was ended.');
  });
  await route();
}

start();
