/* Notification settings over the incidents capability's API; the API checks every field
   and its message (which names the field) is shown as is. */
(function () {
  "use strict";
  var R = window.RelayDesk;
  var root = document.getElementById("prefs");
  if (!root) return;
  var subsUrl = root.getAttribute("data-subs");
  var hooksUrl = root.getAttribute("data-hooks");
  var $ = function (id) { return document.getElementById(id); };

  function send(method, url, body) {
    return fetch(url, {
      method: method, credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": R.csrf(), Accept: "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body)
    }).then(function (r) {
      if (r.status === 204) return null;
      return r.json().catch(function () { return {}; }).then(function (data) {
        if (!r.ok) throw new Error((data && data.detail) || String(r.status));
        return data;
      });
    });
  }
  function cell(tr, value) { var td = document.createElement("td"); R.text(td, value); tr.appendChild(td); return td; }
  function removeButton(tr, url) {
    var td = document.createElement("td");
    var b = document.createElement("button");
    b.type = "button"; b.className = "danger small";
    R.text(b, root.getAttribute("data-remove"));
    b.addEventListener("click", function () { send("DELETE", url).then(load).catch(function () {}); });
    td.appendChild(b); tr.appendChild(td);
  }
  function showError(el, err) { el.hidden = !err; R.text(el, err ? err.message : ""); }
  var hooksById = {};

  function load() {
    return Promise.all([R.getJSON(hooksUrl), R.getJSON(subsUrl)]).then(function (res) {
      var hooks = R.items(res[0]), subs = R.items(res[1]);
      $("prefs-unavailable").hidden = true;
      $("subs-section").hidden = false;
      $("hooks-section").hidden = false;
      var hbody = $("hooks").querySelector("tbody"), sel = $("sub-hook");
      hbody.innerHTML = ""; sel.innerHTML = ""; hooksById = {};
      hooks.forEach(function (h) {
        hooksById[h.id] = h.url;
        var tr = document.createElement("tr");
        cell(tr, h.url);
        cell(tr, h.enabled ? "✓" : root.getAttribute("data-disabled"));
        removeButton(tr, hooksUrl + "/" + h.id);
        hbody.appendChild(tr);
        var opt = document.createElement("option"); opt.value = h.id; R.text(opt, h.url); sel.appendChild(opt);
      });
      var sbody = $("subs").querySelector("tbody");
      sbody.innerHTML = "";
      subs.forEach(function (s) {
        var tr = document.createElement("tr");
        tr.setAttribute("data-id", s.id);
        cell(tr, s.channel);
        cell(tr, s.channel === "webhook" ? (hooksById[s.webhook_id] || "#" + s.webhook_id) : s.email);
        cell(tr, s.services.length ? s.services.join(", ") : root.getAttribute("data-all"));
        cell(tr, s.regions.length ? s.regions.join(", ") : root.getAttribute("data-all"));
        cell(tr, s.language || "—");
        removeButton(tr, subsUrl + "/" + s.id);
        sbody.appendChild(tr);
      });
    }).catch(function () { $("prefs-unavailable").hidden = false; });
  }

  $("sub-channel").addEventListener("change", function () {
    var hook = this.value === "webhook";
    $("sub-hook-field").hidden = !hook;
    $("sub-email-field").hidden = hook;
  });
  function chosen(select) {
    return Array.prototype.filter.call(select.options, function (o) { return o.selected; }).map(function (o) { return o.value; });
  }
  $("sub-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var channel = $("sub-channel").value;
    var body = { channel: channel, services: chosen($("sub-services")), regions: chosen($("sub-regions")), language: $("sub-language").value };
    if (channel === "email") body.email = $("sub-email").value.trim();
    else body.webhook_id = Number($("sub-hook").value) || null;
    send("POST", subsUrl, body).then(function () {
      showError($("sub-error"), null);
      $("sub-email").value = "";
      return load();
    }).catch(function (err) { showError($("sub-error"), err); });
  });
  $("hook-form").addEventListener("submit", function (e) {
    e.preventDefault();
    send("POST", hooksUrl, { url: $("hook-url").value.trim() }).then(function (h) {
      showError($("hook-error"), null);
      $("hook-url").value = "";
      var box = $("hook-secret");
      R.text(box.querySelector("code"), h.secret || "");
      box.hidden = !h.secret;
      return load();
    }).catch(function (err) { showError($("hook-error"), err); });
  });
  load();
})();
