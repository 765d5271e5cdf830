// Cortado dashboard: one websocket streams the selected run's metric lines (history first, then live
// batches); REST lists runs, reads configs and sends control. Charts are uPlot's.
'use strict';

const params = new URLSearchParams(location.search);
const token = params.get('token') || sessionStorage.getItem('cortado_token');
if (params.get('token')) {
  sessionStorage.setItem('cortado_token', token);
  document.cookie = 'cortado_token=' + encodeURIComponent(token) + '; path=/; SameSite=Strict';
}

const sum = a => Array.isArray(a) ? a.reduce((s, v) => s + v, 0) : (typeof a === 'number' ? a : null);
const num = v => (typeof v === 'number' && isFinite(v)) ? v : null;

// Each chart: its series read from a metric line (null where the line lacks the value).
const CHARTS = [
  {id: 'loss', title: 'Train loss', compare: {label: 'loss (smoothed)', smooth: 'loss'}, series: [
    {label: 'loss', get: l => num(l.loss), color: '#c9b8a6', width: 1},
    {label: 'smoothed', smooth: 'loss', color: '#8d3b1f', width: 2}]},
  {id: 'test', title: 'Test loss and accuracy', compare: {label: 'test accuracy', get: l => num(l.test_accuracy), scale: 'acc'},
    series: [
    {label: 'test loss', get: l => num(l.test_loss), color: '#1565c0', scale: 'loss', points: true},
    {label: 'test accuracy', get: l => num(l.test_accuracy), color: '#2e7d32', scale: 'acc', points: true}]},
  {id: 'lr', title: 'Learning rate', series: [{label: 'lr', get: l => num(l.lr), color: '#6a1b9a'}]},
  {id: 'speed', title: 'Images / s', series: [{label: 'images/s', get: l => num(l.images_per_sec), color: '#00838f'}]},
  {id: 'time', title: 'Time per step (ms)', series: [
    {label: 'step', get: l => num(l.step_ms), color: '#444'},
    {label: 'data wait', get: l => num(l.data_wait_ms), color: '#ef6c00'},
    {label: 'forward', get: l => num(sum(l.forward_ms)), color: '#1565c0'},
    {label: 'backward', get: l => num(sum(l.backward_ms)), color: '#c62828'},
    {label: 'update (previous step)', get: l => num(l.update_ms), color: '#2e7d32'}]},
  {id: 'queue', title: 'Loader queue', series: [
    {label: 'batches ready', get: l => num(l.loader_queue), color: '#00695c'},
    {label: 'requests in flight', get: l => num(l.in_flight), color: '#9e9d24'}]},
  {id: 'heap', title: 'JVM heap (MB)', series: [
    {label: 'used', get: l => num(l.heap_used_mb), color: '#5d4037'},
    {label: 'max', get: l => num(l.heap_max_mb), color: '#bcaaa4'}]},
];

const state = {run: null, rows: [], lastSeq: -1, layers: [], layersLastSeq: -1, status: null, compare: null, compareRows: [],
  ws: null, redraw: null, tab: 'charts', net: null, cy: null};
const charts = {};
const layerCharts = {};
window.cortado = {state, charts, layerCharts};

const $ = id => document.getElementById(id);

function xOf(line) {
  switch ($('x-axis').value) {
    case 'epochs': return num(line.epochs) ?? num(line.epoch);
    case 'time': return line.time ? line.time / 1000 : null;
    default: return num(line.step);
  }
}

function smoothed(rows, key) {
  const w = parseFloat($('smoothing').value);
  let s = 0, n = 0;
  return rows.map(l => {
    const v = num(l[key]);
    if (v === null) return null;
    s = w * s + (1 - w) * v;
    n++;
    return s / (1 - Math.pow(w, n)); // debiased, as TensorBoard does
  });
}

function table(def, rows) {
  const kept = rows.filter(l => xOf(l) !== null);
  const xs = kept.map(xOf);
  const cols = def.series.map(s => s.smooth ? smoothed(kept, s.smooth) : kept.map(s.get));
  return [xs, ...cols];
}

