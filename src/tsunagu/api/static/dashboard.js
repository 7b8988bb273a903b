// The testbed dashboard: everything comes from this server's /v1 API; no external asset.
"use strict";

const state = { token: "", runs: [], geo: null, traces: {}, run: "" };
const OPERATOR_COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf"];
const KPIS = [
  ["latency_p50_ms", "latency p50", "ms", 1], ["latency_p95_ms", "latency p95", "ms", 1],
  ["sla_share", "within SLA", "%", 100], ["served_share", "served", "%", 100],
  ["energy_total_kwh", "energy", "kWh", 1], ["carbon_kg", "carbon", "kg CO2e", 1],
];

function say(text) { document.getElementById("status").textContent = text; }

async function api(path) {
  const r = await fetch(path, { headers: { Authorization: "Bearer " + state.token } });
  if (!r.ok) throw new Error(path + ": HTTP " + r.status);
  return r.json();
}

function fmt(v, scale) {
  if (v === null || v === undefined) return "n/a";
  const x = v * scale;
  return Math.abs(x) >= 100 ? x.toLocaleString("en", { maximumFractionDigits: 0 }) : x.toFixed(2);
}

async function refreshJobs() {
  const [runs, sweeps] = await Promise.all([api("/v1/runs"), api("/v1/sweeps")]);
  const body = document.querySelector("#jobs tbody");
  body.innerHTML = "";
  for (const j of [...runs, ...sweeps]) {
    const tr = document.createElement("tr");
    tr.dataset.job = j.id;
    tr.innerHTML = `<td>${j.id}</td><td>${j.kind}</td><td class="job-status">${j.status}</td>` +
      `<td><progress max="${Math.max(j.total, 1)}" value="${j.done}"></progress> ${j.done}/${j.total}</td>`;
    body.appendChild(tr);
  }
  const done = runs.filter((j) => j.status === "succeeded").map((j) => j.id);
  if (done.join() !== state.runs.join()) {
    state.runs = done;
    for (const id of ["run-a", "run-b"]) {
      const sel = document.getElementById(id);
      const keep = sel.value;
      sel.innerHTML = id === "run-b" ? '<option value="">(none)</option>' : "";
      for (const r of done) sel.insertAdjacentHTML("beforeend", `<option value="${r}">${r}</option>`);
      if (done.includes(keep)) sel.value = keep;
    }
    if (!state.run && done.length) await showRun(document.getElementById("run-a").value);
  }
}

function outlineTrace(prefectures) {
  const x = [], y = [];
  for (const p of prefectures) { x.push(...p.lon, null); y.push(...p.lat, null); }
  return { x, y, mode: "lines", name: "prefectures", fill: "toself", hoverinfo: "skip",
    fillcolor: "rgba(235,235,225,0.6)", line: { color: "rgb(150,150,140)", width: 0.7 },
    meta: "outline", showlegend: false };
}

function circle(lon, lat, radiusKm) {
  const xs = [], ys = [];
  for (let i = 0; i <= 48; i++) {
    const a = (2 * Math.PI * i) / 48;
    ys.push(lat + (radiusKm / 111.2) * Math.sin(a));
    xs.push(lon + (radiusKm / (111.2 * Math.cos((lat * Math.PI) / 180))) * Math.cos(a));
  }
  return [xs, ys];
}

