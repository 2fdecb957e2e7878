/* The demo mail list stays current: every few seconds it asks for the newest rows and swaps
   them in (only on the first page, and only while the tab is visible). */
(function () {
  "use strict";
  var table = document.getElementById("demo-mail");
  var url = table && table.getAttribute("data-rows");
  if (!url) return;
  var every = 5000;
  function refresh() {
    if (document.hidden) return;
    fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.text(); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString("<table>" + html + "</table>", "text/html");
        var body = doc.querySelector("tbody");
        var current = table.querySelector("tbody");
        if (body && current && body.innerHTML !== current.innerHTML) {
          current.replaceWith(document.importNode(body, true));
        }
        var summary = document.getElementById("demo-mail-summary");
        if (body && summary) summary.textContent = body.getAttribute("data-summary") || "";
      })
      .catch(function () { /* the next round tries again */ });
  }
  window.setInterval(refresh, every);
})();