function chartData(def) {
  const own = table(def, state.rows);
  if (!state.compare || !def.compare) return own;
  return uPlot.join([own, table({series: [def.compare]}, state.compareRows)]);
}

/** A titled box for a chart, appended to {@code parent}. */
function chartBox(parent, id, title, className = 'chart') {
  const div = document.createElement('div');
  div.className = className;
  if (id) div.id = id;
  div.innerHTML = '<h3></h3>';
  div.querySelector('h3').textContent = title;
  parent.appendChild(div);
  return div;
}

/** Axis tick labels: small values with 3 significant digits, the rest as they are. */
const axisValues = (u, vals) => vals.map(v => v === 0 || Math.abs(v) >= 0.1 ? +v.toPrecision(6) + '' : v.toPrecision(3));

function build() {
  const box = $('charts');
  for (const c of Object.values(charts)) c.destroy();
  box.innerHTML = '';
  const time = $('x-axis').value === 'time';
  for (const def of CHARTS) {
    const div = chartBox(box, 'chart-' + def.id, def.title);
    const series = [{label: $('x-axis').selectedOptions[0].text}];
    for (const s of def.series) {
      series.push({label: s.label, stroke: s.color, width: s.width || 1.5, scale: s.scale || 'y', spanGaps: true,
        points: {show: !!s.points}});
    }
    if (state.compare && def.compare) {
      series.push({label: state.compare + ': ' + def.compare.label, stroke: '#ff8f00', width: 1.5,
        scale: def.compare.scale || 'y', spanGaps: true, dash: [6, 4], points: {show: !!def.compare.get}});
    }
    const scales = {x: {time}};
    const axes = [{}, {scale: def.series[0].scale || 'y', values: axisValues, size: 60}];
    if (def.id === 'test') {
      axes.push({scale: 'acc', side: 1, grid: {show: false}, values: axisValues});
    }
    const width = Math.max(300, div.clientWidth - 10);
    charts[def.id] = new uPlot({width, height: 220, series, scales, axes, legend: {live: true}}, chartData(def), div);
  }
}

function redraw() {
  if (state.redraw) return;
  state.redraw = setTimeout(() => {
    state.redraw = null;
    for (const def of CHARTS) charts[def.id]?.setData(chartData(def));
    const last = state.rows[state.rows.length - 1];
    if (last) {
      const test = [...state.rows].reverse().find(l => l.test_accuracy !== undefined);
      $('latest').textContent = 'step ' + last.step + (last.loss !== undefined ? '  loss ' + last.loss.toFixed(4) : '')
          + (last.lr !== undefined ? '  lr ' + last.lr.toPrecision(4) : '')
          + (test ? '  test accuracy ' + test.test_accuracy.toFixed(4) : '');
      if (last.step !== undefined) $('progress').textContent = 'iteration ' + last.step;
      $('latest').dataset.lr = last.lr ?? '';
      $('latest').dataset.step = last.step ?? '';
    }
  }, 200);
}

function showStatus(s) {
  if (!s) return;
  state.status = s;
  const b = $('status');
  b.textContent = s.status;
  b.className = 'badge ' + s.status.split(' ')[0];
  $('progress').textContent = s.iter !== undefined ? 'iteration ' + s.iter : '';
  const live = s.live && ['running', 'paused'].includes(s.status);
  $('btn-pause').disabled = !live || s.status === 'paused';
  $('btn-resume').disabled = !live || s.status !== 'paused';
  for (const id of ['btn-stop', 'btn-snapshot', 'btn-lr', 'lr-input']) $(id).disabled = !live;
  if (s.message) $('control-msg').textContent = s.message;
  $('tab-button-cluster').hidden = !s.cluster;
  if (s.cluster) drawCluster(s.cluster);
  else if (state.tab === 'cluster') showTab('charts');
}

