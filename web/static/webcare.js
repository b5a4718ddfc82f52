// The webcare conversation page: who handles it, live (polling /state every 5 s into an aria-live region), a
// warning before sending when a teammate claimed or answered meanwhile, and saved replies filled in at once.
// Everything here also works without this script: the server shows the same warning and fills saved replies.
(function () {
  "use strict";
  var POLL_MS = 5000;

  function start() {
    var page = document.getElementById("webcare-conversation");
    if (!page) { return; }
    var stateUrl = page.getAttribute("data-state-url");
    var since = page.getAttribute("data-seen-event-id") || "0";
    var assignee = document.getElementById("webcare-assignee");
    var status = document.getElementById("webcare-status");
    var form = document.getElementById("webcare-answer-form");
    var warning = document.getElementById("teammate-warning");
    var warningText = document.getElementById("teammate-warning-text");
    var sendAnyway = document.getElementById("send_anyway");
    var othersActed = false;
    var lastWarning = "";

    function poll() {
      fetch(stateUrl + "?since=" + encodeURIComponent(since), {credentials: "same-origin",
                                                               headers: {"Accept": "application/json"}})
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (state) {
          if (!state) { return; }
          if (assignee && assignee.textContent !== state.assignee_text) { assignee.textContent = state.assignee_text; }
          if (status && status.textContent !== state.status_name) { status.textContent = state.status_name; }
          othersActed = state.others_acted;
          page.setAttribute("data-others-acted", othersActed ? "true" : "false");
          lastWarning = state.warning || "";
        })
        .catch(function () { /* the next poll tries again */ });
    }

    if (stateUrl) { window.setInterval(poll, POLL_MS); }

    if (form && warning && sendAnyway) {
      form.addEventListener("submit", function (event) {
        var submitter = event.submitter;
        if (submitter && submitter.name === "use_reply") { return; }
        if (othersActed && !sendAnyway.checked) {
          event.preventDefault();
          if (lastWarning && warningText) { warningText.textContent = lastWarning; }
          warning.hidden = false;
          sendAnyway.focus();
        }
      });
    }

    var use = document.getElementById("use_reply");
    var chooser = document.getElementById("saved_reply");
    var text = document.getElementById("answer-text");
    if (use && chooser && text) {
      use.addEventListener("click", function (event) {
        var option = chooser.options[chooser.selectedIndex];
        if (!option) { return; }
        event.preventDefault();
        var filled = option.getAttribute("data-text") || "";
        text.value = text.value.trim() ? text.value.replace(/\s+$/, "") + "\n\n" + filled : filled;
        text.focus();
      });
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
