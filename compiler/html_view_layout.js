// cnnc's interactive diagram: where things go. A layered layout per cluster, computed inside out
// (a child cluster is one box of its parent's layout, so clusters never overlap), and edge routes
// through lanes of dummy points reserved in every cluster an edge crosses. html_view.js decides
// what is shown and draws it.
"use strict";
const cnncLayout = (function () {
  const GAP_X = 18, GAP_Y = 28, PAD = 8, TITLE = 18, LANE = 8;

  function chain(el) {  // the clusters around el, innermost first
    const out = [];
    for (let p = el.parent; p; p = p.parent) out.push(p);
    return out;
  }
  function prepare(v, measure) {
    const all = [];
    (function walk(el) {
      if (el.kind === "cluster") {
        el.local = new Map(); el.inPorts = new Map(); el.outPorts = new Map();
        el.children.forEach(walk);
      } else {
        measure(el);
      }
      all.push(el);
    })(v.root);
    for (const e of v.edges) {
      const ca = [e.a, ...chain(e.a)], cb = [e.b, ...chain(e.b)];
      const inB = new Set(cb);
      let i = 0;
      while (!inB.has(ca[i])) i++;
      const lca = ca[i], j = cb.indexOf(lca);
      e.lca = lca; e.upA = ca.slice(0, i); e.upB = cb.slice(0, j);  // element first, up to the child of lca
      const A = ca[i - 1], B = cb[j - 1];
      const key = A.id + "\u0000" + B.id;
      if (!lca.local.has(key)) lca.local.set(key, { from: A, to: B });
      for (let k = 1; k < i; k++) {  // clusters around a, below lca: leave through the bottom
        const c = ca[k];
        if (!c.outPorts.has(e.a.id)) c.outPorts.set(e.a.id, { from: ca[k - 1] });
      }
      for (let k = 1; k < j; k++) {  // clusters around b, below lca: enter through the top
        const c = cb[k];
        if (!c.inPorts.has(e.a.id)) c.inPorts.set(e.a.id, { to: new Set() });
        c.inPorts.get(e.a.id).to.add(cb[k - 1]);
      }
    }
  }

  function layout(c, titleWidth) {
    for (const k of c.children) if (k.kind === "cluster") layout(k, titleWidth);
    const items = c.children, n = items.length, index = new Map(items.map((k, i) => [k, i]));
    const preds = items.map(() => []);
    for (const { from, to } of c.local.values()) {
      const p = index.get(from), q = index.get(to);
      if (p < q) preds[q].push(p);
    }
    const rank = new Array(n).fill(0);
    for (let q = 0; q < n; q++) for (const p of preds[q]) rank[q] = Math.max(rank[q], rank[p] + 1);
    const ranks = Math.max(0, ...rank) + 1;
    const rows = Array.from({ length: ranks }, () => []);
    items.forEach((k, i) => { k.rank = rank[i]; k.preds = preds[i].map((p) => items[p]); });
    // in each row the main path comes first, side outputs' heads to its right
    for (const k of items) if (!k.data.side) rows[k.rank].push(k);
    for (const k of items) if (k.data.side) rows[k.rank].push(k);
    // lanes: chains of dummies for edges that skip ranks, enter from above or leave below
    c.lanes = [];
    function lane(from, r0, r1) {
      const dummies = [];
      let prev = from;
      for (let r = r0; r <= r1; r++) {
        const d = { kind: "dummy", w: LANE, h: 0, ax: LANE / 2, rank: r, preds: prev ? [prev] : [] };
        rows[r].push(d); dummies.push(d); prev = d;
      }
      c.lanes.push(dummies);
      return dummies;
    }
    for (const l of c.local.values()) {
      const r0 = l.from.rank + 1, r1 = l.to.rank - 1;
      l.dummies = r1 >= r0 ? lane(l.from, r0, r1) : [];
    }
    for (const p of c.inPorts.values()) {
      const last = Math.max(...[...p.to].map((t) => t.rank)) - 1;
      p.dummies = last >= 0 ? lane(null, 0, last) : [];
    }
    for (const p of c.outPorts.values()) {
      p.dummies = p.from.rank + 1 <= ranks - 1 ? lane(p.from, p.from.rank + 1, ranks - 1) : [];
    }
    // x: each row placed as close as it can be to its predecessors (least squares, in order)
    for (const row of rows) place(row);
    let left = Infinity, right = -Infinity;
    for (const row of rows) for (const k of row) { left = Math.min(left, k.x - k.ax); right = Math.max(right, k.x - k.ax + k.w); }
    // y: rows stacked, items top-aligned in their row
    const top = c.data ? TITLE + PAD : 0, side = c.data ? PAD : 0;
    let y = top;
    c.rowTops = [];
    for (const row of rows) {
      const h = Math.max(0, ...row.map((k) => k.h));
      c.rowTops.push([y, h]);
      for (const k of row) { k.lx = k.x - k.ax - left + side; k.ly = y; k.rowH = h; }
      y += h + GAP_Y;
    }
    y -= GAP_Y;
    const titleW = c.data ? titleWidth(c) : 0;
    c.w = Math.max(right - left + 2 * side, titleW);
    c.h = y + (c.data ? PAD : 0);
    const first = rows[0].find((k) => k.kind !== "dummy") || rows[0][0];
    c.ax = first.lx + first.ax;
  }

  function place(row) {
    const want = row.map((k) => (k.preds.length ? k.preds.reduce((s, p) => s + p.x, 0) / k.preds.length : NaN));
    if (want.every(Number.isNaN)) want[0] = 0;
    for (let i = 1; i < row.length; i++) if (Number.isNaN(want[i])) want[i] = want[i - 1] + sep(row, i - 1);
    for (let i = row.length - 2; i >= 0; i--) if (Number.isNaN(want[i])) want[i] = want[i + 1] - sep(row, i);
    // pool adjacent violators on y_i = x_i - offset_i, which must not decrease
    const offset = [0];
    for (let i = 1; i < row.length; i++) offset.push(offset[i - 1] + sep(row, i - 1));
    const blocks = [];
    for (let i = 0; i < row.length; i++) {
      blocks.push({ sum: want[i] - offset[i], n: 1, start: i });
      while (blocks.length > 1) {
        const b = blocks[blocks.length - 1], a = blocks[blocks.length - 2];
        if (a.sum / a.n <= b.sum / b.n) break;
        a.sum += b.sum; a.n += b.n; blocks.pop();
      }
    }
    for (const b of blocks) for (let i = b.start; i < b.start + b.n; i++) row[i].x = b.sum / b.n + offset[i];
  }
  function sep(row, i) { return row[i].w - row[i].ax + row[i + 1].ax + (row[i].kind === "dummy" || row[i + 1].kind === "dummy" ? 6 : GAP_X); }

  function absolute(c, x0, y0) {
    c.X = x0; c.Y = y0;
    for (const k of c.children) {
      if (k.kind === "cluster") absolute(k, x0 + k.lx, y0 + k.ly);
      else { k.X = x0 + k.lx; k.Y = y0 + k.ly; }
    }
    for (const l of c.lanes) for (const d of l) { d.X = x0 + d.lx + d.ax; d.Y = y0 + d.ly; }
  }

  function route(e) {
    const pts = [[e.a.X + e.a.ax, e.a.Y + e.a.h]];
    const lanePts = (ds) => { for (const d of ds) { pts.push([d.X, d.Y]); pts.push([d.X, d.Y + d.rowH]); } };
    const down = (el) => {  // straight down to the bottom of el's row before turning
      const last = pts[pts.length - 1];
      if (el.Y + el.rowH > last[1] + 1) pts.push([last[0], el.Y + el.rowH]);
    };
    if (e.upA.length === 1 || !e.upA[1].outPorts.get(e.a.id).dummies.length) down(e.a);
    for (let k = 1; k < e.upA.length; k++) {  // leave the clusters around a
      const c = e.upA[k], p = c.outPorts.get(e.a.id);
      lanePts(p.dummies);
      pts.push([pts[pts.length - 1][0], c.Y + c.h]);
      if (k + 1 === e.upA.length || !e.upA[k + 1].outPorts.get(e.a.id).dummies.length) down(c);
    }
    const l = e.lca.local.get(e.upA[e.upA.length - 1].id + "\u0000" + e.upB[e.upB.length - 1].id);
    lanePts(l.dummies);
    for (let k = e.upB.length - 1; k >= 1; k--) {  // enter the clusters around b
      const c = e.upB[k], p = c.inPorts.get(e.a.id), target = e.upB[k - 1];
      const ds = p.dummies.slice(0, target.rank);
      pts.push([ds.length ? ds[0].X : target.X + target.ax, c.Y]);
      lanePts(ds);
    }
    pts.push([e.b.X + e.b.ax, e.b.Y]);
    let d = "M" + pts[0][0].toFixed(1) + "," + pts[0][1].toFixed(1);
    for (let i = 1; i < pts.length; i++) {
      const [x0, y0] = pts[i - 1], [x1, y1] = pts[i];
      if (Math.abs(x0 - x1) < 0.5) d += " L" + x1.toFixed(1) + "," + y1.toFixed(1);
      else {
        const m = (y0 + y1) / 2;
        d += " C" + x0.toFixed(1) + "," + m.toFixed(1) + " " + x1.toFixed(1) + "," + m.toFixed(1) + " " + x1.toFixed(1) + "," + y1.toFixed(1);
      }
    }
    return { d, start: pts[0] };
  }

  return { prepare, layout, absolute, route, TITLE };
})();
