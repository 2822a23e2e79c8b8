// Subscriptions: the list with each one's state, one subscription with its
// actions (test, rotate, disable, enable, delete), and the form.
import {all, call, get, post} from './api.js';
import {h, fill, field, select, time, note, ask, copyButton} from './dom.js';

const METHODS = ['POST', 'PUT', 'PATCH', 'GET', 'DELETE'];
let typesCache = null;

/** The catalogue's types with their versions, newest first. */
export async function eventTypes() {
  typesCache ||= (await get('/v1/event-types')).data;
  return typesCache;
}

/** A subscription's state, in words. */
export function state(s) {
  if (!s.enabled) {
    return h('span', {class: 'state off'}, 'Disabled',
      s.disabledReason ? h('span', {class: 'why'}, `: ${s.disabledReason}`) : null,
      s.disabledAt ? [' · ', time(s.disabledAt)] : null);
  }
  if (s.failingSince) {
    return h('span', {class: 'state failing'}, 'Failing since ', time(s.failingSince));
  }
  return h('span', {class: 'state on'}, 'Active');
}

function destinationText(s) {
  const d = s.destination;
  if (!d) return 'per type';
  if (d.url) return `${d.method} ${d.url}`;
  return `AMQP exchange "${d.exchange || ''}", routing key "${d.routingKey}"`;
}

function typesText(s) {
  const version = s.version || 'v3';
  return s.eventTypes.map((t) => `${t} ${s.perType?.[t]?.version || version}`).join(', ');
}

export async function list(main) {
  const subs = await all('/v1/subscriptions');
  document.title = 'Subscriptions · hubhooks portal';
  fill(main,
    h('div', {class: 'head'},
      h('h1', {}, 'Subscriptions'),
      h('a', {class: 'button', href: '#/subscriptions/new'}, 'Add a subscription')),
    subs.length === 0
      ? note('info', 'No subscriptions yet. Add one to receive webhooks.')
      : h('ul', {class: 'cards', 'aria-label': 'Subscriptions'}, subs.map((s) =>
        h('li', {class: 'card', 'data-id': s.id},
          h('h2', {}, h('a', {href: `#/subscriptions/${encodeURIComponent(s.id)}`}, s.description || s.id)),
          h('p', {class: 'muted'}, s.id),
          h('p', {}, state(s)),
          h('p', {class: 'wrap'}, destinationText(s)),
          h('p', {class: 'muted'}, typesText(s))))));
}

