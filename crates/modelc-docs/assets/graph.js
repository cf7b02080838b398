// modelc docs: renders the lineage graph laid out by modelc (positions come with
// the data) as SVG, with pan, zoom, search, type filters and up/downstream
// highlighting. No libraries, no network: works from file://.
// User text is only ever set with textContent or setAttribute.
(function () {
  "use strict";

  var NS = "http://www.w3.org/2000/svg";
  var dataEl = document.getElementById("graph-data");
  var svg = document.getElementById("graph");
  if (!dataEl || !svg) {
    document.body.dataset.ready = "1";
    return;
  }
  var data = JSON.parse(dataEl.textContent);
  var nodes = data.nodes;
  var edges = data.edges;
  var H = data.nodeHeight;
  var n = nodes.length;
  var viewport = document.getElementById("viewport");
  var edgeLayer = document.getElementById("edges");
  var nodeLayer = document.getElementById("nodes");

  // Adjacency by edge index, so highlighting walks only what it reaches.
  var inEdges = new Array(n);
  var outEdges = new Array(n);
  var i;
  for (i = 0; i < n; i++) {
    inEdges[i] = [];
    outEdges[i] = [];
  }

  function el(name, attrs) {
    var e = document.createElementNS(NS, name);
    for (var k in attrs) {
      if (Object.prototype.hasOwnProperty.call(attrs, k)) e.setAttribute(k, attrs[k]);
    }
    return e;
  }

  // Edges.
  var edgeEls = new Array(edges.length);
  var frag = document.createDocumentFragment();
  edges.forEach(function (e, k) {
    var a = nodes[e[0]];
    var b = nodes[e[1]];
    inEdges[e[1]].push(k);
    outEdges[e[0]].push(k);
    var x1 = a.x + a.w;
    var y1 = a.y + H / 2;
    var x2 = b.x;
    var y2 = b.y + H / 2;
    var dx = Math.max(30, Math.abs(x2 - x1) / 2);
    var p = el("path", {
      "class": "edge",
      "d": "M" + x1 + "," + y1 + "C" + (x1 + dx) + "," + y1 + " " + (x2 - dx) + "," + y2 + " " + x2 + "," + y2,
      "data-types": a.type + " " + b.type,
      "marker-end": "url(#arrow)"
    });
    edgeEls[k] = p;
    frag.appendChild(p);
  });
  edgeLayer.appendChild(frag);

  // Nodes: <g class="node" data-id data-type><a href><rect/><text/></a></g>.
  var layers = data.layers || [];
  var nodeEls = new Array(n);
  var keys = new Array(n);
  frag = document.createDocumentFragment();
  nodes.forEach(function (d, idx) {
    var g = el("g", {
      "class": "node t-" + d.type,
      "data-id": d.id,
      "data-type": d.type,
      "data-index": String(idx),
      "transform": "translate(" + d.x + "," + d.y + ")"
    });
    var a = el("a", { "href": d.href });
    var stroke = d.layer !== null && layers[d.layer] ? layers[d.layer].color : data.neutralStroke;
    a.appendChild(el("rect", { "width": d.w, "height": H, "rx": 6, "ry": 6, "stroke": stroke }));
    var t = el("text", { "x": 10, "y": H / 2 + 4 });
    t.textContent = d.label;
    a.appendChild(t);
    var title = el("title", {});
    title.textContent = d.name + "\n" + d.type + (d.mat ? " · " + d.mat : "") + "\n" + d.id;
    g.appendChild(title);
    g.appendChild(a);
    nodeEls[idx] = g;
    keys[idx] = (d.name + " " + d.id).toLowerCase();
    frag.appendChild(g);
  });
  nodeLayer.appendChild(frag);

  // Pan and zoom.
  var view = { k: 1, x: 0, y: 0 };
  function apply() {
    viewport.setAttribute("transform", "translate(" + view.x + "," + view.y + ") scale(" + view.k + ")");
  }
  function size() {
    var r = svg.getBoundingClientRect();
    return { w: r.width || 800, h: r.height || 600, left: r.left, top: r.top };
  }
  function clampK(k) {
    return Math.max(0.01, Math.min(4, k));
  }
  function zoomAt(factor, px, py) {
    var k = clampK(view.k * factor);
    view.x = px - (px - view.x) * (k / view.k);
    view.y = py - (py - view.y) * (k / view.k);
    view.k = k;
    apply();
  }
  function fit() {
    var s = size();
    var k = clampK(Math.min(s.w / (data.width || 1), s.h / (data.height || 1)) * 0.96);
    k = Math.min(k, 1.5);
    view.k = k;
    view.x = (s.w - data.width * k) / 2;
    view.y = (s.h - data.height * k) / 2;
    apply();
  }
  function centreOn(idx) {
    var s = size();
    var d = nodes[idx];
    view.k = Math.max(view.k, 0.9);
    view.x = s.w / 2 - (d.x + d.w / 2) * view.k;
    view.y = s.h / 2 - (d.y + H / 2) * view.k;
    apply();
  }

  var drag = null;
  var suppressClick = false;
  svg.addEventListener("pointerdown", function (ev) {
    if (ev.button !== 0) return;
    drag = { x: ev.clientX, y: ev.clientY, vx: view.x, vy: view.y, moved: false };
    suppressClick = false;
  });
  window.addEventListener("pointermove", function (ev) {
    if (!drag) return;
    var dx = ev.clientX - drag.x;
    var dy = ev.clientY - drag.y;
    if (!drag.moved && Math.abs(dx) + Math.abs(dy) > 4) {
      drag.moved = true;
      svg.classList.add("panning");
    }
    if (drag.moved) {
      view.x = drag.vx + dx;
      view.y = drag.vy + dy;
      apply();
    }
  });
  window.addEventListener("pointerup", function () {
    if (drag && drag.moved) suppressClick = true;
    drag = null;
    svg.classList.remove("panning");
  });
  // A drag that ends on a node must not open it.
  svg.addEventListener("click", function (ev) {
    if (suppressClick) {
      ev.preventDefault();
      suppressClick = false;
    }
  }, true);
  svg.addEventListener("wheel", function (ev) {
    ev.preventDefault();
    var s = size();
    var delta = ev.deltaMode === 1 ? ev.deltaY * 16 : ev.deltaY;
    zoomAt(Math.exp(-delta * 0.0015), ev.clientX - s.left, ev.clientY - s.top);
  }, { passive: false });
  function button(id, f) {
    var b = document.getElementById(id);
    if (b) b.addEventListener("click", f);
  }
  button("zoom-in", function () {
    var s = size();
    zoomAt(1.3, s.w / 2, s.h / 2);
  });
  button("zoom-out", function () {
    var s = size();
    zoomAt(1 / 1.3, s.w / 2, s.h / 2);
  });
  button("fit", fit);

  // Hover: highlight everything upstream and downstream.
  var lit = [];
  var litEdges = [];
  function clearHighlight() {
    lit.forEach(function (j) { nodeEls[j].classList.remove("hl"); });
    litEdges.forEach(function (k) { edgeEls[k].classList.remove("hl"); });
    lit = [];
    litEdges = [];
    svg.classList.remove("hovering");
  }
  function walk(start, adjacent, end) {
    var seen = {};
    var stack = [start];
    seen[start] = true;
    while (stack.length) {
      var v = stack.pop();
      var list = adjacent[v];
      for (var j = 0; j < list.length; j++) {
        var k = list[j];
        litEdges.push(k);
        var u = edges[k][end];
        if (!seen[u]) {
          seen[u] = true;
          lit.push(u);
          stack.push(u);
        }
      }
    }
  }
  function highlight(idx) {
    clearHighlight();
    lit.push(idx);
    walk(idx, inEdges, 0);
    walk(idx, outEdges, 1);
    lit.forEach(function (j) { nodeEls[j].classList.add("hl"); });
    litEdges.forEach(function (k) { edgeEls[k].classList.add("hl"); });
    svg.classList.add("hovering");
  }
  function nodeIndexOf(target) {
    var g = target && target.closest ? target.closest("g.node") : null;
    return g ? Number(g.getAttribute("data-index")) : -1;
  }
  svg.addEventListener("pointerover", function (ev) {
    if (drag && drag.moved) return;
    var idx = nodeIndexOf(ev.target);
    if (idx >= 0) highlight(idx);
  });
  svg.addEventListener("pointerout", function (ev) {
    var idx = nodeIndexOf(ev.target);
    if (idx >= 0 && nodeIndexOf(ev.relatedTarget) !== idx) clearHighlight();
  });

  // Search: dim what does not match, centre on the first match; Enter cycles.
  var search = document.getElementById("search");
  var countEl = document.getElementById("search-count");
  var matches = [];
  var current = -1;
  function focusMatch(m) {
    if (current >= 0 && matches[current] !== undefined) nodeEls[matches[current]].classList.remove("focus");
    current = m;
    if (matches.length) {
      nodeEls[matches[current]].classList.add("focus");
      centreOn(matches[current]);
      if (countEl) countEl.textContent = (current + 1) + " / " + matches.length;
    }
  }
  function runSearch() {
    var q = search.value.trim().toLowerCase();
    if (current >= 0 && matches[current] !== undefined) nodeEls[matches[current]].classList.remove("focus");
    matches.forEach(function (j) { nodeEls[j].classList.remove("match"); });
    matches = [];
    current = -1;
    if (!q) {
      svg.classList.remove("searching");
      if (countEl) countEl.textContent = "";
      return;
    }
    for (var j = 0; j < n; j++) {
      if (keys[j].indexOf(q) >= 0) matches.push(j);
    }
    matches.forEach(function (j) { nodeEls[j].classList.add("match"); });
    svg.classList.add("searching");
    if (matches.length) {
      focusMatch(0);
    } else if (countEl) {
      countEl.textContent = "no match";
    }
  }
  if (search) {
    var timer = null;
    search.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(runSearch, n > 1500 ? 150 : 60);
    });
    search.addEventListener("keydown", function (ev) {
      if (ev.key === "Enter") {
        ev.preventDefault();
        clearTimeout(timer);
        if (!matches.length) runSearch();
        else focusMatch((current + (ev.shiftKey ? matches.length - 1 : 1)) % matches.length);
      } else if (ev.key === "Escape") {
        search.value = "";
        runSearch();
      }
    });
  }

  // Show or hide resource types.
  Array.prototype.forEach.call(document.querySelectorAll(".type-toggle"), function (b) {
    b.addEventListener("click", function () {
      var t = b.getAttribute("data-type");
      var shown = b.getAttribute("aria-pressed") !== "false";
      b.setAttribute("aria-pressed", shown ? "false" : "true");
      svg.classList.toggle("hide-" + t, shown);
    });
  });

  fit();
  svg.setAttribute("data-node-count", String(n));
  svg.setAttribute("data-edge-count", String(edges.length));
  document.body.dataset.ready = "1";
})();
