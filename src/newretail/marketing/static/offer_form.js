// Kind-specific fields, channel and validity choices, and the live preview: the form is
// posted to the server as it changes and priced there by the one pricing path.
(function () {
  const form = document.getElementById("offer-form");
  const out = document.getElementById("preview-result");
  const alertBox = document.getElementById("form-errors");
  const kindClasses = JSON.parse(form.dataset.kindClasses);
  const fixFirst = form.dataset.fixFirst;
  const completeFirst = form.dataset.completeFirst;
  const show = (selector, visible) => form.querySelectorAll(selector).forEach((el) => { el.hidden = !visible(el); });
  function arrange() {
    const kind = form.elements.kind.value;
    show("[data-kind]", (el) => el.dataset.kind === kind);
    const cls = form.elements.combination_class, allowed = kindClasses[kind] || [];
    for (const option of cls.options) option.disabled = !allowed.includes(option.value);
    if (!allowed.includes(cls.value)) cls.value = allowed[0];
    show("[data-reach]", (el) => el.dataset.reach === form.elements.reach.value);
    show("[data-validity]", (el) => el.dataset.validity === form.elements.validity_mode.value);
  }
  function clearErrors() {
    form.querySelectorAll(".is-invalid").forEach((el) => el.classList.remove("is-invalid"));
    form.querySelectorAll("[data-error]").forEach((el) => { el.textContent = ""; el.classList.remove("d-block"); });
    alertBox.classList.add("d-none");
  }
  // A refusal shows only under a field the user has touched (a fresh form shows none); once
  // the form was saved (the server's page came back with refusals) or when an offer is
  // edited, under every field. Refusals of no field show once the offer itself was touched.
  const touched = new Set();
  let everything = form.dataset.everyRefusal === "true";
  function touch(name) {
    if (!name) return;
    touched.add(name);
    if (name.startsWith("basket_sku_") || name.startsWith("basket_qty_")) touched.add("basket");
  }
  function offerTouched() { return [...touched].some((name) => !name.startsWith("basket")); }
  function visible(name) {
    if (everything || touched.has(name)) return true;
    return !document.getElementById("f-" + name) && !name.startsWith("basket") && offerTouched();
  }
  function showErrors(errors) {
    for (const [name, message] of Object.entries(errors)) {
      if (!visible(name)) continue;
      const box = form.querySelector(`[data-error="${name}"]`) || form.querySelector('[data-error="_form"]');
      box.textContent = message;
      box.classList.add("d-block");
      const input = document.getElementById("f-" + name);
      if (input) input.classList.add("is-invalid");
      if (!name.startsWith("basket")) alertBox.classList.remove("d-none");
    }
  }
  let timer = null, sent = 0;
  async function refresh() {
    const mine = ++sent;
    const response = await fetch("/console/marketing/offers/preview", {method: "POST", body: new FormData(form)});
    const data = await response.json();
    if (mine !== sent) return;  // a later edit's answer is on its way
    clearErrors();
    if (response.ok) {
      out.innerHTML = data.html;
      out.dataset.total = data.total;
    } else {
      showErrors(data.errors);
      const offerShown = Object.keys(data.errors).some((name) => !name.startsWith("basket") && visible(name));
      out.innerHTML = "";
      const note = document.createElement("p");
      note.className = "text-muted small mb-0";
      note.textContent = offerShown ? fixFirst : data.errors.basket || completeFirst;
      out.appendChild(note);
      delete out.dataset.total;
    }
  }
  function later() { clearTimeout(timer); timer = setTimeout(refresh, 250); }
  form.addEventListener("input", (event) => { if (!event.target.dataset.filters) { touch(event.target.name); later(); } });
  form.addEventListener("change", (event) => { if (!event.target.dataset.filters) { touch(event.target.name); arrange(); later(); } });
  form.querySelectorAll("[data-filters]").forEach((box) => box.addEventListener("input", () => {
    const words = box.value.trim().toLowerCase();
    for (const option of document.getElementById(box.dataset.filters).options) {
      option.hidden = words !== "" && !option.text.toLowerCase().includes(words) && !option.selected;
    }
  }));
  arrange();
  if (form.dataset.previewNow === "true") refresh();
})();
