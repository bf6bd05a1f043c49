// The Playground's page: it shows what the Python server's nn.fit computes; nothing here trains.
// State arrives as JSON (commands' answers) and views as Server-Sent Events; settings live in the URL's hash.
"use strict";

const LR_VALUES = [0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10, 100];
const L2_VALUES = [0, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1];
const VALUE_COLOUR = "#2e7d32", GRAD_COLOUR = "#c62828", PATH_COLOUR = "#1565c0"; // draw_dot's colours
const NODE = 34, GAP = 40, TOP = 34;
const $ = (id) => document.getElementById(id);

const page = { state: null, view: null, events: null, svgKey: null, svgFetching: null, texts: {}, zoom: 0.7,
  wires: [], neurons: [], lastError: "", status: "paused", shown: -1 };
window.playground = page; // for the browser test: the state and where a point is on the screen

// --- colours: orange for negative, white at 0, blue for positive, as TensorFlow Playground

const LUT = (() => {
  const lut = new Uint8ClampedArray(256 * 3);
  const white = [245, 245, 245], orange = [245, 147, 34], blue = [8, 119, 189];
  for (let i = 0; i < 256; i++) {
    const t = i / 127.5 - 1, end = t < 0 ? orange : blue, a = Math.abs(t);
    for (let c = 0; c < 3; c++) lut[3 * i + c] = white[c] + (end[c] - white[c]) * a;
  }
  return lut;
})();

function colourOf(t) {
  const i = Math.max(0, Math.min(255, Math.round((t + 1) * 127.5)));
  return `rgb(${LUT[3 * i]},${LUT[3 * i + 1]},${LUT[3 * i + 2]})`;
}

function paintMap(canvas, base64, size) {
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  if (canvas.width !== size) { canvas.width = size; canvas.height = size; }
  const ctx = canvas.getContext("2d"), image = ctx.createImageData(size, size);
  for (let k = 0; k < bytes.length; k++) {
    const i = bytes[k];
    image.data[4 * k] = LUT[3 * i]; image.data[4 * k + 1] = LUT[3 * i + 1];
    image.data[4 * k + 2] = LUT[3 * i + 2]; image.data[4 * k + 3] = 255;
  }
  ctx.putImageData(image, 0, 0);
}

// --- talking to the server

async function post(path, body) {
  const response = await fetch(path, { method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body) });
  const answer = await response.json();
  if (!response.ok) throw new Error(answer.error || `HTTP ${response.status}`);
  return answer;
}

async function command(action, extra = {}) {
  if (!page.state) return;
  try {
    showState(await post(`/api/sessions/${page.state.id}`, { action, ...extra }));
    say("");
  } catch (error) {
    say(error.message);
    if (page.state) showControls(page.state.settings); // the controls go back to what the server has
  }
}

function configure(changes) { command("configure", { settings: changes }); }

function say(text) { $("message").textContent = text; page.lastError = text; }

function settingsFromHash() {
  const params = new URLSearchParams(location.hash.slice(1)), out = {};
  for (const [k, v] of params) out[k] = v;
  return out;
}

function writeHash(settings) {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(settings)) params.set(k, Array.isArray(v) ? v.join(",") : String(v));
  history.replaceState(null, "", "#" + params.toString());
}

async function start() {
  let state;
  try {
    state = await post("/api/sessions", { settings: settingsFromHash() });
  } catch (error) {
    state = await post("/api/sessions", { settings: {} });
    say(`The link's settings were refused (${error.message}); the defaults are shown.`);
  }
  showState(state);
  listen();
}

function listen() {
  page.events = new EventSource(`/api/sessions/${page.state.id}/events`);
  page.events.onmessage = (event) => showView(JSON.parse(event.data));
  page.events.onerror = () => {
    if (page.events.readyState === EventSource.CLOSED) say("The playground server has stopped; restart it and reload.");
  };
}

