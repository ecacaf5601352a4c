// The live page's waiting-room and stock-audit panels (admin, reservations), from "live:snapshot".
(function () {
  "use strict";
  function show(id, visible) { document.getElementById(id).hidden = !visible; }

  function renderAudit(audit) {
    var drifting = Boolean(audit && !audit.ok);
    show("audit-banner", drifting);
    if (drifting) { document.getElementById("audit-banner-summary").textContent = audit.summary; }
    var state = document.getElementById("audit-state");
    state.textContent = audit ? "Last audit " + audit.checked_at_label + ": " + audit.summary : "Not audited yet.";
    state.className = audit && audit.ok ? "ok" : "";
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
  });
})();
