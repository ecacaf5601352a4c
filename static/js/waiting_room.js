// The waiting room: polls the shopper's place and takes them to the sale when they are admitted.
(function () {
  var root = document.getElementById("waiting-room");
  var pollUrl = root.dataset.pollUrl;
  var every = Math.max(1, parseInt(root.dataset.pollSeconds, 10) || 3) * 1000;
  var headline = document.getElementById("waiting-headline");
  var figures = document.getElementById("waiting-figures");
  var back = document.getElementById("waiting-back");
  var waitingStates = {pre_queue: true, queued: true};

  function formatEta(seconds) {
    if (seconds === null || seconds === undefined) { return "paused"; }
    if (seconds < 60) { return seconds + " s"; }
    var minutes = Math.floor(seconds / 60);
    return minutes + " min " + (seconds % 60) + " s";
  }

  function show(data) {
    if (data.state === "admitted" && data.next_url) {
      headline.textContent = "It is your turn! Taking you to the sale…";
      window.location.assign(data.next_url);
      return false;
    }
    if (!waitingStates[data.state]) {
      headline.textContent = data.message || "The waiting room is closed.";
      figures.hidden = true;
      back.hidden = false;
      return false;
    }
    figures.hidden = false;
    if (data.state === "queued") {
      headline.textContent = data.paused ? "Admissions are paused for a moment; you keep your place." : "You are in the queue.";
      document.getElementById("waiting-position").textContent = data.position;
    }
    document.getElementById("waiting-count").textContent = data.waiting;
    document.getElementById("waiting-eta-label").textContent = data.state === "pre_queue" ? "Sale opens in" : "Estimated wait";
    document.getElementById("waiting-eta").textContent = formatEta(data.eta_seconds);
    return true;
  }

  function poll() {
    fetch(pollUrl, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) { return response.json(); })
      .then(function (data) { if (show(data)) { window.setTimeout(poll, every); } })
      .catch(function () { window.setTimeout(poll, every * 2); });
  }

  var initial = JSON.parse(document.getElementById("waiting-initial").textContent);
  if (waitingStates[initial.state]) { window.setTimeout(poll, every); }
})();