window.addEventListener("pagehide", () => {
  if (!page.state) return;
  if (page.events) page.events.close();
  fetch(`/api/sessions/${page.state.id}`, { method: "POST", keepalive: true,
    headers: { "Content-Type": "application/json" }, body: JSON.stringify({ action: "close" }) }).catch(() => {});
});

// --- the state: settings, data, structure

function showState(state) {
  const old = page.state;
  page.state = state;
  writeHash(state.settings);
  showControls(state.settings);
  showStatus(state.version, state.status, state.message, state.epoch);
  $("code").textContent = state.code;
  if (!old || old.run !== state.run || old.point !== state.point) drawPoints();
  if (!old || old.run !== state.run) { buildNetwork(); fillParams(); }
  if (state.point === null) { $("graph").textContent = ""; page.svgKey = null; }
  $("explain-on").checked = state.explain !== null;
  if (state.explain !== null) $("explain-param").value = state.explain;
  if (state.explain === null) $("explain").hidden = true;
}

function nearestIndex(values, x) {
  let best = 0;
  values.forEach((v, i) => { if (Math.abs(Math.log(v + 1e-9) - Math.log(x + 1e-9)) < Math.abs(Math.log(values[best] + 1e-9) - Math.log(x + 1e-9))) best = i; });
  return best;
}

function showControls(s) {
  document.querySelectorAll("#datasets button").forEach((b) => b.classList.toggle("on", b.dataset.data === s.data));
  $("noise").value = s.noise; $("noise-value").textContent = s.noise;
  $("samples").value = s.samples; $("samples-value").textContent = s.samples;
  $("lr").value = nearestIndex(LR_VALUES, s.lr); $("lr-value").textContent = s.lr;
  $("l2").value = nearestIndex(L2_VALUES, s.l2); $("l2-value").textContent = s.l2;
  for (const id of ["optimizer", "batch", "loss", "activation", "speed"]) $(id).value = String(s[id]);
  $("seed").value = s.seed;
  for (const option of $("loss").options) option.disabled = s.data === "regression" && option.value !== "mse";
  const n = s.layers.length;
  $("layer-count").textContent = `${n} hidden layer${n === 1 ? "" : "s"}`;
}

function showStatus(version, status, message, epoch) {
  // a command's answer may arrive after a newer view (a step done at once): the higher version wins
  if (version < page.shown) return;
  page.shown = version; page.status = status;
  const running = status === "running";
  $("play").textContent = running ? "❚❚" : "▶";
  $("play").classList.toggle("running", running);
  $("epoch").textContent = epoch.toLocaleString("en-US");
  if (message) say(message);
}

// --- the network: neuron heat maps in columns, wires between them

function layout() {
  const s = page.state.settings, sizes = [2, ...s.layers, 1];
  const width = Math.max($("network").clientWidth, 300), columns = sizes.length;
  const x = (c) => 20 + (c * (width - 90)) / (columns - 1);
  const height = TOP + Math.max(...sizes) * GAP;
  const nodes = sizes.map((n, c) => Array.from({ length: n }, (_, j) => ({ x: x(c), y: TOP + j * GAP + (height - TOP - n * GAP) / 2 })));
  return { sizes, nodes, width, height };
}

function buildNetwork() {
  const net = $("network"), { sizes, nodes, width, height } = layout();
  net.querySelectorAll(".neuron, .column-head, .node-name").forEach((e) => e.remove());
  net.style.height = `${height + 10}px`;
  const svg = $("wires");
  svg.setAttribute("width", width); svg.setAttribute("height", height);
  svg.textContent = "";
  page.wires = []; page.neurons = [];
  for (let c = 1; c < sizes.length; c++) {
    for (let j = 0; j < sizes[c]; j++) {
      for (let i = 0; i < sizes[c - 1]; i++) page.wires.push(makeWire(svg, nodes[c - 1][i], nodes[c][j], c - 1, j, i));
    }
  }
  nodes.forEach((column, c) => column.forEach((p, j) => page.neurons.push(makeNeuron(net, p, c, j, sizes.length))));
  sizes.slice(1, -1).forEach((n, l) => makeColumnHead(net, nodes[l + 1][0].x, l, n));
  paintInputs();
}

