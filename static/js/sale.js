// Shopper pages: ticking countdowns (the header's and the cards' "Opens in"), remaining units refreshed
// from the shared stock.json and announced to screen readers, a warning before the shopper's turn to
// reserve ends, and "use my location". The CAPTCHA has its own script (captcha.js).
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

  // Said to screen readers through the page's polite live region (stock news, a turn ending).
  var news = document.getElementById("stock-news");
  function announce(text) { if (news && text) news.textContent = text; }

  var startsAt = parseFloat(root.getAttribute("data-starts") || "0");
  // The shopper's turn to reserve (the waiting room's admission): warned once, a minute before it ends.
  var PASS_WARNING_SECONDS = 60;
  var passNotice = document.getElementById("pass-notice");
  var passWarned = false;

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
    if (startsAt) {
      var opensIn = label(startsAt - now());
      document.querySelectorAll(".products [data-state].opens").forEach(function (badge) {
        badge.textContent = "Opens in " + opensIn;
      });
    }
    if (passNotice && !passWarned) {
      var passLeft = parseFloat(passNotice.getAttribute("data-pass-until")) - now();
      if (passLeft <= PASS_WARNING_SECONDS) {
        passWarned = true;
        passNotice.classList.add("warning");
        var warning = document.createElement("p");
        warning.innerHTML = "<strong>Less than a minute left to reserve.</strong> Reserve now, or you will queue again.";
        passNotice.appendChild(warning);
        announce("Less than a minute left of your turn to reserve.");
      }
    }
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

  // A card is found by its heading's id, "n<item id>" (reservations/cards.py).
  function cardOf(id) {
    var heading = document.getElementById("n" + id);
    return heading ? heading.parentNode : null;
  }
  function limitOf(card) {
    return parseInt(card.getAttribute("data-limit") || "1", 10);
  }
  function nameOf(card) {
    var heading = card.querySelector("h3");
    return heading ? heading.textContent : "";
  }
  function setState(card, state, text) {
    var badge = card.querySelector("[data-state]");
    if (!badge && state !== "on-sale") {
      // A card on sale has no badge: add one after its remaining units.
      badge = document.createElement("b");
      badge.setAttribute("data-state", "");
      var units = card.querySelector("[data-left]");
      if (units) {
        units.parentNode.appendChild(document.createTextNode(" "));
        units.parentNode.appendChild(badge);
      }
    }
    var onSale = state === "on-sale";
    var button = card.querySelector("button");
    if (badge) {
      badge.className = state;
      badge.textContent = onSale ? "" : text;
    }
    if (button) button.disabled = !onSale;
    // Nothing to pick on a card that cannot be reserved.
    var picker = card.querySelector("select");
    if (picker) {
      picker.hidden = !onSale;
      picker.disabled = !onSale;
    }
  }
  function yours(card) {
    var el = card.querySelector("[data-yours]");
    return el ? parseInt(el.textContent, 10) || 0 : 0;
  }
  // Units running this low are announced as they change.
  var LOW_STOCK = 5;
  var MAX_NAMED = 3;
  function tellChanges(changes) {
    if (!changes.length) return;
    var said = changes.slice(0, MAX_NAMED).join(". ");
    if (changes.length > MAX_NAMED) said += ". " + (changes.length - MAX_NAMED) + " more products changed";
    announce(said + ".");
  }
  function applyStock(data) {
    var ignored = typeof data.version !== "number" || data.version < shownVersion;
    window.flashsaleLastPoll = { version: data.version, ignored: ignored };
    if (ignored) return;
    rememberVersion(data.version);
    stalePage = false;
    var changes = [];
    Object.keys(data.items || {}).forEach(function (id) {
      var card = cardOf(id);
      if (!card) return;
      var left = data.items[id];
      var remaining = card.querySelector("[data-left]");
      var before = remaining ? parseInt(remaining.textContent, 10) : left;
      if (remaining) remaining.textContent = left;
      if (left !== before) {
        if (left <= 0) changes.push(nameOf(card) + ": sold out");
        else if (left <= LOW_STOCK || before <= 0) changes.push(nameOf(card) + ": " + left + " left");
      }
      if (left <= 0) setState(card, "sold-out", "Sold out");
      else if (yours(card) >= limitOf(card)) setState(card, "limit", "Your limit reached");
      else if (data.phase === "live" && card.querySelector("[data-state].sold-out")) setState(card, "on-sale", "On sale");
    });
    tellChanges(changes);
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
          var card = cardOf(id);
          var el = card && card.querySelector("[data-yours]");
          if (el) el.textContent = data.items[id];
          if (card && data.items[id] >= limitOf(card)) {
            setState(card, "limit", "Your limit reached");
          }
        });
        poll();
      })
      .catch(function () { /* the counts on the page stay */ });
  });

  // "Use my location": the browser's coordinates are posted to the server (kept in the session).
  var geoButton = document.getElementById("use-location");
  if (geoButton && navigator.geolocation) {
    // Hidden in the page: it only works with JavaScript and a browser that shares its position.
    geoButton.hidden = false;
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

})();
