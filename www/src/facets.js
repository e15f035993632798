// Facets: the top values of a few fields among the matching events; a click adds the value
// to the form's filter.

import { el, fmtCount } from './format.js';

export const FACETS = [
  ['user', 'Top users', 'users'],
  ['action', 'Actions', 'actions'],
  ['resourceType', 'Resource types', 'resourceTypes'],
  ['module', 'Modules', 'modules'],
];

// The facets' elements are made once and then updated in place: a view arrives every
// second while a file loads, and rebuilding them each time made the browser lay out and
// paint the whole page again (BENCHMARKS.md, "Page: long tasks and re-filters").
export class Facets {
  constructor(root, onPick) {
    this.lists = new Map(); // facet key -> its <ul>
    for (const [key, title] of FACETS) {
      const sec = el('section', { class: 'facet', 'aria-label': title });
      const ul = el('ul');
      sec.append(el('h3', {}, title), ul);
      root.appendChild(sec);
      this.lists.set(key, ul);
    }
    root.addEventListener('click', (e) => {
      const b = e.target.closest('[data-facet]');
      if (b) onPick(FACETS.find(([key]) => key === b.dataset.facet)[2], b.dataset.value);
    });
  }

  show(facets) {
    for (const [key, ul] of this.lists) {
      const list = (facets && facets[key]) || [];
      const max = list.reduce((m, x) => Math.max(m, x.count), 0) || 1;
      if (!list.length) {
        if (!ul.firstChild || !ul.firstChild.classList.contains('hint')) ul.replaceChildren(el('li', { class: 'hint' }, 'none'));
        continue;
      }
      if (ul.firstChild && ul.firstChild.classList.contains('hint')) ul.replaceChildren();
      while (ul.children.length > list.length) ul.lastChild.remove();
      list.forEach(({ value, count }, i) => {
        let b = ul.children[i] && ul.children[i].firstChild;
        if (!b) {
          b = el('button', { type: 'button', class: 'facet-value', 'data-facet': key });
          b.append(el('span', { class: 'facet-bar', 'aria-hidden': 'true' }), el('span', { class: 'facet-name' }), el('span', { class: 'facet-count' }));
          ul.appendChild(el('li')).appendChild(b);
        }
        const [bar, name, n] = b.children;
        if (b.dataset.value !== value) {
          b.dataset.value = value;
          b.title = `Filter on ${value}`;
          name.textContent = value;
        }
        setText(n, fmtCount(count));
        const width = `${Math.round((count / max) * 100)}%`;
        if (bar.style.width !== width) bar.style.width = width;
      });
    }
  }
}

// Sets a text only when it changed (an unchanged node is neither laid out nor painted again).
export function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}
