// Activity: deliveries per hour by outcome over the last 7 days, drawn as
// stacked bars (SVG built node by node), and any failure streak.
import {all, get} from './api.js';
import {h, fill, time, note} from './dom.js';

const SERIES = [['delivered', 'Delivered'], ['retrying', 'Retrying'], ['failed', 'Failed']];
const W = 840;
const H = 220;
const PAD = {left: 36, right: 8, top: 10, bottom: 28};

const svg = (tag, attrs, ...children) => h(`svg:${tag}`, attrs, ...children);

/** The chart of `hours` ({hour, delivered, retrying, failed}). */
export function draw(hours) {
  const total = (x) => x.delivered + x.retrying + x.failed;
  const top = Math.max(1, ...hours.map(total));
  const step = (W - PAD.left - PAD.right) / hours.length;
  const y = (n) => PAD.top + (H - PAD.top - PAD.bottom) * (1 - n / top);
  const sums = SERIES.map(([k]) => hours.reduce((s, x) => s + x[k], 0));
  const label = `Deliveries per hour over ${hours.length / 24} days: ${SERIES.map(([, name], i) => `${sums[i]} ${name.toLowerCase()}`).join(', ')}.`;
  const bars = [];
  hours.forEach((x, i) => {
    let base = 0;
    for (const [k, name] of SERIES) {
      if (!x[k]) continue;
      const y0 = y(base);
      const y1 = y(base + x[k]);
      bars.push(svg('rect', {class: `bar ${k}`, x: (PAD.left + i * step).toFixed(2), y: y1.toFixed(2),
        width: Math.max(step - 1, 1).toFixed(2), height: Math.max(y0 - y1, 0.5).toFixed(2)},
      svg('title', {}, `${new Date(x.hour).toLocaleString()}: ${x[k]} ${name.toLowerCase()}`)));
      base += x[k];
    }
  });
  const ticks = [];
  hours.forEach((x, i) => {
    const d = new Date(x.hour);
    if (d.getHours() === 0) {
      const tx = PAD.left + i * step;
      ticks.push(svg('line', {class: 'grid', x1: tx, x2: tx, y1: PAD.top, y2: H - PAD.bottom}));
      // A label too near the right edge would be cut off.
      if (tx < W - 48) {
        ticks.push(svg('text', {x: tx + 2, y: H - 10, class: 'tick'}, d.toLocaleDateString(undefined, {month: 'short', day: 'numeric'})));
      }
    }
  });
  return h('figure', {class: 'chart'},
    svg('svg', {viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': label, preserveAspectRatio: 'none'},
      svg('line', {class: 'axis', x1: PAD.left, x2: W - PAD.right, y1: H - PAD.bottom, y2: H - PAD.bottom}),
      svg('text', {x: 4, y: PAD.top + 10, class: 'tick'}, String(top)),
      svg('text', {x: 4, y: H - PAD.bottom, class: 'tick'}, '0'),
      ...ticks, ...bars),
    h('figcaption', {},
      h('ul', {class: 'legend'}, SERIES.map(([k, name], i) => h('li', {}, h('span', {class: `swatch ${k}`, 'aria-hidden': 'true'}), `${name}: ${sums[i]}`)))));
}

export async function show(main) {
  document.title = 'Activity · hubhooks portal';
  const [stats, subs] = await Promise.all([get('/v1/delivery-stats?days=7'), all('/v1/subscriptions')]);
  const failing = subs.filter((s) => s.failingSince || !s.enabled);
  fill(main,
    h('h1', {}, 'Activity'),
    h('p', {class: 'muted'}, 'Deliveries per hour by outcome, the last 7 days (each delivery in the hour of its first attempt, under its latest outcome). Hours are in your time zone.'),
    draw(stats.hours),
    h('h2', {}, 'Failure streaks'),
    failing.length === 0
      ? note('ok', 'No subscription is failing.')
      : h('ul', {class: 'plain'}, failing.map((s) => h('li', {},
        h('a', {href: `#/subscriptions/${encodeURIComponent(s.id)}`}, s.description || s.id), ': ',
        s.enabled ? ['failing since ', time(s.failingSince)] : ['disabled', s.disabledReason ? ` (${s.disabledReason})` : '', s.disabledAt ? [' at ', time(s.disabledAt)] : '']))));
}
