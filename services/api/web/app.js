/* global document, window, location, history, fetch, sessionStorage, URLSearchParams, URL, Blob */
// The Killtrace web page: plain script, no dependencies. All state lives in the URL (shareable links); the token
// lives in sessionStorage only, and goes to the API in the Authorization header.
'use strict';

const FILTERS = ['namespace', 'workload', 'container', 'node', 'cause', 'confidence', 'probe_induced', 'during_init', 'from', 'to'];
const $ = (sel) => document.querySelector(sel);
let nextCursor = null;
let rows = [];

function token() {
  return sessionStorage.getItem('killtrace.token') || '';
}

function status(text, isError) {
  const el = $('#status');
  el.textContent = text;
  el.className = isError ? 'error' : '';
}

async function api(path) {
  const response = await fetch(path, { headers: { Authorization: 'Bearer ' + token() } });
  if (!response.ok) {
    let problem = null;
    try {
      problem = await response.json();
    } catch {
      problem = null;
    }
    const detail = problem && problem.detail ? problem.detail : response.statusText;
    const params = problem && problem.invalid_params ? ' (' + problem.invalid_params.map((p) => p.name + ': ' + p.reason).join('; ') + ')' : '';
    if (response.status === 401) $('#token').focus();
    throw new Error(response.status + ' ' + detail + params);
  }
  return response;
}

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null) continue;
    if (k === 'text') node.textContent = v;
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c);
  return node;
}