// A clustered run's members: who serves the run and how fast (cluster.Members, once a second).
function drawCluster(table) {
  const up = table.members.filter(m => m.state === 'up');
  const rate = up.reduce((a, m) => a + m.batches_per_sec, 0);
  $('cluster-summary').textContent = 'cluster "' + table.name + '": ' + up.length + ' members up, '
      + rate.toFixed(1) + ' batches/s in all, as of ' + new Date(table.time).toLocaleTimeString();
  const tbody = $('cluster-table').querySelector('tbody');
  tbody.innerHTML = '';
  for (const m of table.members) {
    const tr = document.createElement('tr');
    tr.className = m.state;
    for (const [v, isNum] of [[m.node ?? '?'], [m.address], [m.replica ? m.role + ' + replica' : m.role], [m.state], [m.loaders ?? '', true],
      [m.augmenters ?? '', true], [fmt(m.batches), true], [m.batches_per_sec.toFixed(1), true]]) {
      const td = document.createElement('td');
      td.textContent = v;
      if (isNum) td.className = 'num';
      tr.appendChild(td);
    }
    tbody.appendChild(tr);
  }
}

// ---- websocket: history, then live batches; a reconnect asks for what it missed ----

function connect() {
  const ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws');
  state.ws = ws;
  ws.onopen = () => {
    $('conn').textContent = 'live';
    $('conn').className = 'badge live';
    if (state.run) subscribe();
  };
  ws.onmessage = e => {
    const m = JSON.parse(e.data);
    if (m.type === 'error') {
      message(m.message, true);
      return;
    }
    if (m.run !== state.run) return;
    if (m.type === 'history' || m.type === 'metrics') {
      const fresh = m.events.filter(l => l.seq > state.lastSeq);
      state.rows.push(...fresh);
      state.lastSeq = Math.max(state.lastSeq, m.last_seq);
      if (m.status) showStatus(m.status);
      if (m.layers) addLayers(m.layers, m.layers_last_seq);
      redraw();
    } else if (m.type === 'layers') {
      addLayers(m.events, m.last_seq);
    } else if (m.type === 'status') {
      const before = state.status && state.status.status;
      showStatus(m.status);
      if (m.status.status !== before) loadRuns();
    }
  };
  ws.onclose = () => {
    $('conn').textContent = 'reconnecting';
    $('conn').className = 'badge offline';
    setTimeout(connect, 1000);
  };
}

function subscribe() {
  if (state.ws && state.ws.readyState === WebSocket.OPEN) {
    state.ws.send(JSON.stringify({type: 'subscribe', run: state.run, after: state.lastSeq, after_layers: state.layersLastSeq}));
  }
}

// ---- REST ----

async function api(path, options = {}) {
  const headers = Object.assign({'Content-Type': 'application/json'}, token ? {'X-Cortado-Token': token} : {});
  const r = await fetch(path, Object.assign({headers}, options));
  const body = await r.json().catch(() => ({error: 'HTTP ' + r.status}));
  if (!r.ok) {
    const e = new Error(body.error || ('HTTP ' + r.status));
    e.body = body;
    throw e;
  }
  return body;
}

function message(text, error) {
  const m = $('control-msg');
  m.textContent = text;
  m.className = error ? 'error' : '';
}

async function loadRuns() {
  let runs;
  try {
    runs = (await api('/api/runs')).runs;
  } catch (e) {
    message(e.message, true);
    return [];
  }
  const ul = $('runs');
  ul.innerHTML = '';
  const cmp = $('compare');
  const chosen = cmp.value;
  cmp.innerHTML = '<option value="">(none)</option>';
  for (const r of runs) {
    const li = document.createElement('li');
    li.dataset.run = r.id;
    li.className = r.id === state.run ? 'selected' : '';
    li.innerHTML = '<span></span><small></small>';
    li.querySelector('span').textContent = r.id;
    li.querySelector('small').textContent = r.status + ' · iteration ' + r.iter
        + (r.test_accuracy !== undefined ? ' · test acc ' + r.test_accuracy.toFixed(4) : '');
    li.onclick = () => select(r.id);
    ul.appendChild(li);
    if (r.id !== state.run) {
      const o = document.createElement('option');
      o.value = r.id;
      o.textContent = r.id;
      cmp.appendChild(o);
    }
  }
  cmp.value = chosen;
  return runs;
}