export async function show(main, id) {
  const path = `/v1/subscriptions/${encodeURIComponent(id)}`;
  const s = await get(path);
  document.title = `${s.description || s.id} · hubhooks portal`;
  const result = h('div', {class: 'result'});
  const rerender = () => show(main, id);
  const act = async (fn) => {
    try { await fn(); } catch (e) { fill(result, note('error', e.message)); }
  };
  const headers = Object.entries(s.destination?.headers || {});
  fill(main,
    h('p', {}, h('a', {href: '#/subscriptions'}, '← Subscriptions')),
    h('h1', {}, s.description || s.id),
    h('dl', {class: 'facts'},
      h('dt', {}, 'Id'), h('dd', {}, s.id),
      h('dt', {}, 'State'), h('dd', {id: 'state'}, state(s)),
      h('dt', {}, 'Event types'), h('dd', {}, typesText(s)),
      h('dt', {}, 'Destination'), h('dd', {class: 'wrap'}, destinationText(s)),
      headers.length ? [h('dt', {}, 'Headers'), h('dd', {}, h('ul', {class: 'plain'},
        headers.map(([k, v]) => h('li', {}, h('code', {}, `${k}: ${v}`)))))] : null,
      s.transitions?.length ? [h('dt', {}, 'Transitions'), h('dd', {}, s.transitions
        .map((t) => `${t.from || 'any'} → ${t.to || 'any'}`).join('; '))] : null,
      s.filter ? [h('dt', {}, 'Filter'), h('dd', {class: 'wrap'}, h('code', {}, JSON.stringify(s.filter)))] : null,
      s.retry ? [h('dt', {}, 'Retries'), h('dd', {}, `after ${s.retry.map((d) => `${d} s`).join(', ')} (${s.retry.length + 1} attempts)`)] : null,
      h('dt', {}, 'Authentication'), h('dd', {}, [
        !s.auth.signing ? 'Not signed'
          : s.signature?.format === 'hmacSha256'
            ? `Signed: ${s.signature.header}: ${s.signature.prefix}<HMAC-SHA256 of the body, ${s.signature.encoding}>`
            : 'Signed (Standard Webhooks)',
        s.auth.bearerToken ? ', Authorization: Bearer' : '',
        s.auth.oauth2 ? `, Authorization: Bearer (OAuth2 token from ${s.auth.oauth2.tokenUrl})` : '',
        s.auth.mtls ? ', a client certificate (mutual TLS)' : '',
        s.auth.xToken ? ', X-Token' : ''].join(''))),
    h('div', {class: 'actions'},
      h('a', {class: 'button', href: `#/subscriptions/${encodeURIComponent(id)}/edit`}, 'Edit'),
      h('button', {type: 'button', onclick: () => act(() => sendTest(path, result))}, 'Send a test'),
      h('button', {type: 'button', onclick: () => act(() => rotate(path, result))}, 'Rotate the signing secret'),
      s.enabled
        ? h('button', {type: 'button', onclick: () => act(() => disable(path, rerender))}, 'Disable')
        : h('button', {type: 'button', onclick: () => act(async () => { await post(`${path}/enable`); await rerender(); })}, 'Enable'),
      h('a', {class: 'button quiet', href: `#/deliveries?subscription=${encodeURIComponent(id)}`}, 'Its deliveries'),
      h('button', {type: 'button', class: 'danger', onclick: () => act(() => remove(path, s))}, 'Delete')),
    result);
}

async function sendTest(path, result) {
  fill(result, h('p', {class: 'loading'}, 'Sending a test…'));
  const t = await post(`${path}/test`, {});
  const a = t.attempt;
  fill(result, h('section', {class: 'panel', 'aria-label': 'Test result'},
    h('h2', {}, 'Test sent'),
    a ? [
      h('p', {}, `${a.outcome}`, a.status ? ` · HTTP ${a.status}` : '', a.durationMs !== null ? ` · ${a.durationMs} ms` : ''),
      a.error ? note('error', a.error) : null,
      h('h3', {}, 'The receiver answered'),
      h('pre', {class: 'answer'}, a.answer || '(an empty body)'),
    ] : h('p', {}, 'The sender has not made its attempt yet; it will show in Deliveries.'),
    h('p', {}, h('a', {href: `#/deliveries/${encodeURIComponent(t.deliveryId)}`}, 'See the delivery'))));
}

async function rotate(path, result) {
  const answer = await ask('Rotate the signing secret', [
    field('Grace period (hours)', h('input', {name: 'hours', type: 'number', min: '0', max: '168', value: '24', required: true}),
      'The current secret goes on signing beside the new one for this long (at most 7 days).'),
  ], 'Rotate');
  if (!answer) return;
  const r = await post(`${path}/secret/rotate`, {graceSeconds: Math.round(Number(answer.hours) * 3600)});
  fill(result, h('section', {class: 'panel secret', 'aria-label': 'New signing secret'},
    h('h2', {}, 'The new signing secret'),
    note('info', 'It is shown this once: store it in your receiver now.'),
    h('div', {class: 'copy'}, h('code', {id: 'new-secret'}, r.signingSecret), copyButton(r.signingSecret)),
    r.previousKeyRetiresAt
      ? h('p', {}, 'The previous secret signs too until ', time(r.previousKeyRetiresAt), '.')
      : h('p', {}, 'There was no previous secret.')));
}

async function disable(path, rerender) {
  const answer = await ask('Disable the subscription', [
    field('Reason', h('input', {name: 'reason', required: true, maxlength: '500'}),
      'Shown with the subscription while it is disabled.'),
  ], 'Disable');
  if (!answer) return;
  await post(`${path}/disable`, {reason: answer.reason});
  await rerender();
}

