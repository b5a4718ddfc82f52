// Progressive enhancement of the image places in the composer, the reply form and the edit form. Without it they are
// plain file inputs with a description field each, and the server does all the work. With it: a preview of the chosen
// file (read as a data: URL, which the Content-Security-Policy allows for images), a button that takes the file off
// again, one empty place at a time, and the text is no longer required once there is an image.
document.addEventListener("DOMContentLoaded", () => {
  for (const box of document.querySelectorAll("details.images")) {
    if (box.dataset.enhanced) continue;  // the script may be included once per form
    box.dataset.enhanced = "yes";
    const form = box.closest("form");
    const text = form ? form.querySelector("textarea[name=text]") : null;
    const slots = [...box.querySelectorAll(".image-slot")];

    const refresh = () => {
      let images = 0;
      let emptyShown = false;
      for (const slot of slots) {
        const input = slot.querySelector("input[type=file]");
        if (!input) {  // an image stored already, kept unless its "remove" box is ticked
          if (!slot.querySelector("input[type=checkbox]").checked) images += 1;
          continue;
        }
        const chosen = input.files.length > 0;
        if (chosen) images += 1;
        slot.hidden = !chosen && emptyShown;
        slot.querySelector(".image-description").hidden = !chosen;
        if (!chosen) emptyShown = true;
      }
      if (text) text.required = images === 0;
    };

    for (const slot of slots) {
      const input = slot.querySelector("input[type=file]");
      if (!input) {
        slot.querySelector("input[type=checkbox]").addEventListener("change", refresh);
        continue;
      }
      const preview = document.createElement("img");
      preview.className = "image-preview";
      preview.alt = "";
      preview.hidden = true;
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "remove-image";
      remove.textContent = slot.dataset.removeLabel || "Remove";
      remove.hidden = true;
      input.closest("p").after(preview, remove);

      input.addEventListener("change", () => {
        const file = input.files[0];
        remove.hidden = !file;
        if (!file) {
          preview.hidden = true;
          preview.removeAttribute("src");
        } else if (file.type.startsWith("image/")) {
          const reader = new FileReader();
          reader.addEventListener("load", () => {
            preview.src = String(reader.result);
            preview.hidden = false;
          });
          reader.readAsDataURL(file);
        }
        refresh();
      });
      remove.addEventListener("click", () => {
        input.value = "";
        slot.querySelector("textarea").value = "";
        input.dispatchEvent(new Event("change", {bubbles: true}));
        input.focus();
      });
    }
    refresh();
  }
});
