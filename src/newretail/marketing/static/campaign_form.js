// Stage rows (add, remove, the Double 11 plan) and the timeline of the stages as typed.
(function () {
  const form = document.getElementById("campaign-form");
  const rows = [...form.querySelectorAll(".stage-row")];
  const plan = JSON.parse(form.dataset.plan);
  const daysText = form.dataset.daysText;
  const colours = ["primary", "success", "info", "warning"];
  const field = (row, name) => form.elements[`stage_${row.dataset.stage}_${name}`];
  const day = (value) => (/^\d{4}-\d{2}-\d{2}$/.test(value) ? Date.parse(value + "T00:00:00Z") : NaN);
  const DAY = 86400000;
  function arrange() {
    for (const row of rows) {
      const reach = field(row, "reach").value;
      row.querySelectorAll("[data-reach]").forEach((el) => { el.hidden = el.dataset.reach !== reach; });
    }
  }
  function draw() {
    const bar = document.getElementById("plan-timeline"), legend = document.getElementById("plan-legend");
    bar.replaceChildren();
    legend.replaceChildren();
    const stages = rows.filter((row) => !row.hidden).map((row) => ({
      name: field(row, "name").value || "?",
      first: day(field(row, "first_day").value),
      last: day(field(row, "last_day").value),
      first_text: field(row, "first_day").value,
      last_text: field(row, "last_day").value,
    })).filter((s) => !isNaN(s.first) && !isNaN(s.last) && s.last >= s.first);
    const start = Math.min(...stages.map((s) => s.first)), end = Math.max(...stages.map((s) => s.last));
    document.getElementById("plan-start").textContent = stages.length ? stages.find((s) => s.first === start).first_text : "";
    document.getElementById("plan-end").textContent = stages.length ? stages.find((s) => s.last === end).last_text : "";
    document.getElementById("plan-days").textContent = stages.length ? daysText.replace("{days}", (end - start) / DAY + 1) : "";
    const span = (end - start) / DAY + 1;
    stages.forEach((s, index) => {
      const block = document.createElement("div");
      block.className = `position-absolute h-100 border-end text-truncate small px-1 pt-2 bg-${colours[index % 4]}-subtle plan-stage`;
      block.style.left = `${100 * (s.first - start) / DAY / span}%`;
      block.style.width = `${100 * ((s.last - s.first) / DAY + 1) / span}%`;
      block.textContent = s.name;
      block.title = `${s.name} ${s.first_text} – ${s.last_text}`;
      bar.appendChild(block);
      const item = document.createElement("span");
      item.className = `badge text-bg-${colours[index % 4]} bg-opacity-25 text-dark fw-normal plan-legend`;
      item.textContent = s.first_text === s.last_text ? `${s.name} ${s.first_text}` : `${s.name} ${s.first_text} – ${s.last_text}`;
      legend.appendChild(item);
    });
  }
  document.getElementById("add-stage").addEventListener("click", () => {
    const next = rows.find((row) => row.hidden);
    if (next) { next.hidden = false; field(next, "name").focus(); }
    draw();
  });
  form.querySelectorAll(".remove-stage").forEach((button) => button.addEventListener("click", () => {
    const row = button.closest(".stage-row");
    row.querySelectorAll("input, textarea").forEach((el) => { el.value = ""; });
    row.querySelectorAll("select").forEach((el) => { for (const o of el.options) o.selected = false; el.selectedIndex = el.multiple ? -1 : 0; });
    row.hidden = true;
    draw();
  }));
  document.getElementById("double-11").addEventListener("click", () => {
    plan.forEach((stage, index) => {
      const row = rows[index];
      row.hidden = false;
      for (const [name, value] of Object.entries(stage)) field(row, name).value = value;
      if (!stage.reach) field(row, "reach").value = "everywhere";
    });
    if (!form.elements.name.value) form.elements.name.value = form.dataset.planName;
    arrange();
    draw();
  });
  form.addEventListener("input", draw);
  form.addEventListener("change", () => { arrange(); draw(); });
  arrange();
  draw();
})();