async function remove(path, s) {
  const answer = await ask(`Delete ${s.description || s.id}?`, [
    h('p', {}, 'Webhooks stop at once; its secrets are deleted. This cannot be undone.'),
  ], 'Delete', true);
  if (!answer) return;
  await call('DELETE', path);
  location.hash = '#/subscriptions';
}

/** A list of rows the user adds to and removes from. */
function rows(title, make, initial) {
  const list = h('div', {class: 'rows'});
  const add = (value) => {
    const row = h('div', {class: 'row'}, make(value),
      h('button', {type: 'button', class: 'quiet', 'aria-label': `Remove this ${title}`, onclick: () => row.remove()}, 'Remove'));
    list.append(row);
  };
  initial.forEach(add);
  return h('fieldset', {}, h('legend', {}, `${title[0].toUpperCase()}${title.slice(1)}s`), list,
    h('button', {type: 'button', class: 'quiet', onclick: () => add(null)}, `Add a ${title}`));
}

export async function edit(main, id) {
  const path = id ? `/v1/subscriptions/${encodeURIComponent(id)}` : null;
  const [types, s] = await Promise.all([eventTypes(), path ? get(path) : null]);
  document.title = `${id ? 'Edit' : 'Add'} a subscription · hubhooks portal`;
  if (s && s.destination && !s.destination.url) {
    fill(main, note('info', 'This subscription delivers to an AMQP broker; your hub operator changes it.'));
    return;
  }
  const chosen = new Set(s?.eventTypes || []);
  const version = s?.version || 'v3';
  const description = h('input', {name: 'description', value: s?.description || '', maxlength: '200'});
  const method = select(METHODS.map((m) => [m, m]), s?.destination?.method || 'POST', {name: 'method'});
  const url = h('input', {name: 'url', type: 'url', required: true, value: s?.destination?.url || '', placeholder: 'https://receiver.example/hooks'});
  const defaultVersion = select([['v3', 'v3 (current)'], ['v2', 'v2'], ['v1', 'v1']], version, {name: 'version'});
  const picks = types.map((t) => {
    const box = h('input', {type: 'checkbox', name: 'type', value: t.name, checked: chosen.has(t.name)});
    const own = s?.perType?.[t.name]?.version || '';
    const versions = select([['', 'default version'], ...t.versions.map((v) => [v.version, `${v.version}${v.deprecated ? ' (deprecated)' : ''}`])],
      own, {'aria-label': `Version of ${t.name}`, 'data-type': t.name});
    return h('div', {class: 'pick'}, h('label', {}, box, ` ${t.name}`), versions);
  });
  const transitions = rows('transition rule', (t) => h('span', {class: 'pair'},
    field('From', h('input', {class: 'from', value: t?.from || '', placeholder: 'any'})),
    field('To', h('input', {class: 'to', value: t?.to || '', placeholder: 'any'}))), s?.transitions || []);
  const headerRows = rows('header', (kv) => h('span', {class: 'pair'},
    field('Name', h('input', {class: 'name', value: kv?.[0] || '', required: true})),
    field('Value', h('input', {class: 'value', value: kv?.[1] || ''}))), Object.entries(s?.destination?.headers || {}));
  const authKind = select([['keep', s ? 'Keep as it is' : 'Signature only'], ['bearerToken', 'Authorization: Bearer token'], ['xToken', 'X-Token header']], 'keep', {name: 'authKind'});
  const token = h('input', {name: 'token', type: 'password', autocomplete: 'off'});
  const status = h('div', {class: 'result'});
  const form = h('form', {class: 'form', novalidate: true},
    field('Description', description),
    h('fieldset', {}, h('legend', {}, 'Destination'), field('Method', method), field('URL', url)),
    h('fieldset', {}, h('legend', {}, 'Event types'), field('Default version', defaultVersion), h('div', {class: 'picks'}, picks)),
    h('div', {class: 'transitions'}, transitions,
      h('small', {}, 'For statusTransition: it fires when any rule matches (keys after your status mapping).')),
    headerRows,
    h('fieldset', {}, h('legend', {}, 'Authentication'),
      h('p', {class: 'muted'}, 'Every webhook is signed (Standard Webhooks); a token can be sent too.'),
      field('Token', authKind), field('Token value', token, 'Write-only: it is stored as a secret and never shown.')),
    h('div', {class: 'actions'},
      h('button', {type: 'submit'}, id ? 'Save' : 'Add the subscription'),
      h('a', {class: 'button quiet', href: id ? `#/subscriptions/${encodeURIComponent(id)}` : '#/subscriptions'}, 'Cancel')),
    status);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const input = read(form, s);
    if (typeof input === 'string') {
      fill(status, note('error', input));
      return;
    }
    try {
      if (id) {
        await call('PATCH', path, input);
        location.hash = `#/subscriptions/${encodeURIComponent(id)}`;
      } else {
        const made = await post('/v1/subscriptions', input);
        created(main, made);
      }
    } catch (err) {
      fill(status, note('error', err.pointer ? `${err.pointer}: ${err.message}` : err.message));
    }
  });
  // Transition rules apply to statusTransition only: shown when it is chosen.
  const rules = form.querySelector('.transitions');
  const transitionBox = form.querySelector('input[name=type][value=statusTransition]');
  const showRules = () => { rules.hidden = !(transitionBox && transitionBox.checked); };
  transitionBox?.addEventListener('change', showRules);
  showRules();
  fill(main, h('p', {}, h('a', {href: '#/subscriptions'}, '← Subscriptions')),
    h('h1', {}, id ? `Edit ${s.description || s.id}` : 'Add a subscription'), form);
}

