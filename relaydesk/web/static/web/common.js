/* Shared by every page: the language switch submits on change; incident banners appear when
   the monitoring capability answers, and nothing shows when it does not. */
(function () {
  "use strict";
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
    var btn = select.form.querySelector("button");
    if (btn) btn.classList.add("sr");
  });
  window.RelayDesk = {
    csrf: function () {
      var input = document.querySelector("input[name=csrfmiddlewaretoken]");
      return input ? input.value : "";
    },
    getJSON: function (url) {
      return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.json(); });
    },
    items: function (data) {
      if (Array.isArray(data)) return data;
      if (data && Array.isArray(data.items)) return data.items;
      return [];
    },
    text: function (el, value) { el.textContent = value == null ? "" : String(value); return el; }
  };
  var banners = document.getElementById("banners");
  var url = banners && banners.getAttribute("data-banners");
  if (url) {
    window.RelayDesk.getJSON(url).then(function (data) {
      window.RelayDesk.items(data).slice(0, 3).forEach(function (inc) {
        var div = document.createElement("div");
        div.className = "banner";
        div.setAttribute("role", "status");
        var title = document.createElement(inc.url ? "a" : "strong");
        if (inc.url) title.href = inc.url;
        window.RelayDesk.text(title, inc.title || "");
        if (!title.textContent) return;
        div.appendChild(title);
        var rest = [inc.status, inc.latest_update].filter(Boolean).join(" — ");
        if (rest) div.appendChild(document.createTextNode(" · " + rest));
        banners.appendChild(div);
      });
    }).catch(function () { /* no incident service: no banner */ });
  }
})();