async function select(id) {
  state.run = id;
  state.rows = [];
  state.lastSeq = -1;
  state.layers = [];
  state.layersLastSeq = -1;
  state.net = null;
  state.compare = null;
  $('compare').value = '';
  setHash();
  $('run-title').textContent = id;
  $('latest').textContent = '';
  $('control-msg').textContent = '';
  for (const li of $('runs').children) li.className = li.dataset.run === id ? 'selected' : '';
  build();
  subscribe();
  try {
    const run = await api('/api/runs/' + encodeURIComponent(id));
    showStatus(run);
    $('config').textContent = run.config ? JSON.stringify(run.config, null, 2) : run.config_error;
  } catch (e) {
    message(e.message, true);
  }
  buildLayers();
  if (state.tab === 'net') loadNet();
  loadRuns();
}

async function control(body) {
  try {
    const r = await api('/api/runs/' + encodeURIComponent(state.run) + '/control', {method: 'POST', body: JSON.stringify(body)});
    message(body.action === 'lr' ? 'lr ' + r.lr.toPrecision(4) + ' from step ' + r.from_step : body.action + ' sent at iteration ' + r.iter);
    const next = {pause: 'paused', resume: 'running', stop: 'stopping'}[body.action];
    if (next) showStatus(Object.assign({}, state.status, {status: next, live: true}));
  } catch (e) {
    message(e.message, true);
  }
}

$('btn-pause').onclick = () => control({action: 'pause'});
$('btn-resume').onclick = () => control({action: 'resume'});
$('btn-stop').onclick = () => control({action: 'stop'});
$('btn-snapshot').onclick = () => control({action: 'snapshot'});
$('btn-lr').onclick = () => {
  const lr = parseFloat($('lr-input').value);
  if (!(lr > 0)) {
    message('enter a positive learning rate', true);
    return;
  }
  control({action: 'lr', lr});
};
$('x-axis').onchange = build;
for (const b of document.querySelectorAll('#tabs button')) {
  b.onclick = () => showTab(b.dataset.tab);
}
$('hist-step').onchange = drawHistograms;
$('launch-pick').onchange = async () => {
  const name = $('launch-pick').value;
  if (!name) return;
  try {
    $('launch-text').value = JSON.stringify(await api('/api/configs/' + encodeURIComponent(name)), null, 2);
  } catch (e) {
    launchMessage(e.message, true);
  }
};
$('launch-file').onchange = () => {
  const f = $('launch-file').files[0];
  if (!f) return;
  if (f.size > 1 << 20) {
    launchMessage(f.name + ' is over 1 MiB: not a config', true);
    return;
  }
  f.text().then(t => { $('launch-text').value = t; launchMessage('', false); });
};
$('btn-launch').onclick = launch;
$('smoothing').oninput = redraw;
$('compare').onchange = async () => {
  const id = $('compare').value;
  state.compare = id || null;
  state.compareRows = [];
  if (id) {
    try {
      state.compareRows = (await api('/api/runs/' + encodeURIComponent(id) + '/metrics?max=2000')).events;
    } catch (e) {
      message(e.message, true);
    }
  }
  build();
};

(async () => {
  showStatus({status: '', live: false});
  const runs = await loadRuns();
  const hash = new URLSearchParams(location.hash.slice(1));
  const wanted = hash.get('run');
  const first = runs.find(r => r.id === wanted) || runs.find(r => r.live) || runs[0];
  connect();
  if (['layers', 'net', 'cluster', 'config', 'launch'].includes(hash.get('tab'))) showTab(hash.get('tab'));
  if (first) select(first.id);
  setInterval(loadRuns, 5000);
})();

