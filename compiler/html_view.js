// cnnc's interactive diagram. The data (compiler/html_view.py) says what is drawn in every fold
// state; this script picks the state (depth, blocks opened or closed by clicking), has
// html_view_layout.js place it, and draws it as SVG; pan, zoom, search and the details panel.
"use strict";
(function () {
  const D = JSON.parse(document.getElementById("cnnc-data").textContent);
  const NS = "http://www.w3.org/2000/svg";
  const TITLE = cnncLayout.TITLE;
  const state = { depth: D.depth, open: new Map(), selected: null, member: null, matches: new Set(),
                  scale: 1, tx: 20, ty: 20 };
  let view = null;  // the current layout: { root, byId, edges }

  // ---- page ----------------------------------------------------------------------------------
  document.body.innerHTML =
    '<div id="bar"><span class="title"></span>' +
    '<label>depth <select id="depth"></select></label>' +
    '<button id="expand" title="expand every block">Expand all</button>' +
    '<button id="fit" title="fit the diagram in the window">Fit</button>' +
    '<button id="zoomin" title="zoom in">+</button><button id="zoomout" title="zoom out">−</button>' +
    '<input id="search" type="search" placeholder="search a path or an op (Enter: next)">' +
    '<span class="count" id="count"></span></div>' +
    '<div id="main"><div id="canvas"><div id="results"></div><svg id="svg"><defs>' +
    '<marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto">' +
    '<path d="M0,0 L10,5 L0,10 z" fill="' + D.colours.edge + '"/></marker>' +
    '<marker id="arrow-side" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto">' +
    '<path d="M0,0 L10,5 L0,10 z" fill="' + D.colours.side + '"/></marker>' +
    '</defs><g id="viewport"></g></svg></div><div id="side"></div></div>';
  const $ = (id) => document.getElementById(id);
  $("bar").querySelector(".title").innerHTML = esc(D.name) + ' <span>' + esc(D.title.slice(D.name.length)) + "</span>";
  for (let d = 0; d <= Math.max(D.levels, 0); d++) {
    const o = document.createElement("option");
    o.value = d; o.textContent = d; $("depth").appendChild(o);
  }
  $("depth").value = Math.min(D.depth, D.levels);

  function esc(s) {
    return String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]));
  }
  function fmt(n) { return Number(n).toLocaleString("en-US"); }

  // ---- what is shown ---------------------------------------------------------------------------
  function isOpen(run) {
    return state.open.has(run) ? state.open.get(run) : D.runs[run].level <= state.depth;
  }
  function visibleItems(items, parent) {
    const out = [];
    for (const it of items) {
      if (it.t === "n") {
        out.push({ kind: "node", id: it.id, data: it, parent });
      } else if (it.block && it.run && !isOpen(it.run)) {
        const run = D.runs[it.run];
        if (run.groups[0] === it.path) out.push({ kind: "folded", id: run.id, data: run, parent });
      } else {
        const c = { kind: "cluster", id: "cluster:" + it.path, data: it, parent, children: null };
        c.children = visibleItems(it.items, c);
        if (!it.block && c.children.length === 1 && c.children[0].kind !== "cluster") {
          c.children[0].parent = parent;  // a naming scope drawn as one node needs no frame
          out.push(c.children[0]);
        } else {
          out.push(c);
        }
      }
    }
    return out;
  }
  function shownId(node) {  // the visible element an IR node is drawn in
    const n = D.nodes[node];
    for (const s of n.scope) if (s.run && !isOpen(s.run)) return s.run;
    return n.shown;
  }
  function build() {
    const root = { kind: "cluster", id: "root", data: null, parent: null, children: null };
    root.children = visibleItems(D.tree, root);
    for (const o of D.outputs) {
      root.children.push({ kind: "output", id: o.name + " (output)", data: o, parent: root });
    }
    const byId = new Map();
    (function index(el) {
      byId.set(el.id, el);
      if (el.children) el.children.forEach(index);
    })(root);
    const edges = [], seen = new Set(), labelled = new Set();
    for (const [u, v, shape, main] of D.edges) {
      const a = shownId(u), b = shownId(v);
      if (a === b || seen.has(a + "\u0000" + b)) continue;
      seen.add(a + "\u0000" + b);
      edges.push({ a: byId.get(a), b: byId.get(b), shape, main, source: u });
    }
    for (const o of D.outputs) {
      edges.push({ a: byId.get(shownId(o.node)), b: byId.get(o.name + " (output)"), shape: o.shape,
                   main: !o.side, source: o.node });
    }
    edges.sort((x, y) => (x.main === y.main ? 0 : x.main ? -1 : 1));
    for (const e of edges) {
      e.label = !labelled.has(e.source);
      labelled.add(e.source);
    }
    return { root, byId, edges };
  }

  // ---- sizes -----------------------------------------------------------------------------------
  const ctx = document.createElement("canvas").getContext("2d");
  function textWidth(text, size, bold) {
    ctx.font = (bold ? "bold " : "") + size + "px Helvetica, Arial, sans-serif";
    return ctx.measureText(text).width;
  }
  function leafLines(el) {
    if (el.kind === "output") return [el.data.name, el.data.shape];
    return el.data.lines;
  }
  function measure(el) {
    const lines = leafLines(el);
    const w = Math.max(...lines.map((t, i) => textWidth(t, i ? 9 : 11, i === 0 || el.kind === "output")));
    el.w = Math.ceil(w) + (el.kind === "folded" ? 26 : 20);
    el.h = 10 + 13 + 11 * (lines.length - 1) + (el.kind === "folded" ? 6 : 0);
    el.ax = el.w / 2;
  }

  // ---- drawing ---------------------------------------------------------------------------------
  function svgEl(tag, attrs, parent) {
    const el = document.createElementNS(NS, tag);
    for (const k in attrs) el.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(el);
    return el;
  }
  function titleText(c) { return c.data.block ? c.data.name + ": " + c.data.call : c.data.name; }
  function fill(el) {
    if (el.kind === "output") return el.data.side ? "#78909c" : D.colours.terminal;
    if (el.kind === "folded") return D.colours.block;
    if (el.data.family === "input") return D.colours.terminal;
    return D.colours[el.data.family] || "#ffffff";
  }
  function containsMatch(el) {
    if (!state.matches.size) return false;
    if (el.kind === "node") return el.data.members.some((m) => state.matches.has(m));
    if (el.kind === "folded") return [...state.matches].some((m) => shownId(m) === el.id);
    return false;
  }

  function draw() {
    view = build();
    cnncLayout.prepare(view, measure);
    cnncLayout.layout(view.root, (c) => textWidth(titleText(c), 10, true) + 24);
    cnncLayout.absolute(view.root, 0, 0);
    const g = $("viewport");
    g.textContent = "";
    const clusters = svgEl("g", {}, g), edges = svgEl("g", {}, g), nodes = svgEl("g", {}, g);
    (function drawCluster(c, depth) {
      for (const k of c.children) {
        if (k.kind === "cluster") {
          const cls = "cluster" + (k.data.block ? "" : " plain") + (k.data.side ? " side" : "") +
                      (state.selected === k.id ? " selected" : "");
          const grp = svgEl("g", { class: cls, "data-id": k.id, "data-path": k.data.path }, clusters);
          svgEl("rect", { class: "frame", x: k.X, y: k.Y, width: k.w, height: k.h, rx: 6,
                          fill: k.data.block ? (k.data.level % 2 ? "#f6f8fa" : "#eef2f5") : "none" }, grp);
          const head = svgEl("g", { class: "head" }, grp);
          svgEl("rect", { x: k.X, y: k.Y, width: k.w, height: TITLE, fill: "transparent" }, head);
          const t = svgEl("text", { x: k.X + 8, y: k.Y + 13, "font-size": 10, fill: "#37474f" }, head);
          const b = svgEl("tspan", { "font-weight": "bold" }, t);
          b.textContent = (k.data.block ? "− " : "") + k.data.name;
          if (k.data.block) svgEl("tspan", {}, t).textContent = ": " + k.data.call;
          if (k.data.block) head.addEventListener("click", (ev) => { ev.stopPropagation(); fold(k.data.run, false, k); });
          grp.addEventListener("click", (ev) => { ev.stopPropagation(); select(k.id, null); });
          drawCluster(k, depth + 1);
        } else {
          drawLeaf(k, nodes);
        }
      }
    })(view.root, 0);
    for (const e of view.edges) {
      const side = !e.main;
      const grp = svgEl("g", { class: "edge" + (side ? " side" : "") }, edges);
      const r = cnncLayout.route(e);
      svgEl("path", { d: r.d, stroke: side ? D.colours.side : D.colours.edge,
                      "marker-end": side ? "url(#arrow-side)" : "url(#arrow)" }, grp);
      if (e.label) {
        const t = svgEl("text", { class: "elabel", x: r.start[0] + 4, y: r.start[1] + 12 }, grp);
        t.textContent = e.shape;
      }
    }
    const shown = [...view.byId.values()].filter((k) => k.kind === "node" || k.kind === "folded").length;
    $("count").textContent = shown + " nodes shown, " + Object.keys(D.nodes).length + " layers";
    transform();
  }

  function drawLeaf(k, parent) {
    const dark = k.kind === "output" || (k.kind === "node" && k.data.family === "input");
    const cls = "node " + k.kind + (k.data.side ? " side" : "") + (containsMatch(k) ? " match" : "") +
                (state.selected === k.id ? " selected" : "");
    const grp = svgEl("g", { class: cls, "data-id": k.id }, parent);
    const round = k.kind === "node" && k.data.merge ? k.h / 2 : k.kind === "folded" ? 1 : 5;
    svgEl("rect", { x: k.X, y: k.Y, width: k.w, height: k.h, rx: round, fill: fill(k) }, grp);
    if (k.kind === "folded" && k.data.groups.length > 1) {
      svgEl("rect", { x: k.X + 3, y: k.Y + 3, width: k.w - 6, height: k.h - 6, rx: 1, fill: "none" }, grp);
    }
    const lines = leafLines(k);
    lines.forEach((line, i) => {
      const t = svgEl("text", { x: k.X + k.w / 2, y: k.Y + 16 + (k.kind === "folded" ? 3 : 0) + 11 * i,
                                "text-anchor": "middle", "font-size": i && k.kind !== "output" ? 9 : 11,
                                "font-weight": i === 0 || k.kind === "output" ? "bold" : "normal",
                                fill: dark ? "#ffffff" : "#212121" }, grp);
      t.textContent = (i === 0 && k.kind === "folded" ? "+ " : "") + line;
    });
    grp.addEventListener("click", (ev) => {
      ev.stopPropagation();
      if (k.kind === "folded") fold(k.id, true, k);
      else select(k.id, k.kind === "node" ? k.data.members[0] : null);
    });
  }

  // ---- interaction -----------------------------------------------------------------------------
  function transform() {
    $("viewport").setAttribute("transform", "translate(" + state.tx + "," + state.ty + ") scale(" + state.scale + ")");
  }
  function fold(run, open, el) {
    const before = el ? [el.X * state.scale + state.tx, el.Y * state.scale + state.ty] : null;
    state.open.set(run, open);
    const anchor = open ? "cluster:" + D.runs[run].groups[0] : run;
    if (open || state.selected === el.id) state.selected = anchor;
    draw();
    const now = view.byId.get(anchor) || view.byId.get(D.runs[run].id);
    if (before && now) {  // keep what was clicked where it was
      state.tx = before[0] - now.X * state.scale; state.ty = before[1] - now.Y * state.scale;
      transform();
    }
    details();
  }
  function setDepth(d) {
    state.depth = d; state.open.clear(); $("depth").value = Math.min(d, D.levels);
    draw(); details();
  }
  function fit() {
    const box = $("canvas").getBoundingClientRect(), r = view.root;
    const s = Math.min(1.5, (box.width - 40) / Math.max(r.w, 1), (box.height - 40) / Math.max(r.h, 1));
    state.scale = Math.max(0.02, s);
    state.tx = (box.width - r.w * state.scale) / 2; state.ty = 20;
    transform();
  }
  function center(el) {
    const box = $("canvas").getBoundingClientRect();
    state.scale = Math.max(state.scale, 0.8);
    state.tx = box.width / 2 - (el.X + el.w / 2) * state.scale;
    state.ty = box.height / 3 - el.Y * state.scale;
    transform();
  }
  function reveal(node) {
    for (const s of D.nodes[node].scope) if (s.run && !isOpen(s.run)) state.open.set(s.run, true);
    state.selected = shownId(node); state.member = node;
    draw(); details();
    center(view.byId.get(state.selected));
  }
  function select(id, member) {
    state.selected = id; state.member = member;
    for (const el of document.querySelectorAll(".selected")) el.classList.remove("selected");
    const el = document.querySelector('[data-id="' + CSS.escape(id) + '"]');
    if (el) el.classList.add("selected");
    details();
  }

  $("depth").addEventListener("change", () => setDepth(Number($("depth").value)));
  $("expand").addEventListener("click", () => setDepth(D.levels));
  $("fit").addEventListener("click", fit);
  $("zoomin").addEventListener("click", () => zoom(1.25));
  $("zoomout").addEventListener("click", () => zoom(0.8));
  function zoom(f, cx, cy) {
    const box = $("canvas").getBoundingClientRect();
    cx = cx === undefined ? box.width / 2 : cx; cy = cy === undefined ? box.height / 2 : cy;
    const s = Math.min(8, Math.max(0.02, state.scale * f));
    state.tx = cx - (cx - state.tx) * (s / state.scale); state.ty = cy - (cy - state.ty) * (s / state.scale);
    state.scale = s; transform();
  }
  const canvas = $("canvas");
  canvas.addEventListener("wheel", (ev) => {
    ev.preventDefault();
    const box = canvas.getBoundingClientRect();
    if (ev.ctrlKey || ev.metaKey || Math.abs(ev.deltaY) > 0 && !ev.shiftKey) {
      zoom(Math.exp(-ev.deltaY * 0.0015), ev.clientX - box.left, ev.clientY - box.top);
    } else {
      state.tx -= ev.deltaX; state.ty -= ev.deltaY; transform();
    }
  }, { passive: false });
  let drag = null;
  canvas.addEventListener("mousedown", (ev) => { drag = [ev.clientX, ev.clientY, state.tx, state.ty, false]; });
  window.addEventListener("mousemove", (ev) => {
    if (!drag) return;
    const dx = ev.clientX - drag[0], dy = ev.clientY - drag[1];
    if (Math.abs(dx) + Math.abs(dy) > 3) { drag[4] = true; canvas.classList.add("dragging"); }
    state.tx = drag[2] + dx; state.ty = drag[3] + dy; transform();
  });
  window.addEventListener("mouseup", () => { drag = null; canvas.classList.remove("dragging"); });
  canvas.addEventListener("click", (ev) => { if (!ev.defaultPrevented && ev.target.closest("svg") && !ev.target.closest(".node,.cluster")) select(null, null); }, true);

  // ---- search ----------------------------------------------------------------------------------
  let hits = [], hit = -1;
  function search(q) {
    q = q.trim().toLowerCase();
    hits = [];
    if (q) {
      for (const [path, n] of Object.entries(D.nodes)) {
        if (path.toLowerCase().includes(q) || n.op === q || n.label.toLowerCase().includes(q)) hits.push(path);
      }
    }
    hit = -1;
    state.matches = new Set(hits);
    const box = $("results");
    box.innerHTML = hits.slice(0, 40).map((p) => '<a data-path="' + esc(p) + '">' + esc(p) + " <span style='color:#78909c'>" +
      esc(D.nodes[p].label) + "</span></a>").join("") +
      (hits.length > 40 ? '<div class="more">… ' + (hits.length - 40) + " more</div>" : "") +
      (q && !hits.length ? '<div class="more">no layer matches</div>' : "");
    box.style.display = q ? "block" : "none";
    for (const a of box.querySelectorAll("a")) a.addEventListener("click", () => reveal(a.dataset.path));
    draw();
    return hits.length;
  }
  $("search").addEventListener("input", () => search($("search").value));
  $("search").addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && hits.length) { hit = (hit + 1) % hits.length; reveal(hits[hit]); }
    if (ev.key === "Escape") { $("search").value = ""; search(""); }
  });

  // ---- details ---------------------------------------------------------------------------------
  function sourceLines(at, extra) {
    const [path, line, end] = at, text = (D.sources[path] || "").split("\n");
    const lo = Math.max(1, line - (extra || 0)), hi = Math.min(text.length, end + (extra || 0));
    let out = "";
    for (let i = lo; i <= hi; i++) {
      const row = String(i).padStart(4) + " | " + esc(text[i - 1] || "");
      out += i >= line && i <= end ? '<span class="hl">' + row + "</span>\n" : row + "\n";
    }
    return '<div class="hint">' + esc(path) + ":" + line + "</div><pre>" + out + "</pre>";
  }
  function costsTable(costs) {
    return "<table><tr><td>params</td><td>" + fmt(costs[0]) + "</td></tr><tr><td>MACs</td><td>" + fmt(costs[1]) +
      "</td></tr><tr><td>receptive field</td><td>" + costs[2][0] + "x" + costs[2][1] + "</td></tr><tr><td>layers</td><td>" +
      costs[3] + "</td></tr></table>";
  }
  function details() {
    const side = $("side"), el = state.selected && view.byId.get(state.selected);
    if (!el) {
      side.innerHTML = "<h2>" + esc(D.name) + "</h2><div class='hint'>" + esc(D.title) + "</div>" +
        "<p class='hint'>Click a layer for its figures and source; click a folded block (+) to open it, a " +
        "block's title (−) to fold it. Drag to pan, scroll to zoom.</p>";
      return;
    }
    if (el.kind === "cluster" || el.kind === "folded") {
      const d = el.data, run = el.kind === "folded" ? d : d.run ? D.runs[d.run] : null;
      let h = "<h2>" + esc(el.kind === "folded" ? d.lines[0] : d.path) + "</h2>";
      if (el.kind === "folded") h += "<div>" + esc(d.lines[1]) + "</div><div class='hint'>" + esc(d.lines[2]) + "</div>";
      else if (d.block) h += "<div>" + esc(d.name + ": " + d.call) + "</div>";
      h += "<h3>" + (el.kind === "folded" ? "folded (click to open)" : "totals") + "</h3>" + costsTable(d.costs);
      if (run || d.block) h += "<h3>source</h3><div>" + esc(run ? run.call : d.named) + "</div>" + sourceLines((run || d).at, 0);
      side.innerHTML = h;
      return;
    }
    if (el.kind === "output") {
      side.innerHTML = "<h2>" + esc(el.data.name) + "</h2><div>" + (el.data.side ? "side output" : "output") + " " +
        esc(el.data.shape) + " from " + esc(el.data.node) + "</div>";
      return;
    }
    const members = el.data.members, path = members.includes(state.member) ? state.member : members[0];
    const n = D.nodes[path];
    let h = "<h2>" + esc(path) + "</h2><div><b>" + esc(n.label) + "</b></div>";
    if (members.length > 1) {
      h += "<div class='members'>drawn as one node: " + members.map((m) => '<a data-path="' + esc(m) + '"' +
        (m === path ? ' class="current"' : "") + ">" + esc(m) + "</a>").join(", ") + "</div>";
    }
    h += "<table><tr><td>op</td><td>" + esc(n.op) + "</td></tr>" + (n.args ? "<tr><td>arguments</td><td>" +
      esc(n.args) + "</td></tr>" : "") + "<tr><td>output</td><td>" + esc(n.shape) + "</td></tr><tr><td>params</td><td>" + fmt(n.params) +
      "</td></tr><tr><td>MACs</td><td>" + fmt(n.macs) + "</td></tr><tr><td>receptive field</td><td>" + n.rf[0] + "x" +
      n.rf[1] + "</td></tr></table>";
    h += "<h3>how these figures arise</h3><pre class='explain'>" + esc(n.explain) + "</pre>";
    h += "<h3>source</h3>" + sourceLines(n.at, 0);
    for (let i = n.scope.length - 1; i >= 0; i--) {
      h += "<div class='hint'>in " + esc(n.scope[i].path) + ": " + esc(n.scope[i].call) + "</div>" + sourceLines(n.scope[i].at, 0);
    }
    side.innerHTML = h;
    for (const a of side.querySelectorAll(".members a")) a.addEventListener("click", () => select(el.id, a.dataset.path));
  }

  // ---- start, and a small API for tests and notebooks --------------------------------------------
  draw();
  fit();
  details();
  window.cnnc = {
    visible: () => [...view.byId.values()].filter((k) => k.kind === "node" || k.kind === "folded").map((k) => k.id),
    clusters: () => [...view.byId.values()].filter((k) => k.kind === "cluster" && k.data).map((k) => k.data.path),
    edges: () => view.edges.filter((e) => e.a.kind !== "output" && e.b.kind !== "output").map((e) => [e.a.id, e.b.id]),
    overlaps: () => overlaps(view.root),
    setDepth, search, reveal, fold, fit,
  };
  function overlaps(c) {  // siblings whose boxes intersect (none, by construction)
    const out = [], kids = c.children;
    for (let i = 0; i < kids.length; i++) {
      for (let j = i + 1; j < kids.length; j++) {
        const a = kids[i], b = kids[j];
        if (a.X < b.X + b.w && b.X < a.X + a.w && a.Y < b.Y + b.h && b.Y < a.Y + a.h) out.push([a.id, b.id]);
      }
      if (kids[i].kind === "cluster") out.push(...overlaps(kids[i]));
    }
    return out;
  }
})();
