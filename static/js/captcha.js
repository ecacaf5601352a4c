// The CAPTCHA: loaded into the sale page so it can be solved before the rush, answered there without
// leaving the page, a new picture on demand and before the shown one expires, and the audio played
// in place. Without JavaScript the sale page links to the CAPTCHA page, which works on its own.
(function () {
  "use strict";

  // Ask for a new picture this many seconds before the shown one expires.
  var RENEW_MARGIN = 20;

  function note(challenge, text) {
    var el = challenge.querySelector("[data-captcha-note]");
    if (el) el.textContent = text;
  }

  // A new challenge from django-simple-captcha's refresh view: new key, picture and audio.
  function renew(challenge, why) {
    var form = challenge.closest("form");
    var url = challenge.getAttribute("data-captcha-refresh-url");
    if (!form || !url) return;
    fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "XMLHttpRequest", Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) return;
        var image = challenge.querySelector("img.captcha");
        if (image) {
          image.src = data.image_url;
          if (image.hasAttribute("srcset")) image.setAttribute("srcset", data.image_url.replace(/\/$/, "@2/") + " 2x");
        }
        var audio = challenge.querySelector("[data-captcha-audio]");
        if (audio && data.audio_url) audio.setAttribute("href", data.audio_url);
        var key = form.querySelector('input[type="hidden"][name$="_0"]');
        if (key) key.value = data.key;
        var answer = form.querySelector('input[type="text"][name$="_1"]');
        var typed = answer && answer.value;
        if (answer) answer.value = "";
        if (why === "expired" && typed) note(challenge, "That picture expired before you sent it. Here is a new one: type its characters.");
        else if (why === "asked") note(challenge, "Here is a new picture.");
        arm(challenge);
      })
      .catch(function () { /* the picture stays; the server says if it expired */ });
  }

  // Renew the challenge a little before it expires, however long the page stays open.
  function arm(challenge) {
    var seconds = parseInt(challenge.getAttribute("data-captcha-expires-in"), 10);
    if (!seconds) return;
    if (challenge._renewTimer) clearTimeout(challenge._renewTimer);
    challenge._renewTimer = setTimeout(function () { renew(challenge, "expired"); }, Math.max(5, seconds - RENEW_MARGIN) * 1000);
  }

  function armAll(root) {
    (root || document).querySelectorAll("[data-captcha-expires-in]").forEach(arm);
  }

  document.addEventListener("click", function (event) {
    var refresh = event.target.closest("[data-captcha-refresh]");
    if (refresh) {
      event.preventDefault();
      renew(refresh.closest(".captcha-challenge"), "asked");
      return;
    }
    var audio = event.target.closest("[data-captcha-audio]");
    if (audio && window.Audio) {
      // Played in the page rather than downloaded.
      event.preventDefault();
      new window.Audio(audio.getAttribute("href")).play().catch(function () { window.location.assign(audio.getAttribute("href")); });
    }
  });

  // On the sale page: the form is posted from the page and answered in place.
  function inline(box) {
    return box && box.hasAttribute("data-captcha-fragment-url");
  }

  function show(box, html) {
    var holder = box.querySelector("[data-captcha-holder]");
    if (!holder) {
      holder = document.createElement("div");
      holder.setAttribute("data-captcha-holder", "");
      box.appendChild(holder);
    }
    holder.innerHTML = html;
    // The inline form replaces the link to the full CAPTCHA page.
    var fallback = box.querySelector("[data-captcha-fallback]");
    if (fallback) fallback.hidden = true;
    armAll(holder);
    return holder;
  }

  document.addEventListener("submit", function (event) {
    var form = event.target.closest("[data-captcha-form]");
    var box = form && form.closest("[data-captcha-fragment-url]");
    if (!inline(box)) return;
    event.preventDefault();
    var url = form.getAttribute("action") + "?fragment=1";
    fetch(url, { method: "POST", body: new FormData(form), credentials: "same-origin", headers: { Accept: "application/json, text/html" } })
      .then(function (r) {
        var type = r.headers.get("Content-Type") || "";
        if (r.ok && type.indexOf("application/json") === 0) {
          return r.json().then(function (data) { window.location.assign(data.next); });
        }
        if (r.status === 400) {
          return r.text().then(function (html) {
            var holder = show(box, html);
            var answer = holder.querySelector('input[type="text"]');
            if (answer) answer.focus();
          });
        }
        // Anything else (rate limited, logged out): the full page says what to do.
        form.removeAttribute("data-captcha-form");
        form.submit();
      })
      .catch(function () { form.submit(); });
  });

  var box = document.querySelector("[data-captcha-fragment-url]");
  if (box) {
    fetch(box.getAttribute("data-captcha-fragment-url"), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) { if (html) show(box, html); })
      .catch(function () { /* the link to the full page stays */ });
  }
  armAll(document);
})();
