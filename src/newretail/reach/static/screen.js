// The counter screen: the browser's EventSource reconnects by itself and sends Last-Event-ID,
// so offers decided while it was away arrive first; an id seen already is not listed twice.
(function () {
  const body = document.querySelector("#screen-offers tbody"), state = document.getElementById("screen-state");
  const table = document.getElementById("screen-offers");
  const anonymous = table.dataset.anonymous, seen = new Set();
  const feed = new EventSource(table.dataset.feed);
  feed.onopen = function () { state.textContent = state.dataset.live; };
  feed.onerror = function () { state.textContent = state.dataset.lost; };
  feed.addEventListener("offer", function (message) {
    if (seen.has(message.lastEventId)) return;
    seen.add(message.lastEventId);
    const offer = JSON.parse(message.data), row = document.createElement("tr");
    row.dataset.decision = message.lastEventId;
    const until = new Date(offer.expires_at).toLocaleString(document.documentElement.lang);
    for (const text of [offer.member || anonymous, offer.tier || "—", offer.offer_name + " (" + offer.offer_code + ")", offer.campaign + " · " + offer.stage, until]) {
      const cell = document.createElement("td"); cell.textContent = text; row.appendChild(cell);
    }
    document.getElementById("screen-empty")?.remove();
    body.prepend(row);
  });
})();