function makeWire(svg, a, b, layer, neuron, input) {
  const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
  const x0 = a.x + NODE, y0 = a.y + NODE / 2, x1 = b.x, y1 = b.y + NODE / 2, mid = (x0 + x1) / 2;
  path.setAttribute("d", `M${x0},${y0} C${mid},${y0} ${mid},${y1} ${x1},${y1}`);
  path.setAttribute("stroke", "#cfd8dc"); path.setAttribute("stroke-width", "1");
  const name = `layers.${layer}.neurons.${neuron}.w.${input}`;
  path.addEventListener("mousemove", (e) => tip(e, wireText(name)));
  path.addEventListener("mouseleave", () => { $("tip").hidden = true; });
  svg.appendChild(path);
  return { path, name };
}

function makeNeuron(net, p, c, j, columns) {
  const canvas = document.createElement("canvas");
  const output = c === columns - 1;
  canvas.className = output ? "neuron output" : "neuron";
  canvas.style.left = `${p.x}px`; canvas.style.top = `${p.y - (output ? 6 : 0)}px`;
  canvas.width = 20; canvas.height = 20;
  const name = c === 0 ? `x${j}` : `layers.${c - 1}.neurons.${j}`;
  canvas.dataset.name = name;
  canvas.addEventListener("mousemove", (e) => tip(e, c === 0 ? `input ${name}` : neuronText(name)));
  canvas.addEventListener("mouseleave", () => { $("tip").hidden = true; });
  net.appendChild(canvas);
  return { canvas, hidden: c > 0 && !output, input: c === 0 ? j : null };
}

function makeColumnHead(net, x, layer, n) {
  const head = document.createElement("div");
  head.className = "column-head";
  head.style.left = `${x + NODE / 2 - 40}px`; head.style.top = "0px";
  const minus = document.createElement("button"), plus = document.createElement("button");
  minus.textContent = "−"; plus.textContent = "+";
  minus.title = "remove a neuron"; plus.title = "add a neuron";
  minus.addEventListener("click", () => setNeurons(layer, n - 1));
  plus.addEventListener("click", () => setNeurons(layer, n + 1));
  head.append(minus, ` ${n} `, plus);
  head.dataset.layer = layer;
  net.appendChild(head);
}

function setNeurons(layer, n) {
  const layers = [...page.state.settings.layers];
  layers[layer] = n;
  configure({ layers });
}

function paintInputs() {
  // the inputs' own maps: x0 grows to the right, x1 upwards (the plane the surface covers)
  const size = 20;
  page.neurons.filter((n) => n.input !== null).forEach((n) => {
    const bytes = new Uint8Array(size * size);
    for (let r = 0; r < size; r++) for (let c = 0; c < size; c++) {
      const t = n.input === 0 ? (c + 0.5) / size * 2 - 1 : 1 - (r + 0.5) / size * 2;
      bytes[r * size + c] = Math.round((t + 1) * 127.5);
    }
    paintMap(n.canvas, btoa(String.fromCharCode(...bytes)), size);
  });
}

function paramIndex(name) { return page.state.params.indexOf(name); }

function numberText(x) { return x === null || x === undefined ? "—" : Number(x).toPrecision(4); }

function wireText(name) {
  const v = page.view, i = paramIndex(name);
  if (!v || i < 0) return name;
  const grad = v.g ? numberText(v.g[i]) : "— (no step yet)";
  return `${name}\nweight ${numberText(v.w[i])}\n∂loss/∂w ${grad} (last step)`;
}

