// Live estimate: re-count the edited JSON through the estimate service as you type.
(function () {
  const area = document.getElementById("rules-json"), out = document.getElementById("estimate-size");
  const token = document.querySelector("#builder-json input[name=csrf_token]").value;
  let timer = null;
  area.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(async function () {
      const body = new URLSearchParams({csrf_token: token, rules: area.value});
      const response = await fetch("/console/audiences/estimate", {method: "POST", body: body});
      const data = await response.json();
      out.textContent = response.ok ? (data.size === null ? out.parentElement.dataset.belowFloor : data.size) : data.message;
    }, 400);
  });
})();
