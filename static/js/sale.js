// Shopper pages: ticking countdowns, remaining units refreshed from the shared stock.json, "use my location",
// and the CAPTCHA form loaded inline so it can be solved before the sale opens.
(function () {
  "use strict";

  var root = document.querySelector("[data-server-now]");
  if (!root) return;
  // Countdowns follow the server's clock, not the shopper's (which may be off by minutes).
  var serverNow = parseFloat(root.getAttribute("data-server-now"));
  var loadedAt = Date.now() / 1000;
  function now() { return serverNow + (Date.now() / 1000 - loadedAt); }

  function label(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    var h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
    function two(n) { return (n < 10 ? "0" : "") + n; }
    if (h) return h + " h " + two(m) + " min";
    if (m) return m + " min " + two(s) + " s";
    return s + " s";
  }

  var reloading = false;
  function tick() {
    document.querySelectorAll("[data-countdown]").forEach(function (el) {
      var left = parseFloat(el.getAttribute("data-countdown")) - now();
      el.textContent = label(left);
      if (left <= 0 && el.hasAttribute("data-reload") && !reloading) {
        reloading = true;
        // A small random delay spreads the reloads of everyone waiting for the opening.
        setTimeout(function () { window.location.reload(); }, 300 + Math.random() * 1500);
      }
    });
  }
  tick();
  setInterval(tick, 1000);

  // Remaining units from the shared stock poll (the same body for everybody, cacheable). Every
  // snapshot carries the session's stock version; one older than a version this tab has already
  // shown is ignored, so a count only goes up when units really came back. The tab remembers the
  // version across reloads (sessionStorage), so a page served from a slightly older cache does not
  // undo what the shopper saw a moment ago either.
  var session = root.getAttribute("data-session");
  var versionKey = "flashsale:stock-version:" + session;
  function storedVersion() {
    try { return parseInt(window.sessionStorage.getItem(versionKey) || "0", 10) || 0; } catch (e) { return 0; }
  }
  var shownVersion = Math.max(parseInt(root.getAttribute("data-version") || "0", 10) || 0, 0);
  var stalePage = storedVersion() > shownVersion;
  function rememberVersion(version) {
    shownVersion = version;
    try { window.sessionStorage.setItem(versionKey, String(version)); } catch (e) { /* private mode */ }
  }
  if (!stalePage) rememberVersion(shownVersion);

  function setState(card, state, text) {
    var badge = card.querySelector("[data-state]");
    if (!badge && state !== "on-sale") {
      // A card on sale has no badge: add one after its remaining units.
      badge = document.createElement("b");
      badge.setAttribute("data-state", "");
      var units = card.querySelector("[data-remaining]");
      if (units) {
        units.parentNode.appendChild(document.createTextNode(" "));
        units.parentNode.appendChild(badge);
      }
    }
    var button = card.querySelector("button");
    if (badge) {
      badge.className = state;
      badge.textContent = state === "on-sale" ? "" : text;
    }
    if (button) button.disabled = state !== "on-sale";
  }
  function yours(card) {
    var el = card.querySelector("[data-yours]");
    return el ? parseInt(el.textContent, 10) || 0 : 0;
  }
  function applyStock(data) {
    var ignored = typeof data.version !== "number" || data.version < shownVersion;
    window.flashsaleLastPoll = { version: data.version, ignored: ignored };
    if (ignored) return;
    rememberVersion(data.version);
    stalePage = false;
    Object.keys(data.items || {}).forEach(function (id) {
      var card = document.querySelector('[data-item="' + id + '"]');
      if (!card) return;
      var left = data.items[id];
      var remaining = card.querySelector("[data-remaining]");
      if (remaining) remaining.textContent = left;
      var limit = parseInt(card.getAttribute("data-limit"), 10);
      if (left <= 0) setState(card, "sold-out", "Sold out");
      else if (yours(card) >= limit) setState(card, "limit", "Your limit reached");
      else if (data.phase === "live" && card.querySelector("[data-state].sold-out")) setState(card, "on-sale", "On sale");
    });
  }
  var stockUrl = root.getAttribute("data-stock-url");
  function poll() {
    if (document.hidden) return;
    fetch(stockUrl, { headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data) applyStock(data); })
      .catch(function () { /* the next poll will try again */ });
  }
  if (stockUrl) {
    if (stalePage) poll();
    setInterval(poll, 3000);
    // Tests (and anything else on the page) can ask for a poll now.
    document.addEventListener("flashsale:poll", poll);
  }

  // The shopper's own counts come with the page; coming back to it from the gateway (the browser
  // may show the page it kept) asks for them again, privately.
  var mineUrl = root.getAttribute("data-mine-url");
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted || !mineUrl) return;
    fetch(mineUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) return;
        Object.keys(data.items || {}).forEach(function (id) {
          var card = document.querySelector('[data-item="' + id + '"]');
          var el = card && card.querySelector("[data-yours]");
          if (el) el.textContent = data.items[id];
          if (card && data.items[id] >= parseInt(card.getAttribute("data-limit"), 10)) {
            setState(card, "limit", "Your limit reached");
          }
        });
        poll();
      })
      .catch(function () { /* the counts on the page stay */ });
  });

  // "Use my location": the browser's coordinates are posted to the server (kept in the session).
  var geoButton = document.getElementById("use-location");
  if (geoButton) {
    geoButton.addEventListener("click", function () {
      var status = document.getElementById("geo-status");
      function say(text) { if (status) { status.hidden = false; status.textContent = text; } }
      if (!navigator.geolocation) { say("Your browser does not share its location; pick a city instead."); return; }
      say("Asking your browser for your location…");
      navigator.geolocation.getCurrentPosition(function (pos) {
        var form = document.getElementById("geo-form");
        form.elements.latitude.value = pos.coords.latitude.toFixed(5);
        form.elements.longitude.value = pos.coords.longitude.toFixed(5);
        form.submit();
      }, function () { say("Location not available; pick a city instead."); }, { timeout: 10000, maximumAge: 600000 });
    });
  }

  // The CAPTCHA form, inline, as soon as the page is open.
  var captchaBox = document.querySelector("[data-captcha-fragment-url]");
  if (captchaBox) {
    fetch(captchaBox.getAttribute("data-captcha-fragment-url"), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (!html) return;
        var holder = document.createElement("div");
        holder.innerHTML = html;
        captchaBox.appendChild(holder);
        // The inline form replaces the link to the full CAPTCHA page.
        var fallback = captchaBox.querySelector("[data-captcha-fallback]");
        if (fallback) fallback.hidden = true;
      })
      .catch(function () { /* the link to the full page stays */ });
  }
})();
