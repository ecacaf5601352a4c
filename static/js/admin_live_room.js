// The live page's waiting-room, funnel, revenue and stock-audit panels (admin, reservations), from "live:snapshot".
(function () {
  "use strict";
  function show(id, visible) { document.getElementById(id).hidden = !visible; }

  function renderAudit(audit) {
    var drifting = Boolean(audit && !audit.ok);
    show("audit-banner", drifting);
    if (drifting) { document.getElementById("audit-banner-summary").textContent = audit.summary; }
    var state = document.getElementById("audit-state");
    if (!audit) { state.textContent = "Not audited yet."; }
    else { state.textContent = "Last audit " + audit.checked_at_label + ": " + (audit.ok ? "balanced." : "drift found (above)."); }
    state.className = audit && audit.ok ? "ok" : "";
    show("audit-formula", Boolean(audit));
    if (audit) { document.getElementById("audit-formula-text").textContent = audit.formula; }
  }

  function renderFunnel(funnel) {
    if (!funnel) { return; }
    funnel.steps.forEach(function (step) {
      var row = document.querySelector('#funnel tr[data-step="' + step.key + '"]');
      if (!row) { return; }
      row.children[1].textContent = String(step.count);
      row.children[2].textContent = step.share;
    });
    var revenue = document.getElementById("revenue");
    revenue.replaceChildren(document.createTextNode("Revenue (paid reservations): "));
    if (!funnel.revenue.length) {
      var none = document.createElement("strong");
      none.textContent = "none yet";
      revenue.appendChild(none);
    }
    funnel.revenue.forEach(function (money, index) {
      if (index) { revenue.appendChild(document.createTextNode(", ")); }
      var amount = document.createElement("strong");
      amount.textContent = money.amount + " " + money.currency;
      revenue.appendChild(amount);
    });
  }

  function renderWaitingRoom(room) {
    show("waiting-room-panel", Boolean(room));
    show("waiting-room-closed", !room);
    if (!room) { return; }
    document.querySelectorAll("#waiting-room-figures td[data-key]").forEach(function (cell) {
      var key = cell.getAttribute("data-key");
      if (key === "rate") { cell.textContent = room.rate ? room.rate + "/s" : "all at once"; }
      else if (key === "paused") { cell.textContent = room.paused ? "paused" : "running"; }
      else { cell.textContent = String(room[key]); }
    });
  }

  document.addEventListener("live:snapshot", function (event) {
    renderAudit(event.detail.audit);
    renderWaitingRoom(event.detail.waiting_room);
    renderFunnel(event.detail.funnel);
  });
})();