// ---- tabs ----

function setHash() {
  history.replaceState(null, '', '#run=' + encodeURIComponent(state.run || '') + (state.tab !== 'charts' ? '&tab=' + state.tab : ''));
}

function showTab(tab) {
  state.tab = tab;
  if (state.run) setHash();
  for (const b of document.querySelectorAll('#tabs button')) b.className = b.dataset.tab === tab ? 'active' : '';
  for (const t of ['charts', 'layers', 'net', 'cluster', 'config', 'launch']) $('tab-' + t).hidden = t !== tab;
  if (tab === 'launch') loadConfigs();
  if (tab === 'layers') buildLayers();
  if (tab === 'net') loadNet();
  if (tab === 'charts') build();
}

// ---- per-layer stats: one line per sampled step, {step, params: [...], activations: [...]} ----

const PALETTE = ['#1565c0', '#c62828', '#2e7d32', '#6a1b9a', '#ef6c00', '#00838f', '#5d4037', '#ad1457', '#9e9d24',
  '#283593', '#00695c', '#d84315', '#4527a0', '#558b2f', '#37474f'];

const LAYER_CHARTS = [
  {id: 'ratio', title: 'Update:parameter ratio (log10)', from: 'params', key: 'name',
    get: p => p.update_ratio > 0 ? Math.log10(p.update_ratio) : null},
  {id: 'wnorm', title: 'Weight norm (L2)', from: 'params', key: 'name', get: p => p.weight_norm},
  {id: 'gnorm', title: 'Gradient norm (L2)', from: 'params', key: 'name', get: p => p.grad_norm},
  {id: 'astd', title: 'Activation standard deviation', from: 'activations', key: 'blob', get: a => a.std},
  {id: 'azero', title: 'Activation zeros (fraction)', from: 'activations', key: 'blob', get: a => a.zero_fraction},
];

function addLayers(events, lastSeq) {
  const fresh = events.filter(l => l.seq > state.layersLastSeq);
  const before = namesOf('params').length + namesOf('activations').length;
  state.layers.push(...fresh);
  state.layersLastSeq = Math.max(state.layersLastSeq, lastSeq ?? -1);
  if (state.tab !== 'layers' || fresh.length === 0) return;
  if (namesOf('params').length + namesOf('activations').length !== before) {
    buildLayers();
  } else {
    for (const def of LAYER_CHARTS) layerCharts[def.id]?.setData(layerData(def));
    fillHistSteps();
  }
}

function namesOf(from) {
  const names = [];
  const key = from === 'params' ? 'name' : 'blob';
  for (const l of state.layers) for (const p of l[from] || []) if (!names.includes(p[key])) names.push(p[key]);
  return names;
}

function layerData(def) {
  const names = namesOf(def.from);
  const xs = state.layers.map(l => l.step);
  const cols = names.map(n => state.layers.map(l => {
    const p = (l[def.from] || []).find(q => q[def.key] === n);
    return p ? num(def.get(p)) : null;
  }));
  return [xs, ...cols];
}

function buildLayers() {
  for (const c of Object.values(layerCharts)) c.destroy();
  for (const k of Object.keys(layerCharts)) delete layerCharts[k];
  const box = $('layer-charts');
  box.innerHTML = '';
  if (state.tab !== 'layers') return;
  if (state.layers.length === 0) {
    box.textContent = 'No per-layer stats yet (the first comes with step 1, then every layer_stats_every steps).';
    $('histograms').innerHTML = '';
    return;
  }
  for (const def of LAYER_CHARTS) {
    const div = chartBox(box, 'layer-chart-' + def.id, def.title);
    const series = [{label: 'step'}, ...namesOf(def.from).map((n, i) => ({label: n, stroke: PALETTE[i % PALETTE.length],
      width: 1.5, spanGaps: true}))];
    layerCharts[def.id] = new uPlot({width: Math.max(300, div.clientWidth - 10), height: 240, series,
      scales: {x: {time: false}}, axes: [{}, {values: axisValues, size: 60}]}, layerData(def), div);
  }
  fillHistSteps();
}

