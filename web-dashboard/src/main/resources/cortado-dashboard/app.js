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

const state = {run: null, rows: [], lastSeq: -1, status: null, compare: null, compareRows: [], ws: null, redraw: null};
const charts = {};
window.cortado = {state, charts};

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

function build() {
  const box = $('charts');
  for (const c of Object.values(charts)) c.destroy();
  box.innerHTML = '';
  const time = $('x-axis').value === 'time';
  for (const def of CHARTS) {
    const div = document.createElement('div');
    div.className = 'chart';
    div.id = 'chart-' + def.id;
    div.innerHTML = '<h3></h3>';
    div.querySelector('h3').textContent = def.title;
    box.appendChild(div);
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
    const values = (u, vals) => vals.map(v => v === 0 || Math.abs(v) >= 0.1 ? +v.toPrecision(6) + '' : v.toPrecision(3));
    const axes = [{}, {scale: def.series[0].scale || 'y', values, size: 60}];
    if (def.id === 'test') {
      axes.push({scale: 'acc', side: 1, grid: {show: false}, values});
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
      redraw();
    } else if (m.type === 'status') {
      showStatus(m.status);
      loadRuns();
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
    state.ws.send(JSON.stringify({type: 'subscribe', run: state.run, after: state.lastSeq}));
  }
}

// ---- REST ----

async function api(path, options = {}) {
  const headers = Object.assign({'Content-Type': 'application/json'}, token ? {'X-Cortado-Token': token} : {});
  const r = await fetch(path, Object.assign({headers}, options));
  const body = await r.json().catch(() => ({error: 'HTTP ' + r.status}));
  if (!r.ok) throw new Error(body.error || ('HTTP ' + r.status));
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
  state.compare = null;
  $('compare').value = '';
  location.hash = 'run=' + encodeURIComponent(id);
  $('run-title').textContent = id;
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
  const wanted = new URLSearchParams(location.hash.slice(1)).get('run');
  const first = runs.find(r => r.id === wanted) || runs.find(r => r.live) || runs[0];
  connect();
  if (first) select(first.id);
  setInterval(loadRuns, 5000);
})();
