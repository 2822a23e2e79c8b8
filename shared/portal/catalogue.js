// The catalogue: every webhook type and version with its schema and a
// sample body, and how to verify a signature.
import {get} from './api.js';
import {h, fill, pretty} from './dom.js';

const VERIFY = [
  ['Python', 'pip install standardwebhooks', `from standardwebhooks.webhooks import Webhook

wh = Webhook(signing_secret)          # "whsec_…"
# raw_body: the request body's bytes, before any JSON parsing
payload = wh.verify(raw_body, request.headers)  # raises on a bad signature`],
  ['Node', 'npm install standardwebhooks', `import { Webhook } from "standardwebhooks";

const wh = new Webhook(signingSecret);      // "whsec_…"
// rawBody: the body as received (a string or Buffer), not re-serialised
const payload = wh.verify(rawBody, req.headers); // throws on a bad signature`],
  ['Rust', 'cargo add standardwebhooks', `use standardwebhooks::Webhook;

let wh = Webhook::new(&signing_secret)?;    // "whsec_…"
// body: the raw bytes; headers: the request's http::HeaderMap
wh.verify(&body, &headers)?;                // Err on a bad signature`],
];

export async function show(main) {
  document.title = 'Catalogue · hubhooks portal';
  const types = (await get('/v1/event-types')).data;
  fill(main,
    h('h1', {}, 'Catalogue'),
    h('section', {class: 'panel', 'aria-labelledby': 'verify'},
      h('h2', {id: 'verify'}, 'Verifying a signature'),
      h('p', {}, 'Every webhook carries webhook-id, webhook-timestamp and webhook-signature (Standard Webhooks). Verify over the raw body with your subscription\'s signing secret, and refuse a timestamp older than 5 minutes.'),
      VERIFY.map(([lang, install, code]) => h('details', {},
        h('summary', {}, lang),
        h('pre', {}, h('code', {}, install)),
        h('pre', {}, h('code', {}, code))))),
    h('h2', {}, 'Webhook types'),
    types.map((t) => h('section', {class: 'panel type', id: `type-${t.name}`},
      h('h3', {}, t.name),
      t.versions.map((v) => h('details', {},
        h('summary', {}, v.version, v.deprecated ? ' (deprecated)' : ''),
        h('h4', {}, 'Sample body'),
        h('pre', {class: 'body'}, pretty(JSON.stringify(v.sample))),
        h('h4', {}, 'Schema'),
        h('pre', {class: 'body'}, JSON.stringify(v.schema, null, 2)))))));
}
