// The time histogram of matching events, drawn as SVG bars. A click on a bar narrows the
// time range to that bucket.

import { fmtTime, fmtCount } from './format.js';

const NS = 'http://www.w3.org/2000/svg';

export function renderHistogram(root, caption, hist, onPick) {
  root.replaceChildren();
  const buckets = (hist && hist.buckets) || [];
  if (!buckets.length) {
    caption.textContent = 'Matching events over time: none';
    return;
  }
  const max = buckets.reduce((m, b) => Math.max(m, b.count), 0) || 1;
  const W = 1000, H = 100;
  const svg = document.createElementNS(NS, 'svg');
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  svg.setAttribute('preserveAspectRatio', 'none');
  svg.setAttribute('role', 'img');
  const first = buckets[0].start, last = buckets[buckets.length - 1].end;
  svg.setAttribute('aria-label', `Histogram of ${buckets.length} time buckets from ${fmtTime(first)} to ${fmtTime(last)} UTC, up to ${fmtCount(max)} events per bucket`);
  // Bars are placed by time, so buckets the server leaves out (no events) stay gaps.
  const span = Math.max(1, last - first);
  const bw = ((buckets[0].end - buckets[0].start) / span) * W;
  buckets.forEach((b) => {
    if (!b.count) return;
    const h = Math.max(1.5, (b.count / max) * (H - 4));
    const r = document.createElementNS(NS, 'rect');
    r.setAttribute('x', String(((b.start - first) / span) * W + bw * 0.08));
    r.setAttribute('width', String(Math.max(0.5, bw * 0.84)));
    r.setAttribute('y', String(H - h));
    r.setAttribute('height', String(h));
    r.setAttribute('class', 'bar');
    const t = document.createElementNS(NS, 'title');
    t.textContent = `${fmtTime(b.start)} – ${fmtTime(b.end)} UTC: ${fmtCount(b.count)} events`;
    r.appendChild(t);
    r.addEventListener('click', () => onPick(b.start, b.end - 1));
    svg.appendChild(r);
  });
  root.appendChild(svg);
  caption.textContent = `Matching events over time (UTC): ${fmtTime(first)} → ${fmtTime(last)}, ${bucketName(hist.bucketMs)} buckets`;
}

function bucketName(ms) {
  const names = [[365 * 86400e3, 'year'], [91 * 86400e3, 'quarter'], [30 * 86400e3, '30-day'], [7 * 86400e3, 'week'], [86400e3, 'day'], [3600e3, 'hour'], [60e3, 'minute'], [1e3, 'second']];
  for (const [m, n] of names) if (ms % m === 0) return ms === m ? n : `${ms / m}-${n}`;
  return `${ms} ms`;
}
