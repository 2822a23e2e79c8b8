// Building the page without HTML strings: every value written by a receiver
// or a person becomes a text node, so it shows as written and never runs.

/** An element: h('a', {href: '#/x', class: 'b', onclick: f}, 'text', child). */
export function h(tag, attrs = {}, ...children) {
  const el = tag.startsWith('svg:')
    ? document.createElementNS('http://www.w3.org/2000/svg', tag.slice(4))
    : document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      el.addEventListener(name.slice(2), value);
    } else if (value === true) {
      el.setAttribute(name, '');
    } else {
      el.setAttribute(name, String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces what `el` holds. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** A time in the browser's zone, UTC on hover. */
export function time(ts) {
  if (!ts) return h('span', {}, '—');
  const d = new Date(ts);
  if (Number.isNaN(d.getTime())) return h('span', {}, ts);
  const local = d.toLocaleString(undefined, {
    year: 'numeric', month: 'short', day: 'numeric',
    hour: '2-digit', minute: '2-digit', second: '2-digit',
  });
  return h('time', {datetime: d.toISOString(), title: `${d.toISOString().replace('.000Z', 'Z')} UTC`}, local);
}

/** JSON text, pretty-printed when it is JSON, else as it is. */
export function pretty(text) {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

/** A labelled field: the label names the control for screen readers. */
let fieldCount = 0;
export function field(label, control, hint) {
  const id = control.id || `f${++fieldCount}`;
  control.id = id;
  const hintId = hint ? `${id}-hint` : undefined;
  if (hintId) control.setAttribute('aria-describedby', hintId);
  return h('div', {class: 'field'},
    h('label', {for: id}, label),
    control,
    hint ? h('small', {id: hintId}, hint) : null);
}

/** A select of [value, text] options. */
export function select(options, value, attrs = {}) {
  return h('select', attrs, options.map(([v, t]) => h('option', {value: v, selected: v === value}, t)));
}

/** A copy button for a value shown once. */
export function copyButton(value, label = 'Copy') {
  const button = h('button', {type: 'button', class: 'quiet'}, label);
  button.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(value);
      button.textContent = 'Copied';
    } catch {
      button.textContent = 'Select the text to copy';
    }
  });
  return button;
}

/** A message box: kind is 'error', 'ok' or 'info'. */
export function note(kind, ...children) {
  return h('div', {class: `note ${kind}`, role: kind === 'error' ? 'alert' : 'status'}, ...children);
}

/** A modal dialog with a form; resolves with the form's values or null. */
export function ask(title, fields, confirm, danger = false) {
  return new Promise((resolve) => {
    const form = h('form', {method: 'dialog'},
      h('h2', {}, title), ...fields,
      h('div', {class: 'actions'},
        h('button', {type: 'button', value: 'cancel', class: 'quiet'}, 'Cancel'),
        h('button', {type: 'submit', class: danger ? 'danger' : ''}, confirm)));
    const dialog = h('dialog', {'aria-label': title}, form);
    const done = (value) => { dialog.close(); dialog.remove(); resolve(value); };
    form.querySelector('button[value=cancel]').addEventListener('click', () => done(null));
    dialog.addEventListener('cancel', (e) => { e.preventDefault(); done(null); });
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      if (!form.reportValidity()) return;
      done(Object.fromEntries(new FormData(form)));
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}