function mapTraces(features, step) {
  const t = [];
  const byOp = {};
  for (const f of features.filter((f) => f.properties.layer === "link" && f.properties.domain === "optical")) {
    const op = f.properties.operator || "(metro)";
    (byOp[op] = byOp[op] || { x: [], y: [], n: 0 });
    const [[x0, y0], [x1, y1]] = f.geometry.coordinates;
    byOp[op].x.push(x0, x1, null); byOp[op].y.push(y0, y1, null); byOp[op].n++;
  }
  Object.keys(byOp).sort().forEach((op, i) => t.push({ x: byOp[op].x, y: byOp[op].y, mode: "lines",
    name: `APN ${op} (${byOp[op].n} links)`, line: { color: OPERATOR_COLOURS[i % 7], width: op === "(metro)" ? 0.5 : 2 },
    hoverinfo: "name", meta: "links" }));
  const nodes = features.filter((f) => f.properties.layer === "node");
  const pts = (sel, name, meta, marker) => {
    const n = nodes.filter(sel);
    t.push({ x: n.map((f) => f.geometry.coordinates[0]), y: n.map((f) => f.geometry.coordinates[1]),
      text: n.map((f) => f.properties.name), mode: "markers", name: `${name} (${n.length})`, marker, meta });
  };
  pts((f) => f.properties.domain === "compute", "data centres", "dcs", { size: 11, symbol: "square", color: "#e63946" });
  pts((f) => f.properties.domain === "demand" || f.properties.domain === "ran", "cells / demand points", "cells",
    { size: 4, color: "#457b9d", opacity: 0.7 });
  const hx = [], hy = [];
  for (const f of nodes.filter((f) => f.properties.kind === "haps")) {
    const [xs, ys] = circle(f.geometry.coordinates[0], f.geometry.coordinates[1], f.properties.coverage_radius_km || 50);
    hx.push(...xs, null); hy.push(...ys, null);
  }
  t.push({ x: hx, y: hy, mode: "lines", fill: "toself", name: "HAPS footprints", meta: "haps",
    line: { color: "#f4a261" }, fillcolor: "rgba(244,162,97,0.2)" });
  const sats = features.filter((f) => f.properties.layer === "satellite" && f.properties.step === step);
  t.push({ x: sats.map((f) => f.geometry.coordinates[0]), y: sats.map((f) => f.geometry.coordinates[1]),
    mode: "markers", name: `satellites at step ${step} (${sats.length})`, meta: "satellites",
    marker: { size: 6, symbol: "star", color: "#6a4c93" } });
  const fails = features.filter((f) => f.properties.layer === "failure");
  const fx = [], fy = [];
  for (const f of fails) {
    if (f.geometry.type === "Point") { fx.push(f.geometry.coordinates[0], null); fy.push(f.geometry.coordinates[1], null); }
    else { for (const c of f.geometry.coordinates) { fx.push(c[0]); fy.push(c[1]); } fx.push(null); fy.push(null); }
  }
  t.push({ x: fx, y: fy, mode: "lines+markers", name: `failures (${fails.length})`, meta: "failures",
    line: { color: "black", dash: "dot", width: 3 }, marker: { symbol: "x", size: 10, color: "black" } });
  return t;
}

function visibility(meta) {
  const box = document.querySelector(`#layers input[data-layer="${meta}"]`);
  return box ? box.checked : true;
}

async function drawMap(step) {
  const traces = [outlineTrace(state.geo), ...mapTraces(state.features, step)];
  for (const tr of traces) if (tr.meta !== "outline") tr.visible = visibility(tr.meta);
  const layout = { margin: { l: 50, r: 10, t: 10, b: 40 }, hovermode: "closest", template: "plotly_white",
    legend: { x: 0.01, y: 0.99, bgcolor: "rgba(255,255,255,0.8)" },
    xaxis: { title: "longitude (°E)", range: [127, 146.5], showgrid: false },
    yaxis: { title: "latitude (°N)", range: [25.5, 46], scaleanchor: "x", scaleratio: 1 / Math.cos((36 * Math.PI) / 180), showgrid: false } };
  await Plotly.react("map", traces, layout, { responsive: true, displaylogo: false });
  document.body.dataset.mapTraces = String(traces.length);
  document.body.dataset.mapReady = "1";
}

