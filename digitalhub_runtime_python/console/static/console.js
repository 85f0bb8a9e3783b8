// The console's own script: shows whether a page follows the store live, keeps the log view at its end while
// it grows (unless the reader scrolled up), and trims the oldest output of a very long log (download it whole).
(function () {
  "use strict";
  var MAX_LOG_NODES = 20000;

  function setLive(scope, live, text) {
    scope.setAttribute("data-live", live ? "true" : "false");
    var label = scope.querySelector(".live-text");
    if (label) { label.textContent = text; }
  }

  // The stream's first event, "live", comes once the server follows the store for this page.
  document.body.addEventListener("htmx:sseOpen", function (event) {
    var scope = event.target;
    event.detail.source.addEventListener("live", function () {
      setLive(scope, true, "Live: changes appear as they happen");
    });
  });
  document.body.addEventListener("htmx:sseClose", function (event) {
    setLive(event.target, false, "Live updates stopped: reload the page");
  });
  // htmx reports a dropped stream as an error; the browser reconnects by itself, so say so rather than fail.
  document.body.addEventListener("htmx:sseError", function (event) {
    event.preventDefault();
    setLive(event.target, false, "Reconnecting to live updates…");
  });

  var follow = true;
  document.body.addEventListener("htmx:sseBeforeMessage", function (event) {
    var log = event.target;
    if (log.id === "log") {
      follow = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
    }
  });
  document.body.addEventListener("htmx:sseMessage", function (event) {
    var log = event.target;
    if (log.id !== "log") { return; }
    if (log.childNodes.length > MAX_LOG_NODES) {
      while (log.childNodes.length > MAX_LOG_NODES / 2) { log.removeChild(log.firstChild); }
      var note = document.createElement("span");
      note.className = "trimmed";
      note.textContent = "[earlier output trimmed: download the whole log]\n";
      log.insertBefore(note, log.firstChild);
    }
    if (follow) { log.scrollTop = log.scrollHeight; }
  });
})();