function neuronText(name) {
  const v = page.view, i = paramIndex(`${name}.b`);
  if (!v || i < 0) return name;
  return `${name}\nbias ${numberText(v.w[i])}, ∂loss/∂b ${v.g ? numberText(v.g[i]) : "—"}`;
}

function tip(event, text) {
  const t = $("tip");
  t.textContent = text; t.hidden = false;
  t.style.left = `${event.clientX + 12}px`; t.style.top = `${event.clientY + 12}px`;
}

// --- the views

function showView(view) {
  if (!page.state || view.run !== page.state.run) return; // a view of the run before a reset
  page.view = view;
  showStatus(view.version, view.status, view.message, view.epoch);
  $("loss-now").textContent = numberText(view.loss);
  $("accuracy-now").textContent = view.accuracy === null ? "—" : `${(100 * view.accuracy).toFixed(1)}%`;
  paintMap($("surface"), view.surface, view.size);
  const hidden = page.neurons.filter((n) => n.hidden);
  hidden.forEach((n, k) => { if (view.neurons[k]) paintMap(n.canvas, view.neurons[k], view.neuron_size); });
  const output = page.neurons[page.neurons.length - 1];
  paintMap(output.canvas, view.surface, view.size);
  paintWires(view);
  drawChart(view.chart);
  showGraph(view.graph);
}

function paintWires(view) {
  for (const wire of page.wires) {
    const i = paramIndex(wire.name);
    if (i < 0) continue;
    const w = view.w[i];
    wire.path.setAttribute("stroke", w >= 0 ? "#0877bd" : "#f59322");
    wire.path.setAttribute("stroke-width", Math.min(0.6 + 2.2 * Math.abs(w), 7).toFixed(2));
    wire.path.setAttribute("stroke-opacity", Math.min(0.35 + Math.abs(w) / 2, 0.9).toFixed(2));
  }
}

function drawChart(chart) {
  const canvas = $("chart"), ctx = canvas.getContext("2d"), W = canvas.width, H = canvas.height, pad = 6, top_ = 18;
  ctx.clearRect(0, 0, W, H);
  const n = chart.epoch.length;
  if (!n) return;
  const losses = chart.loss.filter((x) => x !== null), top = Math.max(...losses, 1e-9);
  const first = chart.epoch[0], last = Math.max(chart.epoch[n - 1], first + 1);
  const X = (e) => pad + ((e - first) / (last - first)) * (W - 2 * pad);
  line(ctx, chart.epoch, chart.loss, X, (y) => H - pad - (y / top) * (H - pad - top_), "#263238");
  line(ctx, chart.epoch, chart.accuracy, X, (y) => H - pad - y * (H - pad - top_), "#2e7d32");
  ctx.fillStyle = "#78909c"; ctx.font = "11px sans-serif";
  ctx.fillText(`loss up to ${top.toPrecision(3)} · accuracy 0–100%`, pad + 2, 12);
  ctx.textAlign = "right"; ctx.fillText(`epoch ${chart.epoch[n - 1]}`, W - pad, 12); ctx.textAlign = "left";
}

function line(ctx, xs, ys, X, Y, colour) {
  ctx.strokeStyle = colour; ctx.lineWidth = 1.5; ctx.beginPath();
  let open = false;
  xs.forEach((x, i) => {
    if (ys[i] === null) { open = false; return; }
    if (open) ctx.lineTo(X(x), Y(ys[i])); else ctx.moveTo(X(x), Y(ys[i]));
    open = true;
  });
  ctx.stroke();
}

// --- the points on the surface

function toScreen(i) {
  const [x0, x1, y0, y1] = page.state.domain, p = page.state.points, S = 320;
  return { x: ((p.x[i] - x0) / (x1 - x0)) * S, y: ((y1 - p.y[i]) / (y1 - y0)) * S };
}

page.pointOnScreen = (i) => {
  const box = $("points").getBoundingClientRect(), p = toScreen(i);
  return { x: box.left + p.x, y: box.top + p.y };
};

