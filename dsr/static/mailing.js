// Keep a policy mailing's counts and bar current without reloading; the page reads the same
// without this script (the Refresh link).
(function () {
  var box = document.getElementById("mailing");
  if (!box || !window.fetch) return;
  var parts = ["sent", "waiting", "failed", "bounced"];
  function show(p) {
    var total = p.listed || 1;
    document.querySelectorAll("#mailing [data-count]").forEach(function (cell) {
      cell.textContent = p[cell.dataset.count];
    });
    parts.forEach(function (key) {
      box.querySelector('[data-part="' + key + '"]')
        .setAttribute("width", (100 * p[key] / total) + "%");
    });
    var state = document.getElementById("mailing-state");
    if (p.state === "done") state.textContent = "Done: every customer listed was handled.";
    else if (p.state === "listing") state.textContent = "Listing the customers…";
    else state.textContent = box.dataset.sending;
    return p.state !== "done";
  }
  function poll() {
    fetch(box.dataset.url, {credentials: "same-origin", headers: {Accept: "application/json"}})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (p) { if (p && show(p)) setTimeout(poll, 2000); })
      .catch(function () { setTimeout(poll, 10000); });
  }
  setTimeout(poll, 1000);
})();
