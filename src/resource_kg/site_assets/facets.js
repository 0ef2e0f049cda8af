// Faceted browsing of the catalog: written for resource-kg, no library, no network.
// The data is window.rkgCatalog, set by catalog-index.js (loaded just before this script):
// facet value lists and one row per resource whose facet values are indexes into those lists. Within a facet the selected
// values are alternatives (OR); across facets they all apply (AND). A value's count is the
// number of rows it would show, given the other facets and the text filter.
(function () {
  "use strict";
  var data = window.rkgCatalog;
  if (!data) {
    document.getElementById("summary").textContent = "The catalog data (catalog-index.js) did not load.";
    return;
  }
  var facets = data.facets;
  var rows = data.rows;
  var PAGE = 50; // rows per page of the results list
  var page = 0;
  var selected = facets.map(function () { return new Set(); });
  var query = "";
  var shown = rows;

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function matchesText(row) {
    if (!query) return true;
    var hay = row._text || (row._text = (row.i + " " + row.t + " " + (row.x || "")).toLowerCase());
    return query.split(/\s+/).every(function (w) { return hay.indexOf(w) >= 0; });
  }

  function matches(row, except) {
    for (var f = 0; f < facets.length; f++) {
      if (f === except || selected[f].size === 0) continue;
      var values = row.f[f];
      var hit = false;
      for (var k = 0; k < values.length; k++) {
        if (selected[f].has(values[k])) { hit = true; break; }
      }
      if (!hit) return false;
    }
    return matchesText(row);
  }

  function renderFacets() {
    var box = document.getElementById("facets");
    box.textContent = "";
    facets.forEach(function (facet, f) {
      var counts = new Array(facet.values.length).fill(0);
      rows.forEach(function (row) {
        if (!matches(row, f)) return;
        row.f[f].forEach(function (v) { counts[v] += 1; });
      });
      var section = el("section", { "class": "facet", id: "facet-" + facet.key });
      section.appendChild(el("h2", {}, facet.label));
      var list = el("ul");
      facet.values.forEach(function (label, v) {
        var on = selected[f].has(v);
        if (counts[v] === 0 && !on) return;
        var button = el("button", {
          type: "button", "data-facet": facet.key, "data-value": label, "aria-pressed": on ? "true" : "false"
        });
        button.appendChild(el("span", { "class": "label" }, label));
        button.appendChild(el("span", { "class": "count" }, String(counts[v])));
        button.addEventListener("click", function () {
          if (selected[f].has(v)) selected[f].delete(v); else selected[f].add(v);
          update();
        });
        var item = el("li");
        item.appendChild(button);
        list.appendChild(item);
      });
      section.appendChild(list);
      box.appendChild(section);
    });
  }

  function names(row, key) {
    var f = facets.findIndex(function (x) { return x.key === key; });
    return row.f[f].map(function (v) { return facets[f].values[v]; });
  }

  function renderRows() {
    var body = document.querySelector("#results tbody");
    body.textContent = "";
    var pages = Math.max(1, Math.ceil(shown.length / PAGE));
    if (page >= pages) page = pages - 1;
    var first = page * PAGE;
    var heads = Array.prototype.map.call(
      document.querySelectorAll("#results thead th"), function (th) { return th.textContent; });
    function cell(tr, i, text) {
      var td = el("td", { "data-label": heads[i] || "" }, text);
      tr.appendChild(td);
      return td;
    }
    shown.slice(first, first + PAGE).forEach(function (row) {
      var tr = el("tr", row.r ? { "data-id": row.i, "class": "retired" } : { "data-id": row.i });
      var title = cell(tr, 0);
      title.appendChild(el("a", { href: row.p }, row.t || row.i));
      if (row.r) {
        title.appendChild(document.createTextNode(" "));
        title.appendChild(el("span", { "class": "badge" }, "retired"));
      }
      cell(tr, 1, row.y || "");
      cell(tr, 2, names(row, "type").join(", "));
      cell(tr, 3, names(row, "audience").join(", "));
      cell(tr, 4, names(row, "developer").join(", "));
      body.appendChild(tr);
    });
    var summary = shown.length + " of " + rows.length + " resources";
    if (shown.length > PAGE) {
      summary += "; rows " + (first + 1) + "–" + Math.min(first + PAGE, shown.length) + " shown";
    }
    document.getElementById("summary").textContent = summary;
    renderPager(pages);
  }

  function renderPager(pages) {
    var nav = document.getElementById("pager");
    if (!nav) {
      nav = el("nav", { id: "pager", "aria-label": "Pages of results" });
      var table = document.getElementById("results");
      table.parentNode.insertBefore(nav, table.nextSibling);
    }
    nav.textContent = "";
    if (pages <= 1) { nav.hidden = true; return; }
    nav.hidden = false;
    function go(to, label, id) {
      var b = el("button", { type: "button", id: id }, label);
      if (to < 0 || to >= pages) b.disabled = true;
      b.addEventListener("click", function () {
        page = to;
        renderRows();
        document.getElementById("summary").scrollIntoView({ block: "nearest" });
      });
      nav.appendChild(b);
    }
    go(page - 1, "Previous", "page-prev");
    nav.appendChild(el("span", { "class": "page-of" }, "Page " + (page + 1) + " of " + pages));
    go(page + 1, "Next", "page-next");
  }

  // On a narrow screen the facets fold away behind this button (CSS shows it there only).
  (function foldFacets() {
    var browse = document.querySelector(".browse");
    if (!browse) return;
    var toggle = el("button", {
      type: "button", id: "facets-toggle", "aria-controls": "facets", "aria-expanded": "false"
    }, "Filter by facets");
    toggle.addEventListener("click", function () {
      var open = browse.classList.toggle("open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    });
    browse.parentNode.insertBefore(toggle, browse);
  })();

  function update() {
    page = 0;
    shown = rows.filter(function (row) { return matches(row, -1); });
    renderFacets();
    renderRows();
  }

  function csvCell(value) {
    var text = String(value === undefined || value === null ? "" : value);
    // A cell a spreadsheet would run (=, +, -, @, tab, CR first) gets a leading quote, as in
    // every CSV rkg writes (resource_kg.spreadsheet).
    if (/^'*[=+\-@\t\r]/.test(text)) text = "'" + text;
    return /[",\r\n]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text;
  }

  function csv() {
    var keys = facets.map(function (x) { return x.key; });
    var lines = [["id", "title", "url", "page"].concat(keys).map(csvCell).join(",")];
    shown.forEach(function (row) {
      var page = new URL(row.p, window.location.href).href;
      var cells = [row.i, row.t, row.u || "", page];
      keys.forEach(function (key) { cells.push(names(row, key).join("; ")); });
      lines.push(cells.map(csvCell).join(","));
    });
    return lines.join("\r\n") + "\r\n";
  }

  document.getElementById("csv").addEventListener("click", function () {
    var blob = new Blob([csv()], { type: "text/csv;charset=utf-8" });
    if (this.dataset.url) URL.revokeObjectURL(this.dataset.url);
    this.dataset.url = URL.createObjectURL(blob);
    this.href = this.dataset.url;
  });
  document.getElementById("q").addEventListener("input", function () {
    query = this.value.trim().toLowerCase();
    update();
  });
  document.getElementById("clear").addEventListener("click", function () {
    selected.forEach(function (s) { s.clear(); });
    query = "";
    document.getElementById("q").value = "";
    update();
  });
  update();
})();
