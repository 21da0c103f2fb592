// Drover fleet page: every node of the fleet, as this daemon reads it from
// Redis, from a Server-Sent Events stream; a node's groups and processes
// from its snapshot. No framework, no build step.
'use strict';
(() => {
  const base = location.origin + location.pathname.replace(/[^/]*$/, '');
  const $ = (id) => document.getElementById(id);
  const STATES = ['RUNNING', 'STARTING', 'BACKOFF', 'STOPPING', 'STOPPED', 'EXITED', 'FATAL', 'UNKNOWN'];

  function el(tag, props, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = v;
      else e.setAttribute(k, v);
    }
    for (const kid of kids) e.append(kid);
    return e;
  }
  function setText(e, text) { if (e.textContent !== text) e.textContent = text; }
  function fmtAge(ms) {
    const s = ms / 1000;
    if (s < 60) return s.toFixed(1) + ' s ago';
    if (s < 3600) return Math.floor(s / 60) + ' min ago';
    return Math.floor(s / 3600) + ' h ago';
  }
  function chips(counts) {
    return STATES.filter((st) => counts && counts[st]).map((st) =>
      el('span', { class: 'state s-' + st, text: st + ' ' + counts[st] }));
  }
  const NODE_CLASS = { up: 's-RUNNING', stale: 's-BACKOFF', gone: 's-FATAL' };
  function nodeState(state) { return el('span', { class: 'state node-state ' + (NODE_CLASS[state] || 's-UNKNOWN'), text: state }); }
  function poolText(g) {
    const p = g.pool;
    let t = g.name + ': ' + p.workers + ' workers (' + p.busy + ' busy), target ' + p.target + ' [' + p.min + '\u2060-\u2060' + p.max + ']'; // word joiners: the bounds never wrap at the hyphen
    if (p.fleet_max) t += ', fleet_max ' + p.fleet_max + ': ' + p.fleet_total + ' leased, ' + p.leased + ' here';
    const q = p.queue_figures;
    if (q) {
      t += '; queue ' + (q.unreachable ? 'UNREACHABLE, last sample: ' : '') + 'ready ' + (q.ready || 0) + ', due ' + (q.due || 0) +
        ', delayed ' + (q.delayed || 0) + ', in flight ' + (q.reserved || 0) + ', expired ' + (q.expired || 0) +
        ', oldest wait ' + Math.round((q.oldest_wait_ms || 0) / 1000) + ' s';
    }
    return t;
  }

  // The node shown in detail, kept in the address (#node=<name>).
  let selected = decodeURIComponent((location.hash.match(/^#node=(.+)$/) || [])[1] || '');
  let last = null;

  function render(m) {
    last = m;
    const err = $('fleet-error');
    err.hidden = !m.error;
    setText(err, m.error ? 'The fleet cannot be read: ' + m.error : '');
    const nodes = m.nodes;
    const by = { up: 0, stale: 0, gone: 0 };
    const counts = {};
    let total = 0;
    for (const n of nodes) {
      by[n.state] = (by[n.state] || 0) + 1;
      if (n.state === 'gone') continue;
      for (const [st, c] of Object.entries(n.counts || {})) { counts[st] = (counts[st] || 0) + c; total += c; }
    }
    setText($('t-up'), String(by.up)); setText($('t-stale'), String(by.stale)); setText($('t-gone'), String(by.gone));
    setText($('t-procs'), String(total));
    $('t-states').replaceChildren(...chips(counts));
    $('nodes-empty').hidden = nodes.length > 0 || !!m.error;
    $('nodes').tBodies[0].replaceChildren(...nodes.map((n) => {
      const open = el('button', { type: 'button', class: 'toggle node-open', 'aria-expanded': String(n.name === selected),
        'aria-controls': 'node', text: n.name });
      open.addEventListener('click', () => select(n.name === selected ? '' : n.name));
      const pools = (n.groups || []).filter((g) => g.pool).map(poolText);
      const labels = Object.entries(n.labels || {}).sort().map(([k, v]) => k + '=' + v).join(', ');
      return el('tr', { 'data-node': n.name, class: n.name === selected ? 'selected' : '' },
        el('td', {}, open),
        el('td', {}, nodeState(n.state)),
        el('td', { class: 'num beat', title: n.beat_ms ? new Date(n.beat_ms).toISOString() : '', text: fmtAge(n.age_ms) }),
        el('td', { class: 'counts' }, el('div', { class: 'chips' }, ...chips(n.counts))),
        el('td', { class: 'opt pools' }, ...pools.map((t) => el('div', { class: 'sub', text: t }))),
        el('td', { class: 'opt version', text: n.version || '' }),
        el('td', { class: 'opt labels', text: labels }));
    }));
    renderNode();
  }

  function renderNode() {
    const sec = $('node');
    sec.hidden = !selected;
    if (!selected || !last) return;
    const n = last.nodes.find((x) => x.name === selected);
    setText($('node-name'), selected);
    $('node-state').replaceChildren(n ? nodeState(n.state) : el('span'));
    const empty = $('node-empty');
    const groups = (n && n.groups) || [];
    empty.hidden = groups.length > 0;
    setText(empty, !n ? 'This node is no longer listed.' : n.state === 'gone' ? 'Its snapshot has expired: nothing is known of its processes.' : 'No process.');
    $('node-procs').hidden = groups.length === 0;
    const rows = [];
    for (const g of groups) {
      const head = el('td', { colspan: '4' }, el('span', { text: g.name }));
      if (g.pool) head.append(el('span', { class: 'count', text: poolText(g) }));
      rows.push(el('tr', { class: 'group-row', 'data-group': g.name }, head));
      for (const p of g.processes) {
        rows.push(el('tr', { class: 'in-group', 'data-process': g.name + ':' + p.name },
          el('td', {}), el('td', { class: 'proc-name', text: p.name }),
          el('td', {}, el('span', { class: 'state s-' + p.state, text: p.state })),
          el('td', { class: 'num', text: p.pid ? String(p.pid) : '' })));
      }
    }
    $('node-procs').tBodies[0].replaceChildren(...rows);
  }

  function select(name) {
    selected = name;
    history.replaceState(null, '', name ? '#node=' + encodeURIComponent(name) : location.pathname);
    if (last) render(last);
    if (name) $('node').scrollIntoView({ block: 'nearest' });
  }
  $('node-close').addEventListener('click', () => select(''));

  function setConn(state, text) {
    const c = $('conn');
    c.className = 'conn ' + state;
    setText(c, text);
  }
  const es = new EventSource(base + 'fleet/events');
  es.addEventListener('fleet', (e) => { setConn('live', 'live'); render(JSON.parse(e.data)); });
  es.onerror = () => setConn('down', 'reconnecting…');
})();
