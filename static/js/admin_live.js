// The operator's live stock page (admin, plans): renders the snapshot the page carries, then polls
// its JSON endpoint; pages extending it render their own parts from the "live:snapshot" event.
(function () {
  "use strict";
  var main = document.getElementById("content-main");
  var dataUrl = main.getAttribute("data-live-url");
  var pollMs = parseInt(main.getAttribute("data-poll-ms"), 10) || 3000;
  var COLUMNS = ["allocated", "adjusted", "remaining", "held", "paid", "returned", "rejected"];
  var SVG = "http://www.w3.org/2000/svg";

  function cell(tag, text, numeric) {
    var el = document.createElement(tag);
    el.textContent = text;
    if (numeric) { el.className = "num"; }
    return el;
  }

  function renderTable(snapshot) {
    var body = document.querySelector("#live-table tbody");
    var foot = document.querySelector("#live-table tfoot tr");
    body.replaceChildren();
    snapshot.items.forEach(function (row) {
      var tr = document.createElement("tr");
      if (!row.balanced) { tr.className = "unbalanced"; }
      tr.appendChild(cell("td", row.name));
      tr.appendChild(cell("td", row.place));
      COLUMNS.forEach(function (key) { tr.appendChild(cell("td", String(row[key]), true)); });
      body.appendChild(tr);
    });
    foot.replaceChildren();
    var label = cell("th", "Total");
    label.colSpan = 2;
    foot.appendChild(label);
    COLUMNS.forEach(function (key) { foot.appendChild(cell("th", String(snapshot.totals[key]), true)); });
  }

  function svgEl(name, attrs, text) {
    var el = document.createElementNS(SVG, name);
    Object.keys(attrs).forEach(function (key) { el.setAttribute(key, attrs[key]); });
    if (text !== undefined) { el.textContent = text; }
    return el;
  }

  // Minutes on the axis come from the server (snapshot.chart), left to right from the opening; labels
  // are the server's too, in the site's time zone: the browser's clock and locale never show.
  function renderChart(snapshot) {
    var svg = document.getElementById("live-chart");
    var width = 960, height = 220, top = 16, bottom = 20, left = 36;
    var first = snapshot.chart.first, last = snapshot.chart.last;
    var counts = {}, labels = {};
    var peak = 0;
    snapshot.timeline.forEach(function (point) {
      var minute = Math.floor(point[0] / 60);
      counts[minute] = point[1];
      labels[minute] = point[2];
      peak = Math.max(peak, point[1]);
    });
    svg.replaceChildren();
    var minutes = Math.max(1, last - first + 1);
    var slot = (width - left) / minutes;
    var plot = height - top - bottom;
    for (var m = first; m <= last; m++) {
      var value = counts[m] || 0;
      if (!value) { continue; }
      var h = peak ? plot * value / peak : 0;
      var bar = svgEl("rect", {
        x: (left + (m - first) * slot).toFixed(2), y: (top + plot - h).toFixed(2),
        width: Math.max(1, slot - 1).toFixed(2), height: h.toFixed(2)
      });
      bar.appendChild(svgEl("title", {}, labels[m] + ": " + value + " reservations"));
      svg.appendChild(bar);
    }
    svg.appendChild(svgEl("text", { x: 2, y: top + 4 }, String(peak)));
    svg.appendChild(svgEl("text", { x: 2, y: height - bottom }, "0"));
    svg.appendChild(svgEl("text", { x: left, y: height - 4 }, snapshot.chart.first_label));
    if (last > first) {
      svg.appendChild(svgEl("text", { x: width - 4, y: height - 4, "text-anchor": "end" }, snapshot.chart.last_label));
    }
    if (!snapshot.timeline.length) {
      var empty = snapshot.now < snapshot.session.starts_at
        ? "Opens at " + snapshot.session.opens_label + ": no reservations yet"
        : "No reservations yet";
      svg.appendChild(svgEl("text", { x: width / 2, y: height / 2, "text-anchor": "middle" }, empty));
    }
  }

  function render(snapshot) {
    renderTable(snapshot);
    renderChart(snapshot);
    document.getElementById("live-state").textContent = snapshot.session.state_label;
    document.getElementById("live-source").textContent = snapshot.source_label;
    var updated = document.getElementById("live-updated");
    updated.className = "";
    updated.textContent = snapshot.now_label;
    // Pages extending this one render their own parts of the snapshot from this event.
    document.dispatchEvent(new CustomEvent("live:snapshot", { detail: snapshot }));
  }

  function poll() {
    fetch(dataUrl, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(render)
      .catch(function () {
        var updated = document.getElementById("live-updated");
        updated.className = "stale";
        updated.textContent = "could not refresh, trying again";
      })
      .finally(function () { window.setTimeout(poll, pollMs); });
  }

  render(JSON.parse(document.getElementById("live-initial").textContent));
  window.setTimeout(poll, pollMs);
})();
