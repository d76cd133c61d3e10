// the live decision stream: the latest decisions read again every 3 s while the page is shown
(() => {
  const table = document.getElementById("decision-list");
  const body = table.querySelector("tbody");
  setInterval(async () => {
    if (document.visibilityState !== "visible") return;
    const answer = await fetch(table.dataset.refresh, {credentials: "same-origin"});
    if (answer.ok) body.innerHTML = await answer.text();
  }, 3000);
})();