function fillHistSteps() {
  const sel = $('hist-step');
  const newest = sel.value === '' || sel.selectedIndex === 0;
  const chosen = sel.value;
  sel.innerHTML = '';
  for (const l of [...state.layers].reverse()) {
    const o = document.createElement('option');
    o.value = l.seq;
    o.textContent = l.step;
    sel.appendChild(o);
  }
  if (!newest) sel.value = chosen;
  drawHistograms();
}

function drawHistograms() {
  const box = $('histograms');
  for (const c of box._plots || []) c.destroy();
  box.innerHTML = '';
  box._plots = [];
  const line = state.layers.find(l => String(l.seq) === $('hist-step').value);
  if (!line) return;
  const items = [...(line.params || []).map(p => ({title: 'weights ' + p.name, h: p.hist, color: '#1565c0'})),
    ...(line.activations || []).map(a => ({title: 'activations ' + a.blob, h: a.hist, color: '#2e7d32'}))];
  for (const it of items) {
    const div = chartBox(box, null, it.title, 'chart histogram');
    const h = it.h;
    if (h.min === null || h.max === null) {
      div.appendChild(document.createTextNode('no finite values (' + h.non_finite + ' NaN or infinite)'));
      continue;
    }
    const w = (h.max - h.min) / h.counts.length;
    const xs = h.counts.map((c, i) => h.min + (i + 0.5) * w);
    box._plots.push(new uPlot({width: Math.max(260, div.clientWidth - 10), height: 150, legend: {show: false},
      scales: {x: {time: false}}, series: [{}, {stroke: it.color, fill: it.color + '55',
        paths: uPlot.paths.bars({size: [0.95, 100]})}], axes: [{}, {size: 50}]}, [xs, h.counts], div));
  }
}

// ---- the net as a graph (net.json: layers, top shapes, params, FLOPs) ----

const TYPE_COLORS = {Convolution: '#bbdefb', Deconvolution: '#bbdefb', InnerProduct: '#c8e6c9', Pooling: '#ffcdd2',
  ReLU: '#e1bee7', PReLU: '#e1bee7', ELU: '#e1bee7', Sigmoid: '#e1bee7', TanH: '#e1bee7', BatchNorm: '#fff9c4',
  Scale: '#fff9c4', Dropout: '#d7ccc8', Concat: '#ffe0b2', Eltwise: '#ffe0b2', Split: '#eeeeee'};

async function loadNet() {
  if (!state.run) return;
  if (!state.net) {
    try {
      state.net = await api('/api/runs/' + encodeURIComponent(state.run) + '/net');
    } catch (e) {
      $('net-summary').textContent = e.message;
      return;
    }
  }
  drawNet(state.net);
}

const fmt = n => n.toLocaleString('en-US');

