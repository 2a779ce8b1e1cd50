// petaboxd's status page: polls /api/box (fields documented in daemon/http/status_endpoints.h),
// starts its charts from /api/history, and draws them on <canvas> itself (no libraries).
"use strict";

const MAX_POINTS = 300;
const SERIES = [
  { key: "busy_ratio", title: "Busy", fmt: (v) => pct(v), max: 1 },
  { key: "flops_per_second", title: "FLOP/s", fmt: (v) => si(v, "FLOP/s") },
  { key: "power_watts", title: "Power", fmt: (v) => si(v, "W") },
  { key: "flops_per_watt", title: "FLOPS/W", fmt: (v) => si(v, "FLOPS/W") },
];
const history = { times: [], devices: {} };  // devices[name][key] = [values]
let lastSequence = -1;

function si(v, unit) {
  if (v === null || v === undefined) return "—";
  const prefixes = ["", "k", "M", "G", "T", "P", "E"];
  let i = 0;
  let x = Math.abs(v);
  while (x >= 1000 && i < prefixes.length - 1) { x /= 1000; i++; }
  const digits = x >= 100 ? 0 : x >= 10 ? 1 : 2;
  return (v < 0 ? "-" : "") + x.toFixed(digits) + " " + prefixes[i] + unit;
}
function pct(v) { return v === null || v === undefined ? "—" : (100 * v).toFixed(0) + " %"; }
function bytes(v) {
  if (v === null || v === undefined) return "—";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return v.toFixed(v >= 100 || i === 0 ? 0 : 1) + " " + units[i];
}
function duration(s) {
  if (s === null || s === undefined || !isFinite(s)) return "—";
  s = Math.round(s);
  if (s < 60) return s + "s";
  if (s < 3600) return Math.floor(s / 60) + "m" + String(s % 60).padStart(2, "0");
  return Math.floor(s / 3600) + "h" + String(Math.floor(s / 60) % 60).padStart(2, "0");
}
function el(tag, attrs, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}
function cell(row, text, cls) { row.appendChild(el("td", cls ? { class: cls } : {}, text)); }

function renderDevices(box) {
  const body = document.querySelector("#devices tbody");
  body.replaceChildren();
  for (const d of box.devices) {
    const row = el("tr", { class: "device", "data-device": d.name, "data-flops": String(d.flops_per_second ?? "") });
    const name = el("td", {}, d.name);
    name.appendChild(el("div", { class: "muted small" }, d.description));
    row.appendChild(name);
    // A tenant's job is not named on this unauthenticated page: its tenant is shown.
    const holder = d.job ? d.job.replace("jobs/", "") : d.state === "busy" ? "tenant " + d.tenant : "idle";
    cell(row, holder, d.state === "busy" ? "" : "muted");
    cell(row, pct(d.busy_ratio), "num busy");
    cell(row, si(d.flops_per_second, "FLOP/s"), "num flops");
    cell(row, si(d.peak_flops_per_second, "FLOP/s"), "num");
    let power = si(d.power_watts, "W");
    if (d.power_group && d.power_group[0] !== d.name) power = "in " + d.power_group[0];
    cell(row, power, "num");
    cell(row, si(d.flops_per_watt, "FLOPS/W"), "num");
    const used = d.memory_used_bytes ?? d.engine_memory_bytes;
    cell(row, bytes(used) + " / " + bytes(d.memory_total_bytes), "num");
    cell(row, d.temperature_celsius === null ? "—" : d.temperature_celsius.toFixed(0) + " °C", "num");
    body.appendChild(row);
  }
}

function renderJobs(box) {
  const body = document.querySelector("#jobs tbody");
  body.replaceChildren();
  for (const j of box.jobs) {
    const row = el("tr", { class: "job", "data-job": j.name ?? "" });
    cell(row, j.name ? j.name.replace("jobs/", "") : "tenant " + j.tenant, j.name ? "" : "muted");
    cell(row, j.display_name ?? "—");
    cell(row, j.state, "state-" + j.state);
    cell(row, j.devices.join(", "));
    const p = j.progress;
    const td = el("td");
    if (p && p.total_steps > 0) {
      const bar = el("span", { class: "bar" });
      const fill = el("span");
      fill.style.width = Math.min(100, (100 * p.step) / p.total_steps).toFixed(1) + "%";
      bar.appendChild(fill);
      td.appendChild(bar);
      td.appendChild(document.createTextNode(" " + p.step + "/" + p.total_steps));
    } else if (j.failure_reason) {
      td.textContent = j.failure_reason.slice(0, 80);
    }
    row.appendChild(td);
    const live = j.state === "RUNNING";
    cell(row, p && live ? p.samples_per_second.toFixed(0) : "—", "num");
    cell(row, p ? p.loss.toFixed(4) : "—", "num");
    cell(row, p && live ? duration(p.eta_seconds) : "—", "num");
    body.appendChild(row);
  }
  document.getElementById("queue").textContent =
    "(" + box.running_jobs + " running, " + box.queue_length + " queued)";
}

