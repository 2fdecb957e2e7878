/* Notices inbox: what /api/v1/notices answers (incidents capability), in the viewer's
   language and time zone; the empty-state text stays when the service is absent. */
(function () {
  "use strict";
  var R = window.RelayDesk;
  var table = document.getElementById("notices");
  if (!table) return;
  var lang = table.getAttribute("data-lang") || "en";
  var tz = table.getAttribute("data-tz") || "UTC";
  function when(value) {
    if (!value) return "";
    try {
      return new Date(value).toLocaleString(lang, { timeZone: tz, dateStyle: "medium", timeStyle: "short" });
    } catch (e) {
      return new Date(value).toLocaleString();
    }
  }
  R.getJSON(table.getAttribute("data-url")).then(function (data) {
    var body = table.querySelector("tbody");
    R.items(data).forEach(function (n) {
      var tr = document.createElement("tr");
      var about = n.incident_id ? table.getAttribute("data-incident") + " #" + n.incident_id
        : n.maintenance_id ? table.getAttribute("data-maintenance") + " #" + n.maintenance_id : "";
      [when(n.sent_at || n.created_at), about, n.channel, n.address, n.status].forEach(function (v) {
        var td = document.createElement("td");
        R.text(td, v);
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
    if (body.children.length) {
      table.hidden = false;
      document.getElementById("notices-empty").hidden = true;
    }
  }).catch(function () {});
})();
