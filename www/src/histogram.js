// The time histogram of matching events, drawn as SVG bars. A click on a bar narrows the
// time range to that bucket.

import { fmtTime, fmtCount } from './format.js';
import { setText } from './facets.js';

const NS = 'http://www.w3.org/2000/svg';
const W = 1000, H = 100;

// The bars are updated in place (as the facets are): one view a second arrives while a
// file loads.
export class Histogram {
  constructor(root, caption, onPick) {
    this.caption = caption;
    this.svg = document.createElementNS(NS, 'svg');
    this.svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
    this.svg.setAttribute('preserveAspectRatio', 'none');
    this.svg.setAttribute('role', 'img');
    this.svg.addEventListener('click', (e) => {
      const r = e.target.closest('rect');
      if (r) onPick(Number(r.dataset.start), Number(r.dataset.end) - 1);
    });
    root.appendChild(this.svg);
  }

  show(hist) {
    const buckets = ((hist && hist.buckets) || []).filter((b) => b.count);
    const svg = this.svg;
    while (svg.children.length > buckets.length) svg.lastChild.remove();
    if (!buckets.length) {
      svg.removeAttribute('aria-label');
      setText(this.caption, 'Matching events over time: none');
      return;
    }
    const all = hist.buckets;
    const max = buckets.reduce((m, b) => Math.max(m, b.count), 0) || 1;
    const first = all[0].start, last = all[all.length - 1].end;
    svg.setAttribute('aria-label', `Histogram of ${all.length} time buckets from ${fmtTime(first)} to ${fmtTime(last)} UTC, up to ${fmtCount(max)} events per bucket`);
    // Bars are placed by time, so buckets the server leaves out (no events) stay gaps.
    const span = Math.max(1, last - first);
    const bw = ((all[0].end - all[0].start) / span) * W;
    buckets.forEach((b, i) => {
      let r = svg.children[i];
      if (!r) {
        r = svg.appendChild(document.createElementNS(NS, 'rect'));
        r.setAttribute('class', 'bar');
        r.appendChild(document.createElementNS(NS, 'title'));
      }
      const h = Math.max(1.5, (b.count / max) * (H - 4));
      set(r, 'x', ((b.start - first) / span) * W + bw * 0.08);
      set(r, 'width', Math.max(0.5, bw * 0.84));
      set(r, 'y', H - h);
      set(r, 'height', h);
      set(r, 'data-start', b.start);
      set(r, 'data-end', b.end);
      setText(r.firstChild, `${fmtTime(b.start)} – ${fmtTime(b.end)} UTC: ${fmtCount(b.count)} events`);
    });
    setText(this.caption, `Matching events over time (UTC): ${fmtTime(first)} → ${fmtTime(last)}, ${bucketName(hist.bucketMs)} buckets`);
  }
}

function set(node, name, value) {
  const v = String(value);
  if (node.getAttribute(name) !== v) node.setAttribute(name, v);
}

function bucketName(ms) {
  const names = [[365 * 86400e3, 'year'], [91 * 86400e3, 'quarter'], [30 * 86400e3, '30-day'], [7 * 86400e3, 'week'], [86400e3, 'day'], [3600e3, 'hour'], [60e3, 'minute'], [1e3, 'second']];
  for (const [m, n] of names) if (ms % m === 0) return ms === m ? n : `${ms / m}-${n}`;
  return `${ms} ms`;
}