function renderTenants(box) {
  const body = document.querySelector("#tenants tbody");
  body.replaceChildren();
  for (const t of box.tenants) {
    const row = el("tr", { class: "tenant" });
    cell(row, t.tenant);
    cell(row, (t.device_seconds / 3600).toFixed(3), "num");
    cell(row, si(t.flops, "FLOP"), "num");
    cell(row, t.energy_joules === null ? "—" : si(t.energy_joules, "J"), "num");
    body.appendChild(row);
  }
}

function addSample(box) {
  if (!box.sample || box.sample.sequence === lastSequence) return;
  lastSequence = box.sample.sequence;
  history.times.push(box.sample.time);
  for (const d of box.devices) {
    const h = (history.devices[d.name] ??= {});
    for (const s of SERIES) {
      (h[s.key] ??= []).push(d[s.key]);
    }
  }
  if (history.times.length > MAX_POINTS) {
    history.times.shift();
    for (const h of Object.values(history.devices)) for (const s of SERIES) h[s.key]?.shift();
  }
}

function drawChart(canvas, values, series) {
  const ratio = window.devicePixelRatio || 1;
  const w = canvas.clientWidth, h = canvas.clientHeight;
  canvas.width = w * ratio;
  canvas.height = h * ratio;
  const g = canvas.getContext("2d");
  g.scale(ratio, ratio);
  g.clearRect(0, 0, w, h);
  const present = values.filter((v) => v !== null && v !== undefined);
  const last = present.length ? present[present.length - 1] : null;
  const top = series.max ?? Math.max(1e-12, ...present) * 1.1;
  g.strokeStyle = "#e5e7eb";
  g.strokeRect(0.5, 0.5, w - 1, h - 1);
  g.fillStyle = "#6b7280";
  g.font = "11px system-ui, sans-serif";
  g.fillText(series.title + ": " + (last === null ? "—" : series.fmt(last)), 6, 13);
  if (!present.length) {
    g.fillText("no reading", w / 2 - 25, h / 2 + 8);
    return;
  }
  g.fillText(series.fmt(top), w - 80, 13);
  g.strokeStyle = "#2563eb";
  g.lineWidth = 1.5;
  g.beginPath();
  const n = Math.max(values.length - 1, 1);
  let drawing = false;
  values.forEach((v, i) => {
    if (v === null || v === undefined) { drawing = false; return; }
    const x = (i / n) * (w - 2) + 1;
    const y = h - 2 - (Math.min(v, top) / top) * (h - 20);
    if (drawing) g.lineTo(x, y); else g.moveTo(x, y);
    drawing = true;
  });
  g.stroke();
}

function renderCharts(box) {
  const root = document.getElementById("charts");
  for (const d of box.devices) {
    const id = "charts-" + d.name.replace(/[^A-Za-z0-9]/g, "_");
    let box_ = document.getElementById(id);
    if (!box_) {
      box_ = el("div", { class: "device-charts", id });
      box_.appendChild(el("h3", {}, d.name));
      const grid = el("div", { class: "chart-grid" });
      for (const s of SERIES) grid.appendChild(el("canvas", { "data-series": s.key }));
      box_.appendChild(grid);
      root.appendChild(box_);
    }
    const h = history.devices[d.name] || {};
    for (const s of SERIES) drawChart(box_.querySelector(`canvas[data-series="${s.key}"]`), h[s.key] || [], s);
  }
}

async function loadHistory() {
  try {
    const r = await fetch("/api/history", { cache: "no-store" });
    const data = await r.json();
    history.times = data.times;
    lastSequence = data.last_sequence;
    for (const [name, series] of Object.entries(data.devices)) history.devices[name] = series;
  } catch (e) { /* charts start empty */ }
}

async function poll() {
  let delay = 1000;
  try {
    const r = await fetch("/api/box", { cache: "no-store" });
    const box = await r.json();
    addSample(box);
    document.getElementById("version").textContent = "petaboxd " + box.daemon_version;
    document.getElementById("draining").hidden = !box.draining;
    document.getElementById("updated").textContent =
      box.telemetry_interval_seconds > 0 ? "updated " + new Date(box.time * 1000).toLocaleTimeString()
                                         : "telemetry is off (telemetry.interval_seconds: 0)";
    renderDevices(box);
    renderJobs(box);
    renderTenants(box);
    renderCharts(box);
    delay = Math.max(1000, 1000 * box.telemetry_interval_seconds);
  } catch (e) {
    document.getElementById("updated").textContent = "cannot reach petaboxd: " + e;
    delay = 3000;
  }
  setTimeout(poll, delay);
}

loadHistory().then(poll);
