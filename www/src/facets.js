// Facets: the top values of a few fields among the matching events; a click adds the value
// to the form's filter.

import { el, fmtCount } from './format.js';

export const FACETS = [
  ['user', 'Top users', 'users'],
  ['action', 'Actions', 'actions'],
  ['resourceType', 'Resource types', 'resourceTypes'],
  ['module', 'Modules', 'modules'],
];

export function renderFacets(root, facets, onPick) {
  root.replaceChildren();
  for (const [key, title, formKey] of FACETS) {
    const list = (facets && facets[key]) || [];
    const sec = el('section', { class: 'facet', 'aria-label': title });
    sec.appendChild(el('h3', {}, title));
    const ul = el('ul');
    const max = list.reduce((m, x) => Math.max(m, x.count), 0) || 1;
    for (const { value, count } of list) {
      const li = el('li');
      const b = el('button', { type: 'button', class: 'facet-value', 'data-facet': key, title: `Filter on ${value}` });
      const name = el('span', { class: 'facet-name' }, value);
      const n = el('span', { class: 'facet-count' }, fmtCount(count));
      const bar = el('span', { class: 'facet-bar', 'aria-hidden': 'true' });
      bar.style.width = `${Math.round((count / max) * 100)}%`;
      b.append(bar, name, n);
      b.addEventListener('click', () => onPick(formKey, value));
      li.appendChild(b);
      ul.appendChild(li);
    }
    if (!list.length) ul.appendChild(el('li', { class: 'hint' }, 'none'));
    sec.appendChild(ul);
    root.appendChild(sec);
  }
}
