// The archive page: the progress of running exports, polled from status.json every 3 s while one is unfinished;
// when an export finishes the page reloads to show its download link. Without this script the page has a
// refresh link and shows the same figures.
(function () {
  "use strict";
  var POLL_MS = 3000;
  var table = document.querySelector("table[data-status-url]");
  if (!table) { return; }
  var url = table.getAttribute("data-status-url");

  function unfinished() { return table.querySelector("tr[data-state='pending']") !== null; }

  function show(exp) {
    var row = document.getElementById("export-" + exp.id);
    if (!row) { return false; }
    if (row.getAttribute("data-state") !== exp.state) { return true; }
    var bar = row.querySelector("progress");
    var text = document.getElementById("export-" + exp.id + "-progress");
    if (bar) { bar.value = exp.percent; }
    if (text && text.textContent !== exp.progress_text) { text.textContent = exp.progress_text; }
    return false;
  }

  function poll() {
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (status) {
        if (!status) { return; }
        var changed = status.exports.map(show).some(function (c) { return c; });
        if (changed) { window.location.reload(); return; }
        if (unfinished()) { window.setTimeout(poll, POLL_MS); }
      })
      .catch(function () { window.setTimeout(poll, POLL_MS * 3); });
  }

  if (unfinished()) { window.setTimeout(poll, POLL_MS); }
}());
