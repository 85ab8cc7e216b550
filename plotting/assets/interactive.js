// rleval interactive curves: one uPlot chart per spec found in
// <script type="application/json" class="rleval-curves">. Each spec holds
// its data at a few levels of detail (M4 over more and more columns); the
// chart shows the coarsest level that still has about one point per pixel
// in the range shown, so zooming refines. Charts are listed in
// window.rlevalCharts as {u, level(), spec} for scripts and tests.
(function () {
  "use strict";
  var charts = window.rlevalCharts = window.rlevalCharts || [];
  function ema(y, w) {
    var out = new Array(y.length), last = 0, k = 0, pw = 1;
    for (var i = 0; i < y.length; i++) {
      var v = y[i];
      if (v === null || !isFinite(v)) { out[i] = v; continue; }
      last = last * w + (1 - w) * v; k++; pw *= w;
      out[i] = w > 0 ? last / (1 - pw) : v;
    }
    return out;
  }
  function lowerBound(a, x) {
    var lo = 0, hi = a.length;
    while (lo < hi) { var m = (lo + hi) >> 1; if (a[m] < x) lo = m + 1; else hi = m; }
    return lo;
  }
  function fmt(v) {
    if (v === null || v === undefined) return "—";
    if (Math.round(v) === v && Math.abs(v) < 1e15) return String(v);
    if (Math.abs(v) >= 1e5 || Math.abs(v) < 1e-3) return v.toExponential(4);
    return v.toPrecision(6);
  }
  function build(root, spec) {
    var state = { level: 0, smooth: spec.smooth, log: false, u: null };
    var box = document.createElement("div");
    box.className = "rleval-chart";
    var bar = document.createElement("div");
    bar.className = "rleval-controls";
    var hasSmooth = spec.series.some(function (s) { return s.smooth; });
    if (hasSmooth) {
      var lab = document.createElement("label");
      lab.textContent = "smoothing ";
      var sl = document.createElement("input");
      sl.type = "range"; sl.min = "0"; sl.max = "0.999"; sl.step = "0.001"; sl.value = String(spec.smooth);
      sl.className = "rleval-smooth";
      var out = document.createElement("span");
      out.textContent = " " + spec.smooth.toFixed(3);
      sl.addEventListener("input", function () {
        state.smooth = parseFloat(sl.value);
        out.textContent = " " + state.smooth.toFixed(3);
        refresh(false);
      });
      lab.appendChild(sl); lab.appendChild(out); bar.appendChild(lab);
    }
    var lg = document.createElement("label");
    var cb = document.createElement("input");
    cb.type = "checkbox"; cb.className = "rleval-log";
    cb.addEventListener("change", function () { state.log = cb.checked; make(); });
    lg.appendChild(cb); lg.appendChild(document.createTextNode(" log scale"));
    bar.appendChild(lg);
    var reset = document.createElement("button");
    reset.type = "button"; reset.textContent = "reset zoom";
    reset.addEventListener("click", function () { var x = spec.levels[0][0]; state.u.setScale("x", { min: x[0], max: x[x.length - 1] }); });
    bar.appendChild(reset);
    var plotDiv = document.createElement("div");
    box.appendChild(plotDiv); box.appendChild(bar);
    root.appendChild(box);

    // data returns the uPlot columns of the current level: x, then for
    // each series its values (smoothed ones computed here), log-safe.
    function data() {
      var lv = spec.levels[state.level], cols = [lv[0]];
      for (var i = 0; i < spec.series.length; i++) {
        var s = spec.series[i], y = lv[1 + s.col];
        if (s.smoothed) y = ema(y, state.smooth);
        if (state.log) y = y.map(function (v) { return v !== null && v > 0 ? v : null; });
        cols.push(y);
      }
      return cols;
    }
    function pick(min, max) {
      // About one point per pixel: M4 keeps up to four per column.
      var best = 0, want = plotDiv.clientWidth || 1000;
      for (var l = 0; l < spec.levels.length; l++) {
        var x = spec.levels[l][0];
        var n = lowerBound(x, max) - lowerBound(x, min);
        best = l;
        if (n >= want) break;
      }
      return best;
    }
    var busy = false;
    function refresh(resetScales) {
      busy = true;
      state.u.setData(data(), resetScales);
      busy = false;
    }
    function make() {
      var xr = null;
      if (state.u) { xr = { min: state.u.scales.x.min, max: state.u.scales.x.max }; state.u.destroy(); }
      var series = [{ label: spec.xlabel, value: function (u, v) { return fmt(v); } }];
      spec.series.forEach(function (s) {
        series.push({
          label: s.label, stroke: s.color, width: s.width || 1,
          // nulls come only from aligning curves on one x: draw across them
          spanGaps: true,
          points: { show: !!s.markers, size: 5 },
          value: function (u, v) { return fmt(v); }
        });
      });
      var opts = {
        title: spec.title, width: chartWidth(), height: 240,
        scales: { x: { time: false }, y: { distr: state.log ? 3 : 1 } },
        axes: [{ label: spec.xlabel }, { label: spec.ylabel }],
        series: series,
        bands: (spec.bands || []).map(function (b) { return { series: [b.hi + 1, b.lo + 1], fill: b.fill }; }),
        cursor: { drag: { x: true, y: false } },
        hooks: {
          setScale: [function (u, key) {
            if (key !== "x" || busy) return;
            var l = pick(u.scales.x.min, u.scales.x.max);
            if (l !== state.level) { state.level = l; refresh(false); }
          }]
        }
      };
      state.u = new uPlot(opts, data(), plotDiv);
      if (xr && xr.min !== null) state.u.setScale("x", xr);
    }
    // The chart fills its box (a cell of the page's grid, or the page).
    function chartWidth() {
      var w = box.clientWidth || root.clientWidth || 1200;
      return Math.max(280, Math.min(1300, w - 4));
    }
    make();
    if (window.ResizeObserver) {
      var lastW = box.clientWidth;
      new ResizeObserver(function () {
        if (box.clientWidth && Math.abs(box.clientWidth - lastW) > 8) { lastW = box.clientWidth; state.u.setSize({ width: chartWidth(), height: 240 }); }
      }).observe(box);
    }
    charts.push({ get u() { return state.u; }, level: function () { return state.level; }, spec: spec, root: box });
  }
  // A page may hold several blocks; each script builds the ones not built yet.
  document.querySelectorAll("script.rleval-curves:not([data-built])").forEach(function (el) {
    el.setAttribute("data-built", "");
    var specs = JSON.parse(el.textContent);
    var root = el.parentNode;
    specs.forEach(function (s) { build(root, s); });
  });
})();
