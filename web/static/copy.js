// A copy button next to a handle (first-party script; the page works without it: the handle stays plain text to
// select). The button is hidden in the HTML and shown only when the browser can copy.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  if (!navigator.clipboard) return;
  for (const button of document.querySelectorAll("button[data-copy]")) {
    const status = document.getElementById(button.dataset.status || "");
    button.hidden = false;
    button.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(button.dataset.copy);
        if (status) status.textContent = button.dataset.copied || "";
      } catch (error) {
        if (status) status.textContent = button.dataset.failed || "";
      }
    });
  }
});