function drawNet(net) {
  $('net-summary').textContent = net.name + ' (' + net.phase + '): ' + net.layers.length + ' layers, '
      + fmt(net.params) + ' parameters, ' + (net.flops_per_image / 1e6).toFixed(2) + ' MFLOPs forward per image';
  const tbody = $('net-table').querySelector('tbody');
  tbody.innerHTML = '';
  for (const l of net.layers) {
    const tr = document.createElement('tr');
    for (const [v, isNum] of [[l.name], [l.type], [l.bottoms.join(', ')], [l.tops.join(', ')],
      [l.top_shapes.map(s => s.join('×')).join(', ')], [fmt(l.params), true], [(l.flops / 1e6).toFixed(3), true]]) {
      const td = document.createElement('td');
      td.textContent = v;
      if (isNum) td.className = 'num';
      tr.appendChild(td);
    }
    tbody.appendChild(tr);
  }
  // Nodes: the layers, and the blobs no layer writes (the net's inputs). Edges: from the last layer
  // that wrote a blob (in-place layers rewrite it) to each layer that reads it. Each node sits one
  // rank below the deepest node it reads from (the longest path from the inputs), as Netscope lays out.
  const elements = [];
  const writer = {};
  const rank = {};
  const nodes = [];
  for (const l of net.layers) {
    let r = 0;
    for (const b of l.bottoms) {
      if (!(b in writer)) {
        writer[b] = 'blob:' + b;
        rank[writer[b]] = 0;
        nodes.push({id: writer[b], label: b, type: 'input'});
      }
      r = Math.max(r, rank[writer[b]] + 1);
      elements.push({data: {id: 'e' + elements.length, source: writer[b], target: 'layer:' + l.name}});
    }
    const id = 'layer:' + l.name;
    rank[id] = r;
    const shape = l.top_shapes.length && l.top_shapes[0].length ? l.top_shapes[0].join('×') : '';
    nodes.push({id, label: l.name + '\n' + l.type + (shape ? '\n' + shape : ''), type: l.type});
    for (const t of l.tops) writer[t] = id;
  }
  const perRank = {};
  for (const n of nodes) (perRank[rank[n.id]] = perRank[rank[n.id]] || []).push(n);
  for (const [r, ns] of Object.entries(perRank)) {
    ns.forEach((n, i) => elements.push({data: n, position: {x: (i - (ns.length - 1) / 2) * 170, y: r * 78}}));
  }
  if (state.cy) state.cy.destroy();
  const lines = n => n.data('label').split('\n');
  state.cy = cytoscape({
    container: $('net-graph'),
    elements,
    layout: {name: 'preset', fit: true, padding: 12},
    style: [
      {selector: 'node', style: {shape: 'round-rectangle', label: 'data(label)', 'text-wrap': 'wrap', 'text-valign': 'center',
        'font-size': 10, width: n => Math.max(50, 6.2 * Math.max(...lines(n).map(t => t.length))) + 8,
        height: n => 13 * lines(n).length + 10, 'border-width': 1, 'border-color': '#888',
        'background-color': n => TYPE_COLORS[n.data('type')] || (n.data('type') === 'input' ? '#ffffff' : '#e0e0e0')}},
      {selector: 'edge', style: {width: 1.2, 'line-color': '#888', 'target-arrow-color': '#888', 'target-arrow-shape': 'triangle',
        'curve-style': 'bezier'}},
    ],
  });
}

// ---- launching a run ----

function launchMessage(text, error, problems = []) {
  $('launch-msg').textContent = text;
  $('launch-msg').className = error ? 'error' : '';
  const ul = $('launch-errors');
  ul.innerHTML = '';
  for (const p of problems) {
    const li = document.createElement('li');
    li.textContent = p;
    ul.appendChild(li);
  }
}

async function loadConfigs() {
  try {
    const r = await api('/api/configs');
    const sel = $('launch-pick');
    sel.innerHTML = '<option value="">(pick one)</option>';
    for (const c of r.configs) {
      const o = document.createElement('option');
      o.value = c;
      o.textContent = c;
      sel.appendChild(o);
    }
    $('btn-launch').disabled = !r.launch;
    if (!r.launch) launchMessage('this dashboard does not start runs', true);
  } catch (e) {
    launchMessage(e.message, true);
  }
}

async function launch() {
  let config;
  try {
    config = JSON.parse($('launch-text').value);
  } catch (e) {
    launchMessage('not JSON: ' + e.message, true);
    return;
  }
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    launchMessage('a config is a JSON object', true);
    return;
  }
  launchMessage('checking and starting ...', false);
  try {
    const r = await api('/api/runs', {method: 'POST', body: JSON.stringify({config})});
    launchMessage('started ' + r.id, false);
    await loadRuns();
    showTab('charts');
    select(r.id);
  } catch (e) {
    launchMessage(e.message, true, (e.body && e.body.problems) || []);
  }
}
