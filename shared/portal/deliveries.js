// Deliveries: a search (event type, outcome, case, time window), one
// delivery with its request and attempts, resend, and a window's replay
// with its dry-run count first.
import {all, get, post} from './api.js';
import {h, fill, field, select, time, note, pretty, ask} from './dom.js';
import {eventTypes} from './subscriptions.js';

const OUTCOMES = [['', 'any outcome'], ['delivered', 'delivered'], ['failed', 'failed (any)'],
  ['retrying', 'retrying'], ['deadLettered', 'dead-lettered'], ['refused', 'refused'], ['gone', 'gone']];

/** A datetime-local value (the browser's zone) as RFC 3339. */
function rfc3339(local) {
  return local ? new Date(local).toISOString() : '';
}

function localValue(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export async function list(main, q) {
  const [types, subs] = await Promise.all([eventTypes(), all('/v1/subscriptions')]);
  document.title = 'Deliveries · hubhooks portal';
  const query = new URLSearchParams();
  for (const k of ['subscription', 'eventType', 'outcome', 'case', 'since', 'until', 'cursor']) {
    if (q.get(k)) query.set(k, q.get(k));
  }
  query.set('limit', '50');
  const results = h('div', {'aria-live': 'polite'}, h('p', {class: 'loading'}, 'Loading deliveries…'));
  const subOptions = [['', 'every subscription'], ...subs.map((s) => [s.id, s.description || s.id])];
  const form = h('form', {class: 'filters', role: 'search'},
    field('Subscription', select(subOptions, q.get('subscription') || '', {name: 'subscription'})),
    field('Event type', select([['', 'any type'], ...types.map((t) => [t.name, t.name])], q.get('eventType') || '', {name: 'eventType'})),
    field('Outcome', select(OUTCOMES, q.get('outcome') || '', {name: 'outcome'})),
    field('Case', h('input', {name: 'case', value: q.get('case') || '', placeholder: 'case GUID'})),
    field('Since', h('input', {name: 'since', type: 'datetime-local', value: localValue(q.get('since'))})),
    field('Until', h('input', {name: 'until', type: 'datetime-local', value: localValue(q.get('until'))})),
    h('div', {class: 'actions'}, h('button', {type: 'submit'}, 'Search')));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const next = new URLSearchParams();
    for (const [k, val] of new FormData(form)) {
      const value = k === 'since' || k === 'until' ? rfc3339(val) : val.trim();
      if (value) next.set(k, value);
    }
    location.hash = `#/deliveries?${next}`;
  });
  fill(main, h('h1', {}, 'Deliveries'), form, results,
    replayPanel(subs, q.get('subscription')));
  try {
    const page = await get(`/v1/deliveries?${query}`);
    fill(results, page.data.length === 0
      ? note('info', 'No deliveries match.')
      : table(page.data),
    page.nextCursor ? h('p', {}, h('a', {href: `#/deliveries?${withCursor(q, page.nextCursor)}`}, 'Older deliveries →')) : null);
  } catch (e) {
    fill(results, note('error', e.message));
  }
}

function withCursor(q, cursor) {
  const next = new URLSearchParams(q);
  next.set('cursor', cursor);
  return next;
}

function table(rows) {
  return h('div', {class: 'scroll'}, h('table', {class: 'deliveries'},
    h('thead', {}, h('tr', {}, ['Last attempt', 'Event type', 'Outcome', 'Attempts', 'Case', ''].map((c) => h('th', {scope: 'col'}, c)))),
    h('tbody', {}, rows.map((d) => h('tr', {'data-id': d.id},
      h('td', {}, time(d.lastAttemptAt)),
      h('td', {}, d.eventType, d.test ? h('span', {class: 'tag'}, 'test') : null),
      h('td', {}, h('span', {class: `outcome ${d.outcome}`}, d.outcome), d.status ? ` ${d.status}` : ''),
      h('td', {}, String(d.attempts)),
      h('td', {class: 'wrap'}, d.caseGuid || '—'),
      h('td', {}, h('a', {href: `#/deliveries/${encodeURIComponent(d.id)}`, 'aria-label': `Delivery ${d.id}`}, 'Open')))))));
}