function pointColour(t) {
  const s = page.state.settings;
  if (s.data === "regression") {
    const top = Math.max(...page.state.points.t.map(Math.abs), 1e-9);
    return colourOf(t / top);
  }
  return t > 0 ? "#0877bd" : "#f59322";
}

function drawPoints() {
  const canvas = $("points"), ctx = canvas.getContext("2d"), p = page.state.points;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  for (let i = 0; i < p.x.length; i++) {
    const { x, y } = toScreen(i);
    ctx.beginPath(); ctx.arc(x, y, 3.5, 0, 2 * Math.PI);
    ctx.fillStyle = pointColour(p.t[i]); ctx.fill();
    ctx.strokeStyle = "#fff"; ctx.lineWidth = 1; ctx.stroke();
  }
  if (page.state.point !== null) {
    const { x, y } = toScreen(page.state.point);
    ctx.beginPath(); ctx.arc(x, y, 8, 0, 2 * Math.PI);
    ctx.strokeStyle = "#000"; ctx.lineWidth = 2; ctx.stroke();
  }
}

$("points").addEventListener("click", (event) => {
  const box = $("points").getBoundingClientRect(), mx = event.clientX - box.left, my = event.clientY - box.top;
  let best = null, bestD = 12 * 12;
  for (let i = 0; i < page.state.points.x.length; i++) {
    const { x, y } = toScreen(i), d = (x - mx) ** 2 + (y - my) ** 2;
    if (d < bestD) { best = i; bestD = d; }
  }
  if (best !== null) command("select", { point: best });
});

// --- the graph of one point: laid out once by the server, its numbers rewritten with every view

function showGraph(graph) {
  if (!graph) return;
  if (graph.error) { $("graph-status").textContent = graph.error; $("graph").textContent = ""; page.svgKey = null; return; }
  if (graph.key !== page.svgKey) { fetchGraph(graph.key); return; }
  for (const [title, texts] of Object.entries(graph.labels)) {
    const elements = page.texts[title];
    if (elements && elements.length === texts.length) texts.forEach((t, k) => { elements[k].textContent = t; });
  }
  const explainBox = $("explain");
  explainBox.hidden = !graph.explain;
  if (graph.explain) explainBox.textContent = graph.explain;
}

async function fetchGraph(key) {
  if (page.svgFetching === key) return;
  page.svgFetching = key;
  $("graph-status").textContent = "laying out the graph…";
  try {
    const response = await fetch(`/api/sessions/${page.state.id}/graph`);
    const answer = await response.json();
    if (!response.ok || answer.error) throw new Error(answer.error || `HTTP ${response.status}`);
    insertSvg(answer.svg, answer.key);
  } catch (error) {
    $("graph-status").textContent = error.message;
  } finally {
    page.svgFetching = null;
  }
}

function insertSvg(text, key) {
  const doc = new DOMParser().parseFromString(text, "image/svg+xml");
  const svg = document.importNode(doc.documentElement, true);
  page.natural = parseFloat(svg.getAttribute("width")) * (4 / 3); // pt to px
  svg.removeAttribute("height");
  $("graph").textContent = "";
  $("graph").appendChild(svg);
  page.texts = {};
  svg.querySelectorAll("g.node, g.edge").forEach((g) => {
    const title = g.querySelector("title");
    const coloured = [...g.querySelectorAll("text")].filter((t) => {
      const fill = (t.getAttribute("fill") || "").toLowerCase();
      return fill === VALUE_COLOUR || fill === GRAD_COLOUR;
    });
    if (title && coloured.length) page.texts[title.textContent] = coloured;
  });
  page.svgKey = key;
  applyZoom();
  scrollToHighlight(svg);
  const s = page.state, p = s.points;
  $("graph-status").textContent = `point ${s.point} at (${p.x[s.point].toFixed(2)}, ${p.y[s.point].toFixed(2)}), ` +
    `target ${p.t[s.point]}: its loss's graph, values in green, gradients of the loss in red`;
}