/** The form's values as the API's input (a merge patch when editing), or
 * what is missing. */
function read(form, s) {
  const v = (sel) => form.querySelector(sel).value.trim();
  const types = [...form.querySelectorAll('input[name=type]:checked')].map((b) => b.value);
  if (!v('input[name=url]')) return 'Give the destination URL.';
  if (types.length === 0) return 'Choose at least one event type.';
  const headers = {};
  for (const row of form.querySelectorAll('.rows .name')) {
    const name = row.value.trim();
    if (name) headers[name] = row.closest('.pair').querySelector('.value').value;
  }
  for (const old of Object.keys(s?.destination?.headers || {})) {
    if (!(old in headers)) headers[old] = null;
  }
  const perType = {};
  for (const pick of form.querySelectorAll('select[data-type]')) {
    const t = pick.dataset.type;
    if (pick.value) perType[t] = {version: pick.value};
    else if (s?.perType?.[t]?.version) perType[t] = {version: null};
  }
  const transitions = [...form.querySelectorAll('.transitions .row')].map((row) => {
    const from = row.querySelector('.from').value.trim();
    const to = row.querySelector('.to').value.trim();
    return {...(from ? {from} : {}), ...(to ? {to} : {})};
  }).filter((t) => t.from || t.to);
  const input = {
    description: v('input[name=description]') || null,
    eventTypes: types,
    version: form.querySelector('select[name=version]').value,
    destination: {method: form.querySelector('select[name=method]').value, url: v('input[name=url]'), headers},
    transitions,
  };
  if (Object.keys(perType).length) input.perType = perType;
  const kind = form.querySelector('select[name=authKind]').value;
  const token = form.querySelector('input[name=token]').value;
  if (kind !== 'keep') {
    if (!token) return 'Give the token value, or keep the authentication as it is.';
    input.auth = {[kind]: token};
  }
  if (!s) {
    for (const [k, val] of Object.entries(input.destination.headers)) if (val === null) delete input.destination.headers[k];
  }
  return input;
}

function created(main, made) {
  fill(main,
    h('p', {}, h('a', {href: '#/subscriptions'}, '← Subscriptions')),
    h('h1', {}, 'Subscription added'),
    note('ok', `${made.description || made.id} sends from now on.`),
    h('section', {class: 'panel secret', 'aria-label': 'Signing secret'},
      h('h2', {}, 'Its signing secret'),
      note('info', 'It is shown this once: store it in your receiver now to verify signatures.'),
      h('div', {class: 'copy'}, h('code', {id: 'new-secret'}, made.signingSecret), copyButton(made.signingSecret))),
    h('p', {}, h('a', {class: 'button', href: `#/subscriptions/${encodeURIComponent(made.id)}`}, 'Open the subscription')));
}
