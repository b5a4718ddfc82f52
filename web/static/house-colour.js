// An organisation's house colour: the page names it in data-house-colour (the CSP allows no inline styles), and
// this sets it as the --house custom property that site.css uses.
document.querySelectorAll("[data-house-colour]").forEach((element) => {
  const colour = element.getAttribute("data-house-colour");
  if (/^#[0-9a-f]{6}$/.test(colour)) element.style.setProperty("--house", colour);
});