function scrollToHighlight(svg) {
  // explain's weight is drawn with its paths in blue (draw_dot's highlight): bring it into view
  const lit = svg.querySelector(`g.node [stroke="${PATH_COLOUR}"]`);
  if (!lit) return;
  const box = $("graph"), where = lit.getBoundingClientRect(), frame = box.getBoundingClientRect();
  box.scrollTop += where.top - frame.top - box.clientHeight / 3;
  box.scrollLeft += where.left - frame.left - box.clientWidth / 4;
}

function applyZoom() {
  const svg = $("graph").querySelector("svg");
  if (svg && page.natural) svg.style.width = `${page.natural * page.zoom}px`;
}

$("zoom-in").addEventListener("click", () => { page.zoom = Math.min(page.zoom * 1.25, 3); applyZoom(); });
$("zoom-out").addEventListener("click", () => { page.zoom = Math.max(page.zoom / 1.25, 0.2); applyZoom(); });

function fillParams() {
  const select = $("explain-param");
  select.textContent = "";
  for (const name of page.state.params) select.add(new Option(name, name));
  if (page.state.explain) select.value = page.state.explain;
}

$("explain-on").addEventListener("change", () => {
  command("explain", { param: $("explain-on").checked ? $("explain-param").value : null });
});
$("explain-param").addEventListener("change", () => {
  if ($("explain-on").checked) command("explain", { param: $("explain-param").value });
});

// --- the controls

$("play").addEventListener("click", () => command(page.status === "running" ? "pause" : "play"));
$("step").addEventListener("click", () => command("step"));
$("reset").addEventListener("click", () => command("reset"));
$("regenerate").addEventListener("click", () => command("regenerate"));
$("speed").addEventListener("change", () => configure({ speed: Number($("speed").value) }));
document.querySelectorAll("#datasets button").forEach((b) => b.addEventListener("click", () => {
  const changes = { data: b.dataset.data };
  if (b.dataset.data === "regression") changes.loss = "mse";
  else if (page.state.settings.data === "regression") changes.loss = "hinge";
  configure(changes);
}));
$("noise").addEventListener("input", () => { $("noise-value").textContent = $("noise").value; });
$("noise").addEventListener("change", () => configure({ noise: Number($("noise").value) }));
$("samples").addEventListener("input", () => { $("samples-value").textContent = $("samples").value; });
$("samples").addEventListener("change", () => configure({ samples: Number($("samples").value) }));
$("lr").addEventListener("input", () => { $("lr-value").textContent = LR_VALUES[$("lr").value]; });
$("lr").addEventListener("change", () => configure({ lr: LR_VALUES[$("lr").value] }));
$("l2").addEventListener("input", () => { $("l2-value").textContent = L2_VALUES[$("l2").value]; });
$("l2").addEventListener("change", () => configure({ l2: L2_VALUES[$("l2").value] }));
for (const id of ["optimizer", "batch", "loss", "activation"]) {
  $(id).addEventListener("change", () => configure({ [id]: $(id).value }));
}
$("seed").addEventListener("change", () => configure({ seed: $("seed").value }));
$("add-layer").addEventListener("click", () => {
  const layers = page.state.settings.layers;
  configure({ layers: [...layers, layers.length ? layers[layers.length - 1] : 4] });
});
$("remove-layer").addEventListener("click", () => configure({ layers: page.state.settings.layers.slice(0, -1) }));
$("copy-code").addEventListener("click", async () => {
  $("code").hidden = !$("code").hidden;
  try { await navigator.clipboard.writeText(page.state.code); $("copy-code").textContent = "copied ✓"; }
  catch { $("copy-code").textContent = "copy as code (select the text below)"; }
});
window.addEventListener("resize", () => { if (page.state) { buildNetwork(); if (page.view) showView(page.view); } });

start().catch((error) => say(`The playground cannot start: ${error.message}`));