function svgEl(tag, attrs, text) {
  const node = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

function workloadOf(record) {
  const k = record.kubernetes;
  const owner = k.daemonset || k.statefulset || k.deployment || k.job || k.replicaset;
  return owner ? owner.name : null;
}

function show(view) {
  for (const name of ['list', 'timeline', 'workload']) $('#view-' + name).hidden = name !== view;
}

/** Navigates to a URL of this page (pushes history) and renders it. */
function go(url) {
  history.pushState(null, '', url);
  render();
}

function currentParams() {
  return new URLSearchParams(location.search);
}

// ---- list view ----
function fillForm(params) {
  const form = $('#filters');
  for (const name of FILTERS) form.elements[name].value = params.get(name) || '';
}

function apiQuery(params) {
  const q = new URLSearchParams();
  for (const name of FILTERS) {
    const v = params.get(name);
    if (v) q.set(name, v);
  }
  return q;
}

async function renderList(params) {
  show('list');
  fillForm(params);
  const body = $('#records tbody');
  body.replaceChildren();
  rows = [];
  nextCursor = null;
  await loadPage(params);
}

async function loadPage(params) {
  const q = apiQuery(params);
  q.set('limit', /^\d{1,3}$/.test(params.get('limit') || '') ? params.get('limit') : '50');
  if (nextCursor) q.set('cursor', nextCursor);
  status('Loading…');
  try {
    const page = await (await api('/api/v1/records?' + q.toString())).json();
    const body = $('#records tbody');
    for (const item of page.items) {
      const r = item.record;
      const kt = r.killtrace;
      const workload = workloadOf(r);
      const tr = el('tr', { tabindex: '0', 'data-id': item.id, 'data-namespace': r.kubernetes.namespace, 'data-workload': workload || '' },
        el('td', { text: r['@timestamp'].replace('T', ' ').replace('Z', '') }),
        el('td', { text: r.kubernetes.namespace + '/' + r.kubernetes.pod.name }),
        el('td', { text: r.kubernetes.container.name }),
        el('td', { text: String(kt.restart.count) }),
        el('td', { class: kt.probe_induced ? 'cause-probe' : '', text: kt.cause.replace(/_/g, ' ') }),
        el('td', { text: kt.confidence }),
        el('td', { text: kt.during_init ? 'during init' : '' }),
        el('td', { text: r.kubernetes.node.name || '' }),
        el('td', {}, workload ? el('a', { href: workloadUrl(r.kubernetes.namespace, workload), 'data-nav': 'link', text: workload }) : ''),
      );
      tr.addEventListener('click', (event) => {
        if (event.target.closest('a')) return;
        go(timelineUrl(item.id));
      });
      body.append(tr);
      rows.push(tr);
    }
    nextCursor = page.next;
    $('#more').hidden = !page.next;
    $('#count').textContent = rows.length + ' of ' + page.total + (page.total_is_lower_bound ? '+' : '') + ' restart(s)';
    status(rows.length === 0 ? 'No restart matches these filters.' : '');
  } catch (error) {
    status(error.message, true);
  }
}

const timelineUrl = (id) => '/ui/?view=timeline&id=' + encodeURIComponent(id);
const workloadUrl = (ns, w) => '/ui/?view=workload&namespace=' + encodeURIComponent(ns) + '&workload=' + encodeURIComponent(w);

// ---- timeline view ----
function timelineApiQuery(params) {
  const q = new URLSearchParams();
  for (const name of ['id', 'namespace', 'pod', 'workload', 'container', 'from', 'to']) {
    const v = params.get(name);
    if (v) q.set(name, v);
  }
  return q;
}

async function renderTimeline(params) {
  show('timeline');
  const q = timelineApiQuery(params);
  $('#timeline-title').textContent = 'Timeline: ' + (params.get('id') || (params.get('namespace') + '/' + (params.get('workload') || params.get('pod'))));
  for (const format of ['markdown', 'html', 'csv', 'json']) {
    const link = $('#dl-' + format);
    link.onclick = (event) => {
      event.preventDefault();
      download(q, format);
    };
  }
  const frame = $('#timeline-frame');
  frame.srcdoc = '';
  status('Loading timeline…');
  try {
    q.set('format', 'html');
    const html = await (await api('/api/v1/timeline?' + q.toString())).text();
    frame.onload = () => {
      const doc = frame.contentDocument;
      if (doc) frame.style.height = doc.documentElement.scrollHeight + 20 + 'px';
    };
    frame.srcdoc = html;
    status('');
    const ns = params.get('namespace');
    const w = params.get('workload');
    $('#workload-link').replaceChildren(ns && w ? el('span', {}, ' · ', el('a', { href: workloadUrl(ns, w), 'data-nav': 'link', text: 'workload view' })) : '');
  } catch (error) {
    status(error.message, true);
  }
}

async function download(q, format) {
  const query = new URLSearchParams(q);
  query.set('format', format);
  try {
    const blob = await (await api('/api/v1/timeline?' + query.toString())).blob();
    const a = el('a', { href: URL.createObjectURL(new Blob([blob])), download: 'killtrace-timeline.' + (format === 'markdown' ? 'md' : format) });
    document.body.append(a);
    a.click();
    a.remove();
  } catch (error) {
    status(error.message, true);
  }
}

// ---- workload view ----
function barChart(title, items, opts) {
  const width = 520;
  const height = 200;
  const left = 36;
  const bottom = 36;
  const max = Math.max(1, ...items.map((i) => i.total));
  const svg = svgEl('svg', { viewBox: '0 0 ' + width + ' ' + height, role: 'img', 'aria-label': title });
  svg.append(svgEl('line', { x1: left, y1: height - bottom, x2: width - 8, y2: height - bottom, class: 'axis' }));
  const plot = width - left - 8;
  const slot = plot / Math.max(1, items.length);
  items.forEach((item, i) => {
    // Items may give their own extent as fractions of the axis (a histogram on a seconds axis).
    const x = item.x0 !== undefined ? left + item.x0 * plot : left + i * slot;
    const w = item.x1 !== undefined ? (item.x1 - item.x0) * plot : slot;
    let y = height - bottom;
    for (const part of item.parts) {
      const h = ((height - bottom - 16) * part.value) / max;
      if (h > 0) {
        const rect = svgEl('rect', { x: x + 1, y: y - h, width: Math.max(1, w - 2), height: h, class: part.cls });
        rect.append(svgEl('title', {}, item.label + ': ' + part.value + ' ' + part.name));
        svg.append(rect);
      }
      y -= h;
    }
    if (i % Math.ceil(items.length / 6) === 0) svg.append(svgEl('text', { x, y: height - bottom + 16, class: 'muted' }, item.short));
  });
  svg.append(svgEl('text', { x: 4, y: 14, class: 'muted' }, String(max)));
  if (opts && opts.marks) {
    for (const mark of opts.marks) {
      const x = left + mark.at * plot;
      svg.append(svgEl('line', { x1: x, y1: 8, x2: x, y2: height - bottom, class: mark.cls }));
      const nearEnd = mark.at > 0.6;
      svg.append(svgEl('text', { x: nearEnd ? x - 4 : x + 4, y: 20 + (mark.row || 0) * 14, 'text-anchor': nearEnd ? 'end' : 'start' }, mark.label));
    }
  }
  return el('figure', { class: 'chart' }, el('figcaption', { text: title }), svg);
}

async function renderWorkload(params) {
  show('workload');
  const ns = params.get('namespace');
  const w = params.get('workload');
  $('#workload-title').textContent = 'Workload ' + ns + '/' + w;
  const body = $('#workload-body');
  body.replaceChildren();
  status('Loading history…');
  try {
    const data = await (await api('/api/v1/workloads/' + encodeURIComponent(ns) + '/' + encodeURIComponent(w) + '/recommendation')).json();
    for (const c of data.containers) {
      const kills = c.kills_over_time.map((b) => ({ label: b.from + ' – ' + b.to, short: b.from.slice(11, 16), total: b.kills, parts: [{ value: b.kills, name: 'kill(s)', cls: 'bar-kill' }] }));
      const hist = c.init_histogram;
      const maxSeconds = hist.length ? hist[hist.length - 1].to_seconds : 1;
      const range = Math.max(maxSeconds, c.current_tolerance_seconds || 0) * 1.1 || 1;
      const histItems = hist.map((b) => ({
        x0: b.from_seconds / range,
        x1: b.to_seconds / range,
        label: Math.round(b.from_seconds) + '–' + Math.round(b.to_seconds) + ' s',
        short: Math.round(b.from_seconds) + ' s',
        total: b.completed + b.killed,
        parts: [{ value: b.completed, name: 'finished init', cls: 'bar-done' }, { value: b.killed, name: 'killed during init', cls: 'bar-killed' }],
      }));
      const marks = [];
      if (c.current_tolerance_seconds !== null) marks.push({ at: c.current_tolerance_seconds / range, cls: 'budget', label: 'liveness kills at ' + c.current_tolerance_seconds + ' s' });
      const timelineLink = el('a', { href: '/ui/?view=timeline&namespace=' + encodeURIComponent(ns) + '&workload=' + encodeURIComponent(w) + '&container=' + encodeURIComponent(c.container), 'data-nav': 'link', text: 'timeline of every restart' });
      const facts = el('dl', { class: 'facts' },
        el('dt', { text: 'Restarts' }), el('dd', { text: String(c.restarts) }),
        el('dt', { text: 'Probe kills (during init)' }), el('dd', { text: c.probe_kills + ' (' + c.probe_kills_during_init + ')' }),
        el('dt', { text: 'Init finished (p50 / p90 / max)' }), el('dd', { text: c.init_completed_seconds.count ? [c.init_completed_seconds.p50, c.init_completed_seconds.p90, c.init_completed_seconds.max].map((v) => v.toFixed(1) + ' s').join(' / ') : 'never seen' }),
        el('dt', { text: 'Killed during init after (p50 / max)' }), el('dd', { text: c.killed_during_init_seconds.count ? c.killed_during_init_seconds.p50.toFixed(1) + ' s / ' + c.killed_during_init_seconds.max.toFixed(1) + ' s' : 'none' }),
        el('dt', { text: 'First / last' }), el('dd', { text: (c.first_at || '?') + ' / ' + (c.last_at || '?') }),
      );
      const yaml = c.startup_probe ? 'startupProbe:\n  periodSeconds: ' + c.startup_probe.period_seconds + '\n  failureThreshold: ' + c.startup_probe.failure_threshold : null;
      body.append(
        el('section', { class: 'container', 'data-container': c.container },
          el('h2', { text: 'Container ' + c.container }),
          facts,
          el('p', {}, timelineLink),
          el('div', { class: 'charts' },
            barChart('Kills over time (UTC)', kills),
            barChart('Init durations against the probe budget (seconds since start)', histItems, { marks }),
          ),
          el('h3', { text: 'Recommendation' }),
          yaml ? el('pre', { text: yaml }) : el('p', { text: 'No startupProbe to recommend.' }),
          el('p', { text: c.what_if.text }),
          c.basis ? el('p', { class: 'hint', text: 'Basis: ' + c.basis }) : '',
        ),
      );
    }
    status('');
  } catch (error) {
    status(error.message, true);
  }
}

function render() {
  const params = currentParams();
  const view = params.get('view');
  if (view === 'timeline') return renderTimeline(params);
  if (view === 'workload') return renderWorkload(params);
  return renderList(params);
}

function moveFocus(delta) {
  if (rows.length === 0) return;
  const i = rows.indexOf(document.activeElement);
  const next = rows[Math.max(0, Math.min(rows.length - 1, i < 0 ? 0 : i + delta))];
  next.focus();
}

document.addEventListener('DOMContentLoaded', () => {
  $('#token').value = token();
  $('#token-form').addEventListener('submit', (event) => {
    event.preventDefault();
    sessionStorage.setItem('killtrace.token', $('#token').value.trim());
    render();
  });
  $('#filters').addEventListener('submit', (event) => {
    event.preventDefault();
    const q = new URLSearchParams();
    const form = event.target;
    for (const name of FILTERS) {
      const v = form.elements[name].value.trim();
      if (v) q.set(name, v);
    }
    go('/ui/' + (q.toString() ? '?' + q.toString() : ''));
  });
  $('#clear').addEventListener('click', (event) => {
    event.preventDefault();
    go('/ui/');
  });
  $('#more').addEventListener('click', () => loadPage(currentParams()));
  document.addEventListener('click', (event) => {
    const a = event.target.closest('a[data-nav]');
    if (!a || event.ctrlKey || event.metaKey || event.shiftKey) return;
    event.preventDefault();
    if (a.getAttribute('data-nav') === 'back' && history.length > 1) history.back();
    else go(a.getAttribute('href'));
  });
  document.addEventListener('keydown', (event) => {
    const typing = ['INPUT', 'SELECT', 'TEXTAREA'].includes(document.activeElement.tagName);
    if (event.key === 'Escape' && currentParams().get('view')) {
      event.preventDefault();
      history.back();
      return;
    }
    if (typing) return;
    if (event.key === '/') {
      event.preventDefault();
      $('#filters').elements.namespace.focus();
    } else if (event.key === 'j' || event.key === 'ArrowDown') {
      event.preventDefault();
      moveFocus(1);
    } else if (event.key === 'k' || event.key === 'ArrowUp') {
      event.preventDefault();
      moveFocus(-1);
    } else if (event.key === 'Enter' && document.activeElement.dataset && document.activeElement.dataset.id) {
      go(timelineUrl(document.activeElement.dataset.id));
    } else if (event.key === 'w' && document.activeElement.dataset && document.activeElement.dataset.workload) {
      go(workloadUrl(document.activeElement.dataset.namespace, document.activeElement.dataset.workload));
    }
  });
  window.addEventListener('popstate', render);
  render();
});