/** Replays a window of one subscription: the count first, then the send. */
function replayPanel(subs, chosen) {
  const out = h('div', {class: 'result', 'aria-live': 'polite'});
  const hourAgo = new Date(Date.now() - 3600 * 1000).toISOString();
  const form = h('form', {class: 'filters'},
    field('Subscription', select(subs.map((s) => [s.id, s.description || s.id]), chosen || subs[0]?.id, {name: 'subscription', required: true})),
    field('Since', h('input', {name: 'since', type: 'datetime-local', required: true, value: localValue(hourAgo)})),
    field('Until', h('input', {name: 'until', type: 'datetime-local'}), 'Empty: now.'),
    h('div', {class: 'field check'}, h('label', {}, h('input', {type: 'checkbox', name: 'failedOnly', checked: true}), ' Only those that never succeeded')),
    h('div', {class: 'actions'}, h('button', {type: 'submit'}, 'Count the deliveries')));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = new FormData(form);
    const body = {since: rfc3339(f.get('since')), failedOnly: f.get('failedOnly') === 'on'};
    if (f.get('until')) body.until = rfc3339(f.get('until'));
    const path = `/v1/subscriptions/${encodeURIComponent(f.get('subscription'))}/replay`;
    try {
      const dry = await post(path, {...body, dryRun: true});
      const go = async () => {
        const answer = await ask(`Send ${dry.selected} deliveries again?`, [h('p', {}, 'Each goes out with its original id, so receivers can tell a repeat.')], 'Send them');
        if (!answer) return;
        try {
          const done = await post(path, body);
          fill(out, note('ok', `${done.replayed} deliveries sent again.`));
        } catch (err) { fill(out, note('error', err.message)); }
      };
      fill(out, note('info', `${dry.selected} deliveries in this window`,
        dry.testsSkipped ? ` (${dry.testsSkipped} test sends left out)` : '',
        dry.withoutEnvelope ? `; ${dry.withoutEnvelope} cannot be sent again (no body kept)` : '', '.'),
      dry.selected > 0 ? h('button', {type: 'button', onclick: go}, `Replay ${dry.selected} deliveries`) : null);
    } catch (err) {
      fill(out, note('error', err.pointer ? `${err.pointer}: ${err.message}` : err.message));
    }
  });
  if (subs.length === 0) return null;
  return h('section', {class: 'panel', 'aria-labelledby': 'replay-title'},
    h('h2', {id: 'replay-title'}, 'Replay a window'),
    h('p', {class: 'muted'}, 'After fixing your receiver: send a window of deliveries again.'), form, out);
}

export async function show(main, id) {
  const d = await get(`/v1/deliveries/${encodeURIComponent(id)}`);
  document.title = `Delivery ${id} · hubhooks portal`;
  const result = h('div', {class: 'result', 'aria-live': 'polite'});
  const resend = async () => {
    try {
      const r = await post(`/v1/deliveries/${encodeURIComponent(id)}/resend`);
      fill(result, note('ok', `Sent again (attempt ${r.priorAttempts + 1}). It shows here once the sender has tried it.`));
    } catch (e) { fill(result, note('error', e.message)); }
  };
  const req = d.request;
  fill(main,
    h('p', {}, h('a', {href: '#/deliveries'}, '← Deliveries')),
    h('h1', {}, `${d.eventType} delivery`),
    h('dl', {class: 'facts'},
      h('dt', {}, 'Id'), h('dd', {}, d.id),
      h('dt', {}, 'Outcome'), h('dd', {}, h('span', {class: `outcome ${d.outcome}`}, d.outcome), d.test ? h('span', {class: 'tag'}, 'test') : null),
      h('dt', {}, 'Subscription'), h('dd', {}, h('a', {href: `#/subscriptions/${encodeURIComponent(d.subscriptionId)}`}, d.subscriptionId)),
      h('dt', {}, 'Case'), h('dd', {}, d.caseGuid || '—'),
      h('dt', {}, 'First attempt'), h('dd', {}, time(d.firstAttemptAt))),
    d.test ? null : h('div', {class: 'actions'}, h('button', {type: 'button', onclick: resend}, 'Resend')),
    result,
    h('h2', {}, 'Request'),
    req ? h('section', {class: 'panel'},
      h('p', {class: 'wrap'}, h('code', {}, `${req.method} ${req.target}`)),
      h('div', {class: 'scroll'}, h('table', {class: 'headers', 'aria-label': 'Request headers'},
        h('tbody', {}, req.headers.map((x) => h('tr', {}, h('th', {scope: 'row'}, x.name), h('td', {}, x.value)))))),
      h('h3', {}, 'Body'),
      h('pre', {class: 'body'}, req.body === undefined || req.body === null ? '(stored aside: over the queue\'s size)' : pretty(req.body)))
      : note('info', 'The attempt log kept no request for this delivery.'),
    h('h2', {}, 'Attempts'),
    h('ol', {class: 'attempts'}, d.attemptLog.map((a) => h('li', {class: 'panel'},
      h('p', {}, h('strong', {}, `Attempt ${a.attempt}`), ' · ', time(a.at), ' · ',
        h('span', {class: `outcome ${a.outcome}`}, a.outcome),
        a.status ? ` · HTTP ${a.status}` : '', a.durationMs !== null && a.durationMs !== undefined ? ` · ${a.durationMs} ms` : ''),
      a.error ? h('p', {class: 'error-text'}, a.error) : null,
      h('h3', {}, 'Answer'),
      h('pre', {class: 'answer'}, a.answer ? pretty(a.answer) : '(none)')))));
}