async function showRun(id) {
  if (!id) return;
  state.run = id;
  say("loading " + id);
  const [geo, summary, steps] = await Promise.all([api(`/v1/runs/${id}/geojson`), api(`/v1/runs/${id}/results`),
    api(`/v1/runs/${id}/tables/steps?limit=100000`)]);
  state.features = geo.features;
  const nSteps = Math.max(0, ...geo.features.filter((f) => f.properties.layer === "satellite").map((f) => f.properties.step));
  const slider = document.getElementById("step");
  slider.max = String(nSteps); slider.value = "0"; document.getElementById("step-label").textContent = "0";
  await drawMap(0);
  const k = summary.kpis || {};
  document.getElementById("kpis").innerHTML = KPIS.map(([key, label, unit, scale]) =>
    `<div class="kpi" data-kpi="${key}">${label}<b>${fmt(k[key], scale)}</b>${unit}</div>`).join("");
  const rows = steps.rows, hours = rows.map((r) => r.time_s / 3600);
  await Plotly.react("chart-latency", [
    { x: hours, y: rows.map((r) => r.latency_p50_ms), name: "p50", mode: "lines+markers" },
    { x: hours, y: rows.map((r) => r.latency_p95_ms), name: "p95", mode: "lines+markers" }],
    { title: { text: "latency (ms)" }, margin: { t: 30, b: 30 }, xaxis: { title: "hour" } }, { displaylogo: false });
  await Plotly.react("chart-energy", ["energy_optical_kwh", "energy_ran_kwh", "energy_ntn_kwh", "energy_compute_kwh"].map((c) =>
    ({ x: hours, y: rows.map((r) => r[c]), name: c.replace("energy_", "").replace("_kwh", ""), type: "bar" })),
    { barmode: "stack", title: { text: "energy per step (kWh)" }, margin: { t: 30, b: 30 } }, { displaylogo: false });
  document.body.dataset.kpisReady = "1";
  say(`${summary.scenario}: ${summary.steps} steps`);
  await showCompare();
}

async function showCompare() {
  const a = document.getElementById("run-a").value, b = document.getElementById("run-b").value;
  const body = document.querySelector("#compare tbody");
  body.innerHTML = "";
  if (!a || !b) return;
  const c = await api(`/v1/compare?a=${a}&b=${b}`);
  for (const [key, row] of Object.entries(c.kpis)) {
    const s = row.unit === "%" ? 100 : 1;
    body.insertAdjacentHTML("beforeend", `<tr data-kpi="${key}"><td>${row.label}</td><td>${fmt(row.a, s)}</td>` +
      `<td>${fmt(row.b, s)}</td><td>${fmt(row.delta, s)}</td><td>${row.unit}</td></tr>`);
  }
  document.body.dataset.compareReady = "1";
}

async function connect(token) {
  state.token = token;
  sessionStorage.setItem("tsunagu-token", token);
  try {
    state.geo = (await api("/v1/geo/japan")).prefectures;
    say("connected");
    await refreshJobs();
    setInterval(() => refreshJobs().catch((e) => say(e.message)), 2000);
  } catch (e) { say(e.message); }
}

document.getElementById("login").addEventListener("submit", (ev) => {
  ev.preventDefault(); connect(document.getElementById("token").value.trim());
});
for (const box of document.querySelectorAll("#layers input[type=checkbox]")) {
  box.addEventListener("change", () => {
    const map = document.getElementById("map");
    const idx = map.data.map((t, i) => (t.meta === box.dataset.layer ? i : -1)).filter((i) => i >= 0);
    Plotly.restyle(map, { visible: box.checked }, idx);
  });
}
document.getElementById("step").addEventListener("input", (ev) => {
  document.getElementById("step-label").textContent = ev.target.value; drawMap(Number(ev.target.value));
});
document.getElementById("run-a").addEventListener("change", (ev) => showRun(ev.target.value));
document.getElementById("run-b").addEventListener("change", () => showCompare());

// A token in the URL fragment (never sent to the server) or from this tab's session.
const fromHash = new URLSearchParams(location.hash.slice(1)).get("token");
const saved = fromHash || sessionStorage.getItem("tsunagu-token");
if (saved) { document.getElementById("token").value = saved; connect(saved); }
