// rleval curve overlay: any logged field of the runs or groups picked,
// drawn with uPlot from the JSON in <script type="application/json"
// id="rleval-overlay-data">: {fields: [name], groups: [name],
// runs: [{n: name, g: group index or -1, c: {field index: [[x], [y]]}}]}.
// Runs: one line each. Groups: the mean across the group's runs of their
// curves, linearly interpolated on a common grid of steps, with a band of
// ± one standard deviation. Smoothing is the reports' debiased EMA, applied
// to each run's curve before averaging. window.rlevalOverlay exposes
// select(names), setField(name), setMode("runs" | "groups") and chart()
// for scripts and tests.
(function () {
  "use strict";
  var el = document.getElementById("rleval-overlay-data");
  if (!el) return;
  var root = el.parentNode, api = null;
  // Nothing is parsed (data or uPlot) or drawn until the overlay scrolls
  // into view or a script asks for it, so a page of hundreds of runs loads
  // as fast without it.
  function ensure() { if (!api) api = init(); return api; }
  window.rlevalOverlay = {
    select: function (ns) { ensure().select(ns); },
    setField: function (name) { ensure().setField(name); },
    setMode: function (m) { ensure().setMode(m); },
    chart: function () { return ensure().chart(); },
    get data() { return ensure().data; }
  };
  if (window.IntersectionObserver) {
    var io = new IntersectionObserver(function (es) {
      if (es.some(function (e) { return e.isIntersecting; })) { io.disconnect(); ensure(); }
    });
    io.observe(root);
  } else {
    window.addEventListener("load", ensure);
  }
  function init() {
  if (!window.uPlot) {
    // uPlot's source waits as text; run it now (an inline script runs at
    // once when inserted).
    var src = document.getElementById("rleval-overlay-uplot"), s = document.createElement("script");
    s.textContent = src ? src.textContent : "";
    document.head.appendChild(s);
  }
  var D = JSON.parse(el.textContent);
  var palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
  function color(i) { return i < palette.length ? palette[i] : "hsl(" + ((i * 137) % 360) + ",65%,45%)"; }
  var st = { field: 0, mode: D.groups.length > 1 ? "groups" : "runs", smooth: 0, sel: { runs: {}, groups: {} }, u: null };
  var pref = D.fields.indexOf("evaluation_reward_sum");
  if (pref >= 0) st.field = pref;
  D.runs.slice(0, 10).forEach(function (r) { st.sel.runs[r.n] = true; });
  D.groups.slice(0, 10).forEach(function (g) { st.sel.groups[g] = true; });

  var q = function (s) { return root.querySelector(s); };
  var fieldSel = q(".ov-field"), list = q(".ov-list"), chartDiv = q(".ov-chart"), filter = q(".ov-filter"), sl = q(".ov-smooth"), slOut = q(".ov-smooth-v"), info = q(".ov-info");
  D.fields.forEach(function (f, i) {
    var o = document.createElement("option");
    o.value = String(i); o.textContent = f.replace(/_/g, " ");
    fieldSel.appendChild(o);
  });
  fieldSel.value = String(st.field);
  fieldSel.addEventListener("change", function () { st.field = +fieldSel.value; draw(); });
  root.querySelectorAll('input[name="ov-mode"]').forEach(function (r) {
    r.checked = r.value === st.mode;
    r.addEventListener("change", function () { if (r.checked) { st.mode = r.value; fillList(); draw(); } });
  });
  sl.addEventListener("input", function () { st.smooth = +sl.value; slOut.textContent = st.smooth.toFixed(2); draw(); });
  filter.addEventListener("input", fillList);
  q(".ov-none").addEventListener("click", function () { st.sel[st.mode] = {}; fillList(); draw(); });
  q(".ov-shown").addEventListener("click", function () {
    list.querySelectorAll("input").forEach(function (c) { st.sel[st.mode][c.value] = true; });
    fillList(); draw();
  });

  function names() { return st.mode === "runs" ? D.runs.map(function (r) { return r.n; }) : D.groups; }
  function fillList() {
    var f = filter.value.toLowerCase(), frag = document.createDocumentFragment(), shown = 0;
    list.textContent = "";
    names().forEach(function (n, i) {
      if (f && n.toLowerCase().indexOf(f) < 0) return;
      if (++shown > 400 && !st.sel[st.mode][n]) return; // long lists: the ticked and the first 400
      var lab = document.createElement("label"), c = document.createElement("input");
      c.type = "checkbox"; c.value = n; c.checked = !!st.sel[st.mode][n];
      c.addEventListener("change", function () { if (c.checked) st.sel[st.mode][n] = true; else delete st.sel[st.mode][n]; draw(); });
      lab.appendChild(c); lab.appendChild(document.createTextNode(" " + n)); lab.title = n;
      frag.appendChild(lab);
    });
    list.appendChild(frag);
  }
  function ema(y, w) {
    if (!(w > 0)) return y;
    var out = new Array(y.length), last = 0, pw = 1;
    for (var i = 0; i < y.length; i++) {
      var v = y[i];
      if (v === null || !isFinite(v)) { out[i] = null; continue; }
      last = last * w + (1 - w) * v; pw *= w;
      out[i] = last / (1 - pw);
    }
    return out;
  }
  function curveOf(r) {
    var c = r.c[st.field];
    return c ? [c[0], ema(c[1], st.smooth)] : null;
  }
  function interp(xs, ys, x) {
    if (x < xs[0] || x > xs[xs.length - 1]) return null;
    var lo = 0, hi = xs.length - 1;
    while (hi - lo > 1) { var m = (lo + hi) >> 1; if (xs[m] <= x) lo = m; else hi = m; }
    if (xs[hi] === xs[lo]) return ys[lo];
    var a = ys[lo], b = ys[hi];
    if (a === null || b === null) return a === null ? b : a;
    return a + (b - a) * (x - xs[lo]) / (xs[hi] - xs[lo]);
  }
  // series returns uPlot's data and series options for the current state.
  function series() {
    var out = { data: [], series: [{ label: "step" }], bands: [] }, cols = [];
    if (st.mode === "runs") {
      D.runs.forEach(function (r, i) {
        if (!st.sel.runs[r.n]) return;
        var c = curveOf(r);
        if (c) cols.push({ label: r.n, x: c[0], y: c[1] });
      });
      var xs = {};
      cols.forEach(function (c) { c.x.forEach(function (x) { xs[x] = true; }); });
      var X = Object.keys(xs).map(Number).sort(function (a, b) { return a - b; });
      out.data.push(X);
      cols.forEach(function (c, k) {
        var at = {}, y = new Array(X.length).fill(null);
        c.x.forEach(function (x, j) { at[x] = c.y[j]; });
        X.forEach(function (x, j) { if (at[x] !== undefined) y[j] = at[x]; });
        out.data.push(y);
        out.series.push({ label: c.label, stroke: color(k), width: 1.4, spanGaps: true });
      });
      return out;
    }
    var groups = [];
    D.groups.forEach(function (g, gi) {
      if (!st.sel.groups[g]) return;
      var cs = D.runs.filter(function (r) { return r.g === gi; }).map(curveOf).filter(Boolean);
      if (cs.length) groups.push({ label: g, curves: cs, color: color(gi) });
    });
    var lo = Infinity, hi = -Infinity;
    groups.forEach(function (g) { g.curves.forEach(function (c) { lo = Math.min(lo, c[0][0]); hi = Math.max(hi, c[0][c[0].length - 1]); }); });
    var n = 80, X = [];
    if (groups.length) for (var i = 0; i < n; i++) X.push(lo + (hi - lo) * i / (n - 1));
    out.data.push(X);
    groups.forEach(function (g) {
      var mean = [], lower = [], upper = [];
      X.forEach(function (x) {
        var s = 0, s2 = 0, k = 0;
        g.curves.forEach(function (c) { var v = interp(c[0], c[1], x); if (v !== null && isFinite(v)) { s += v; s2 += v * v; k++; } });
        if (!k) { mean.push(null); lower.push(null); upper.push(null); return; }
        var m = s / k, sd = k > 1 ? Math.sqrt(Math.max(0, (s2 - k * m * m) / (k - 1))) : 0;
        mean.push(m); lower.push(m - sd); upper.push(m + sd);
      });
      var b = out.data.length;
      out.data.push(mean, lower, upper);
      out.series.push({ label: g.label + " (" + g.curves.length + " runs)", stroke: g.color, width: 1.8, spanGaps: true },
        { label: g.label + " − sd", stroke: g.color, width: 0.4, alpha: 0.4, spanGaps: true, edge: true },
        { label: g.label + " + sd", stroke: g.color, width: 0.4, alpha: 0.4, spanGaps: true, edge: true });
      out.bands.push({ series: [b + 2, b + 1], fill: g.color.replace(/^#(..)(..)(..)$/, function (_, r, gg, bb) { return "rgba(" + parseInt(r, 16) + "," + parseInt(gg, 16) + "," + parseInt(bb, 16) + ",0.15)"; }) });
    });
    return out;
  }
  function draw() {
    var s = series();
    if (st.u) { st.u.destroy(); st.u = null; }
    var k = s.series.length - 1;
    info.textContent = k ? "" : "Tick runs or groups that logged " + D.fields[st.field] + ".";
    if (!k) return;
    st.u = new uPlot({
      title: D.fields[st.field].replace(/_/g, " ") + (st.mode === "groups" ? ": mean ± sd per group" : ""),
      width: Math.max(320, (chartDiv.clientWidth || 900) - 4), height: 340,
      scales: { x: { time: false } }, series: s.series, bands: s.bands,
      axes: [{ label: "step" }, { label: D.fields[st.field] }],
      legend: { live: true }, cursor: { drag: { x: true, y: false } }
    }, s.data, chartDiv);
    // A band's edges stay out of the legend: one row per group.
    var rows = st.u.root.querySelectorAll(".u-legend tr");
    s.series.forEach(function (se, i) { if (se.edge && rows[i]) rows[i].style.display = "none"; });
  }
  fillList();
  draw();
  return {
    select: function (ns) { st.sel[st.mode] = {}; ns.forEach(function (n) { st.sel[st.mode][n] = true; }); fillList(); draw(); },
    setField: function (name) { var i = D.fields.indexOf(name); if (i >= 0) { st.field = i; fieldSel.value = String(i); draw(); } },
    setMode: function (m) { st.mode = m; root.querySelectorAll('input[name="ov-mode"]').forEach(function (r) { r.checked = r.value === m; }); fillList(); draw(); },
    chart: function () { return st.u; },
    data: D
  };
  }
})();
