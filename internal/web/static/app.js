// Drover dashboard: renders the daemon's state from the Server-Sent Events
// stream, follows logs, and posts actions. No framework, no build step.
'use strict';
(() => {
  // Absolute URLs without the user:password of the page's address (fetch
  // refuses URLs with credentials).
  const base = location.origin + location.pathname.replace(/[^/]*$/, '');
  const $ = (id) => document.getElementById(id);
  const STATES = ['RUNNING', 'STARTING', 'BACKOFF', 'STOPPING', 'STOPPED', 'EXITED', 'FATAL', 'UNKNOWN'];
  const MAX_LOG_LINES = 5000;

  function el(tag, props, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = v;
      else if (k.startsWith('data-') || k.startsWith('aria-') || k === 'type' || k === 'title') e.setAttribute(k, v);
      else e[k] = v;
    }
    for (const kid of kids) e.append(kid);
    return e;
  }
  // Writes only what changed: 500 rows four times a second must not make
  // the browser redo its layout for nothing.
  function setText(e, text) { if (e.textContent !== text) e.textContent = text; }
  function setProp(e, name, value) { if (e[name] !== value) e[name] = value; }

  function fmtBytes(n) {
    if (!n) return '—';
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return (i === 0 ? n : n.toFixed(n < 10 ? 1 : 0)) + ' ' + units[i];
  }
  function fmtDuration(s) {
    if (s < 0 || !isFinite(s)) return '—';
    s = Math.round(s);
    if (s < 60) return s + ' s';
    if (s < 3600) return Math.floor(s / 60) + ' min ' + (s % 60) + ' s';
    if (s < 86400) return Math.floor(s / 3600) + ' h ' + Math.floor(s % 3600 / 60) + ' min';
    return Math.floor(s / 86400) + ' d ' + Math.floor(s % 86400 / 3600) + ' h';
  }
  function fmtPct(p) { return p == null ? '—' : p.toFixed(p < 10 ? 1 : 0) + ' %'; }

  // ---- connection -------------------------------------------------------
  function setConn(state, text) {
    const c = $('conn');
    c.className = 'conn ' + state;
    setText(c, text);
  }
  function connect() {
    const es = new EventSource(base + 'dashboard/events');
    es.addEventListener('state', (e) => {
      setConn('live', 'live');
      render(JSON.parse(e.data));
    });
    es.onerror = () => setConn('down', 'reconnecting…'); // EventSource retries by itself
  }

  // ---- state -> page ----------------------------------------------------
  let prevUsage = null;        // {at, daemon, procs: Map namespec -> {pid, cpu}}
  let daemonPct = null;
  const cpuPct = new Map();    // namespec -> percent of one CPU
  const jobSamples = [];       // {t, n}: jobs finished so far, for the rate
  const rows = new Map();      // namespec -> row parts
  const groups = new Map();    // group -> {tbody, head}
  const collapsed = new Set();
  let lastSnap = null;

  function render(s) {
    lastSnap = s;
    $('fleet-link').hidden = !s.fleet;
    updateUsage(s);
    renderTiles(s);
    renderWork(s);
    renderProcs(s);
  }

  function updateUsage(s) {
    if (!s.usageAt || (prevUsage && prevUsage.at === s.usageAt)) return;
    const procs = new Map(s.processes.map((p) => [p.namespec, { pid: p.pid, cpu: p.cpu }]));
    if (prevUsage) {
      const secs = (s.usageAt - prevUsage.at) / 1000;
      daemonPct = Math.max(0, (s.daemon.cpu - prevUsage.daemon.cpu) / secs * 100);
      cpuPct.clear();
      for (const [name, now] of procs) {
        const before = prevUsage.procs.get(name);
        if (before && before.pid === now.pid && now.pid > 0) cpuPct.set(name, Math.max(0, (now.cpu - before.cpu) / secs * 100));
      }
    }
    prevUsage = { at: s.usageAt, daemon: s.daemon, procs };
  }

  function renderTiles(s) {
    const counts = {};
    for (const p of s.processes) counts[p.state] = (counts[p.state] || 0) + 1;
    setText($('t-total'), String(s.processes.length));
    const chips = $('t-states');
    chips.replaceChildren(...STATES.filter((st) => counts[st]).map((st) =>
      el('span', { class: 'state s-' + st, text: st + ' ' + counts[st] })));
    setText($('t-restarts'), String(s.restartsLastHour));

    const queued = s.pools.filter((p) => p.scaling);
    if (queued.length === 0) {
      setText($('t-jpm'), '—'); setText($('t-jpm-sub'), 'no queue pools');
      setText($('t-failed'), '—');
    } else {
      const n = queued.reduce((a, p) => a + p.jobsDone + p.jobsFailed, 0);
      jobSamples.push({ t: s.now, n });
      while (jobSamples.length > 2 && s.now - jobSamples[1].t >= 60000) jobSamples.shift();
      const first = jobSamples[0], span = s.now - first.t;
      if (span >= 10000) {
        setText($('t-jpm'), String(Math.round(Math.max(0, n - first.n) * 60000 / span)));
        setText($('t-jpm-sub'), 'over the last ' + fmtDuration(span / 1000));
      } else {
        setText($('t-jpm'), '…'); setText($('t-jpm-sub'), 'measuring');
      }
      setText($('t-failed'), String(queued.reduce((a, p) => a + p.jobsFailed, 0)));
    }
    let worst = null;
    for (const p of s.pools) if (p.queue && (!worst || p.oldestWait > worst.oldestWait)) worst = p;
    setText($('t-wait'), worst ? fmtDuration(worst.oldestWait) : '—');
    setText($('t-wait-sub'), worst ? worst.group : 'no queues');
    setText($('t-cpu'), fmtPct(daemonPct));
    setText($('t-mem'), fmtBytes(s.daemon.rss));
  }

  function renderWork(s) {
    const pools = s.pools.filter((p) => p.queue);
    $('work').hidden = pools.length === 0;
    $('work-empty').hidden = pools.length > 0;
    $('work-note').hidden = pools.length === 0;
    const body = $('work').tBodies[0];
    body.replaceChildren(...pools.map((p) => {
      const decided = p.decidedAt ? ' (' + fmtDuration(s.now / 1000 - p.decidedAt) + ' ago)' : '';
      const queue = el('td', { class: 'queue', title: p.queue }, el('div', { text: p.group }), el('div', { class: 'sub', text: p.queue }));
      if (!p.queueOk && p.queueError) queue.append(el('div', { class: 'err', text: p.queueError }));
      return el('tr', { 'data-group': p.group },
        queue,
        el('td', { class: 'num ready', text: String(p.ready) }),
        el('td', { class: 'num opt', text: String(p.delayed) }),
        el('td', { class: 'num opt', text: String(p.reserved) }),
        el('td', { class: 'num', text: fmtDuration(p.oldestWait) }),
        el('td', { class: 'num', text: p.workers + (p.busy ? ' (' + p.busy + ' busy)' : '') }),
        el('td', { class: 'num', text: p.estimatedWait < 0 ? '—' : fmtDuration(p.estimatedWait), title: p.meanJob < 0 ? 'no job timed yet' : 'mean job ' + p.meanJob.toFixed(2) + ' s' }),
        el('td', { class: 'num', text: p.min + ' / ' + p.target + ' / ' + p.max }),
        el('td', { class: 'desc opt', text: (p.rolling ? 'rolling: ' + p.rolling + '; ' : '') + (p.decision || '—') + decided, title: p.decision }),
        el('td', {}, el('div', { class: 'acts' }, ...poolActions(p))));
    }));
  }

  function poolActions(p) {
    const acts = [actionButton('rolling', 'group', p.group, 'Rolling restart', 'Rolling restart of group ' + p.group)];
    if (p.scaling) {
      const b = actionButton('bounds', 'group', p.group, 'Bounds', 'Set the min and max of pool ' + p.group);
      b.dataset.min = p.min;
      b.dataset.max = p.max;
      acts.push(b);
    }
    return acts;
  }

  function actionButton(act, scope, name, label, aria, danger) {
    return el('button', { type: 'button', 'data-act': act, 'data-scope': scope, 'data-name': name,
      'aria-label': aria, class: danger ? 'danger' : '', text: label });
  }

  function procActions(p) {
    const running = ['RUNNING', 'STARTING', 'BACKOFF'].includes(p.state);
    const acts = el('div', { class: 'acts' });
    if (running) {
      acts.append(actionButton('stop', 'process', p.namespec, 'Stop', 'Stop ' + p.namespec, true),
        actionButton('restart', 'process', p.namespec, 'Restart', 'Restart ' + p.namespec, true),
        actionButton('signal', 'process', p.namespec, 'Signal', 'Send a signal to ' + p.namespec));
    } else if (p.state !== 'STOPPING') {
      acts.append(actionButton('start', 'process', p.namespec, 'Start', 'Start ' + p.namespec));
    }
    acts.append(el('button', { type: 'button', 'data-log': p.namespec, 'aria-label': 'Show the log of ' + p.namespec, text: 'Log' }));
    return acts;
  }

  function groupParts(name, procs) {
    let g = groups.get(name);
    if (!g) {
      const toggle = el('button', { type: 'button', class: 'toggle', 'aria-expanded': 'true', 'data-toggle': name,
        'aria-label': 'Collapse or expand group ' + name, text: name });
      const count = el('span', { class: 'count' });
      const acts = el('div', { class: 'acts' },
        actionButton('start', 'group', name, 'Start', 'Start group ' + name),
        actionButton('stop', 'group', name, 'Stop', 'Stop group ' + name, true),
        actionButton('restart', 'group', name, 'Restart', 'Restart group ' + name, true),
        actionButton('signal', 'group', name, 'Signal', 'Send a signal to group ' + name),
        actionButton('rolling', 'group', name, 'Rolling', 'Rolling restart of group ' + name, true));
      // One cell: the group's buttons must not widen the process columns.
      const head = el('tr', { class: 'group-row' }, el('td', { colSpan: 10 }, el('div', { class: 'group-head' }, toggle, count, acts)));
      g = { tbody: el('tbody', { 'data-group': name }, head), head, count };
      groups.set(name, g);
    }
    // A group of one process named as the group needs no heading.
    g.headed = !(procs.length === 1 && procs[0].name === name);
    setProp(g.head, 'hidden', !g.headed);
    return g;
  }

  function procRow(p) {
    let r = rows.get(p.namespec);
    if (!r) {
      const cells = {};
      for (const k of ['name', 'state', 'desc', 'pid', 'uptime', 'restarts', 'cpu', 'rss', 'limit', 'acts']) cells[k] = el('td');
      cells.name.className = 'proc-name';
      cells.desc.className = 'desc opt';
      for (const k of ['pid', 'restarts', 'cpu', 'rss', 'limit']) cells[k].className = 'num opt';
      cells.uptime.className = 'num';
      cells.stateBadge = el('span', { class: 'state' });
      cells.state.append(cells.stateBadge);
      const tr = el('tr', { 'data-namespec': p.namespec }, cells.name, cells.state, cells.desc, cells.pid, cells.uptime,
        cells.restarts, cells.cpu, cells.rss, cells.limit, cells.acts);
      r = { tr, cells, actsKey: '' };
      rows.set(p.namespec, r);
    }
    return r;
  }

  function renderProcs(s) {
    const byGroup = new Map();
    for (const p of s.processes) {
      if (!byGroup.has(p.group)) byGroup.set(p.group, []);
      byGroup.get(p.group).push(p);
    }
    const table = $('procs');
    const text = $('filter').value.trim().toLowerCase();
    const want = $('state-filter').value;
    const seen = new Set();
    const bodies = [];
    let shown = 0;
    for (const [name, procs] of byGroup) {
      const g = groupParts(name, procs);
      const states = {};
      let visible = 0;
      const trs = [g.head];
      for (const p of procs) {
        seen.add(p.namespec);
        states[p.state] = (states[p.state] || 0) + 1;
        const r = procRow(p);
        r.tr.classList.toggle('in-group', g.headed);
        const c = r.cells;
        setText(c.name, p.name);
        setText(c.stateBadge, p.state);
        setProp(c.stateBadge, 'className', 'state s-' + p.state);
        setText(c.desc, p.description);
        setProp(c.desc, 'title', p.description);
        setText(c.pid, p.pid ? String(p.pid) : '—');
        setText(c.uptime, p.state === 'RUNNING' && p.start ? fmtDuration(s.now / 1000 - p.start) : '—');
        setText(c.restarts, String(p.restarts));
        setText(c.cpu, p.pid ? fmtPct(cpuPct.get(p.namespec)) : '—');
        setText(c.rss, p.pid ? fmtBytes(p.rss) : '—');
        c.rss.classList.toggle('over', p.memoryLimit > 0 && p.rss > p.memoryLimit);
        setText(c.limit, p.memoryLimit ? fmtBytes(p.memoryLimit) : '—');
        const actsKey = p.state;
        if (r.actsKey !== actsKey) { c.acts.replaceChildren(procActions(p)); r.actsKey = actsKey; }
        const match = (!want || p.state === want) &&
          (!text || p.namespec.toLowerCase().includes(text) || p.description.toLowerCase().includes(text));
        setProp(r.tr, 'hidden', !match);
        if (match) visible++;
        trs.push(r.tr);
      }
      setText(g.count, procs.length + ' processes · ' + Object.entries(states).map(([k, v]) => v + ' ' + k.toLowerCase()).join(', '));
      setProp(g.tbody, 'hidden', visible === 0);
      g.tbody.classList.toggle('collapsed', collapsed.has(name));
      // Re-order only when the members changed.
      if (g.tbody.children.length !== trs.length || trs.some((tr, i) => g.tbody.children[i] !== tr)) g.tbody.replaceChildren(...trs);
      shown += visible;
      bodies.push(g.tbody);
    }
    for (const name of [...rows.keys()]) if (!seen.has(name)) rows.delete(name);
    for (const name of [...groups.keys()]) if (!byGroup.has(name)) groups.delete(name);
    const current = [...table.tBodies];
    if (current.length !== bodies.length || bodies.some((b, i) => current[i] !== b)) {
      for (const b of current) b.remove();
      table.append(...bodies);
    }
    setProp($('procs-empty'), 'hidden', shown > 0 || s.processes.length === 0);
  }

  // ---- actions ----------------------------------------------------------
  const DESTRUCTIVE = new Set(['stop', 'restart', 'signal', 'rolling', 'bounds']);
  // ask shows the confirmation dialog; form is 'signal' or 'bounds' (with
  // the current bounds) for the fields that action takes.
  function ask(text, form, bounds) {
    const d = $('confirm');
    setText($('confirm-text'), text);
    $('signal-row').hidden = form !== 'signal';
    $('bounds-row').hidden = form !== 'bounds';
    for (const k of ['min', 'max']) {
      $('bounds-' + k).disabled = form !== 'bounds';
      if (bounds) $('bounds-' + k).value = bounds[k];
    }
    $('confirm-ok').textContent = form === 'signal' ? 'Send' : form === 'bounds' ? 'Set' : 'Confirm';
    return new Promise((resolve) => {
      d.addEventListener('close', () => resolve(d.returnValue === 'ok' ? {
        signal: $('signal-name').value, min: Number($('bounds-min').value), max: Number($('bounds-max').value),
      } : null), { once: true });
      d.returnValue = '';
      d.showModal();
      $('confirm-cancel').focus();
    });
  }

  let toastTimer = 0;
  function toast(text, bad) {
    const t = $('toast');
    t.textContent = text;
    t.className = 'toast' + (bad ? ' bad' : '');
    t.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { t.hidden = true; }, bad ? 8000 : 4000);
  }

  function what(act, scope, name) {
    const target = scope === 'all' ? 'all processes' : scope === 'group' ? 'group ' + name : name;
    return { start: 'Start ', stop: 'Stop ', restart: 'Restart ', signal: 'Send a signal to ', rolling: 'Restart, one at a time, ',
      bounds: 'Set the min and max workers of ' }[act] + target;
  }

  async function act(btn) {
    const req = { action: btn.dataset.act, scope: btn.dataset.scope, name: btn.dataset.name || '' };
    // Starting one process is harmless; everything else is asked first.
    if (DESTRUCTIVE.has(req.action) || req.scope !== 'process') {
      const form = req.action === 'signal' || req.action === 'bounds' ? req.action : '';
      const answer = await ask(what(req.action, req.scope, req.name) + '?', form, form === 'bounds' ? btn.dataset : null);
      if (!answer) return;
      if (req.action === 'signal') req.signal = answer.signal;
      if (req.action === 'bounds') Object.assign(req, { min: answer.min, max: answer.max });
    }
    toast(what(req.action, req.scope, req.name) + '…');
    try {
      const res = await fetch(base + 'dashboard/action', { method: 'POST', credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(req) });
      const body = res.headers.get('Content-Type') === 'application/json' ? await res.json() : { ok: false, message: await res.text() };
      toast(body.message, !body.ok);
    } catch (err) {
      toast('Failed: ' + err, true);
    }
  }

  document.addEventListener('click', (e) => {
    const b = e.target.closest('button');
    if (!b) return;
    if (b.dataset.act) act(b);
    else if (b.dataset.log) openLog(b.dataset.log);
    else if (b.dataset.toggle) {
      const name = b.dataset.toggle;
      if (collapsed.has(name)) collapsed.delete(name); else collapsed.add(name);
      b.setAttribute('aria-expanded', String(!collapsed.has(name)));
      groups.get(name)?.tbody.classList.toggle('collapsed', collapsed.has(name));
    }
  });
  const refilter = () => { if (lastSnap) renderProcs(lastSnap); };
  $('filter').addEventListener('input', refilter);
  $('state-filter').addEventListener('change', refilter);

  // ---- log view ---------------------------------------------------------
  const log = { name: '', channel: 'stdout', lines: [], partial: '', abort: null };

  function openLog(name) {
    log.name = name;
    setText($('log-name'), name);
    $('logview').hidden = false;
    setChannel('stdout');
    $('logview').scrollIntoView({ block: 'start' });
  }
  function setChannel(ch) {
    log.channel = ch;
    $('log-stdout').setAttribute('aria-pressed', String(ch === 'stdout'));
    $('log-stderr').setAttribute('aria-pressed', String(ch === 'stderr'));
    follow();
  }
  function stopFollowing() { if (log.abort) { log.abort.abort(); log.abort = null; } }

  async function follow() {
    stopFollowing();
    log.lines = []; log.partial = '';
    renderLog();
    const abort = new AbortController();
    log.abort = abort;
    const url = base + 'dashboard/log?name=' + encodeURIComponent(log.name) + '&channel=' + log.channel;
    try {
      const res = await fetch(url, { signal: abort.signal, credentials: 'same-origin' });
      if (!res.ok) { addLog((await res.text()) + '\n'); return; }
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        addLog(value);
      }
    } catch (err) {
      if (!abort.signal.aborted) addLog('\n(log stream ended: ' + err + ')\n');
    }
  }

  function addLog(text) {
    const parts = (log.partial + text).split('\n');
    log.partial = parts.pop();
    const fresh = parts;
    log.lines.push(...fresh);
    if (log.lines.length > MAX_LOG_LINES) {
      log.lines.splice(0, log.lines.length - MAX_LOG_LINES);
      renderLog();
    } else {
      appendLines(fresh);
    }
  }

  function lineNode(line, term) {
    if (!term) return document.createTextNode(line + '\n');
    const frag = document.createDocumentFragment();
    const low = line.toLowerCase();
    let i = 0;
    for (let j = low.indexOf(term); j >= 0; j = low.indexOf(term, i)) {
      frag.append(line.slice(i, j), el('mark', { text: line.slice(j, j + term.length) }));
      i = j + term.length;
    }
    frag.append(line.slice(i) + '\n');
    return frag;
  }

  function appendLines(lines) {
    const term = $('log-search').value.toLowerCase();
    const pre = $('log');
    const frag = document.createDocumentFragment();
    for (const line of lines) if (!term || line.toLowerCase().includes(term)) frag.append(lineNode(line, term));
    pre.append(frag);
    if ($('log-follow').checked) pre.scrollTop = pre.scrollHeight;
    countLog();
  }
  function renderLog() {
    $('log').replaceChildren();
    appendLines(log.lines);
  }
  function countLog() {
    const term = $('log-search').value.toLowerCase();
    const n = term ? log.lines.filter((l) => l.toLowerCase().includes(term)).length : log.lines.length;
    setText($('log-count'), term ? n + ' matching lines' : n + ' lines');
  }

  $('log-stdout').addEventListener('click', () => setChannel('stdout'));
  $('log-stderr').addEventListener('click', () => setChannel('stderr'));
  $('log-search').addEventListener('input', renderLog);
  $('log-close').addEventListener('click', () => { stopFollowing(); $('logview').hidden = true; });

  connect();
})();
