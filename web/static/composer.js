// Progressive enhancement: a live character counter in the composer. Without JavaScript the server checks length.
document.addEventListener("DOMContentLoaded", () => {
  for (const form of document.querySelectorAll("form.composer")) {
    const max = Number(form.dataset.maxLength || "500");
    const text = form.querySelector("textarea[name=text]");
    const spoiler = form.querySelector("input[name=spoiler_text]");
    const counter = form.querySelector(".counter");
    if (!text || !counter) continue;
    const template = document.documentElement.lang === "nl" ? "nog {n} tekens" : "{n} characters left";
    const update = () => {
      // Count characters as the server does (code points), not UTF-16 units: an emoji is one character.
      const count = (value) => [...value.trim()].length;
      const left = max - count(text.value) - (spoiler ? count(spoiler.value) : 0);
      counter.textContent = template.replace("{n}", String(left));
      counter.classList.toggle("over", left < 0);
    };
    text.addEventListener("input", update);
    if (spoiler) spoiler.addEventListener("input", update);
    update();
  }

  // With a time chosen, the button says what will happen: the post is scheduled, not published now.
  for (const form of document.querySelectorAll("form.composer")) {
    const when = form.querySelector("input[name=scheduled_at]");
    const button = form.querySelector("button[data-later]");
    if (!when || !button) continue;
    const now = button.textContent;
    const label = () => { button.textContent = when.value ? button.dataset.later : now; };
    when.addEventListener("input", label);
    when.addEventListener("change", label);
    label();
  }


  // The organisation's checks, shown inline while typing (the server checks again on publish; without
  // JavaScript the composer page itself shows the findings after submitting).
  for (const form of document.querySelectorAll("form.composer[action='/compose']")) {
    const box = document.createElement("div");
    box.className = "policy-preview";
    box.setAttribute("aria-live", "polite");
    form.querySelector("textarea[name=text]").closest("p").after(box);
    let timer = null;
    const check = async () => {
      // Files are not sent while typing: a chosen one goes as its name, so the checks know there is an image.
      const data = new URLSearchParams();
      for (const [name, value] of new FormData(form)) {
        if (typeof value === "string") data.append(name, value);
        else if (value.name && value.size) data.append(name, value.name);
      }
      try {
        const answer = await fetch("/compose/preview", {method: "POST", body: data,
                                                         credentials: "same-origin"});
        if (!answer.ok) return;
        const result = await answer.json();
        box.replaceChildren(...result.findings.map((finding) => {
          const line = document.createElement("p");
          line.className = "finding finding-" + finding.action;
          line.textContent = finding.message;
          return line;
        }));
      } catch (error) { /* offline or refused: the server checks on publish anyway */ }
    };
    const later = () => { clearTimeout(timer); timer = setTimeout(check, 400); };
    form.addEventListener("input", later);
    form.addEventListener("change", later);  // a file chosen or taken off, an image's "remove" box
  }
});
