/* Agent console: live queue (polls a change token, reloads the rows when it moves), keyboard
   shortcuts, and the slots other capabilities fill (routing reasons, templates, incidents). */
(function () {
  "use strict";
  var R = window.RelayDesk;
  var help = document.getElementById("help");

  function typing(e) {
    var t = e.target;
    return t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));
  }
  function toggleHelp() {
    if (!help) return;
    if (help.open) help.close(); else help.showModal();
  }

  // -- queue ------------------------------------------------------------------------------
  var table = document.getElementById("queue");
  if (table) {
    var selectedId = null;
    var rowsUrl = table.getAttribute("data-rows");
    var changesUrl = table.getAttribute("data-changes");
    var live = document.getElementById("live-state");
    var token = null, lastLoad = Date.now();

    var rows = function () { return Array.prototype.slice.call(table.querySelectorAll("tbody tr[data-id]")); };
    var select = function (tr) {
      rows().forEach(function (r) { r.classList.remove("selected"); r.removeAttribute("aria-selected"); });
      if (!tr) { selectedId = null; return; }
      tr.classList.add("selected");
      tr.setAttribute("aria-selected", "true");
      selectedId = tr.getAttribute("data-id");
      var link = tr.querySelector("a");
      if (link) link.focus({ preventScroll: true });
      tr.scrollIntoView({ block: "nearest" });
    };
    var current = function () {
      return rows().filter(function (r) { return r.getAttribute("data-id") === selectedId; })[0] || null;
    };
    var move = function (step) {
      var all = rows();
      if (!all.length) return;
      var i = all.indexOf(current());
      var next = i < 0 ? 0 : Math.min(all.length - 1, Math.max(0, i + step));
      select(all[next]);
    };
    var open = function (hash) {
      var tr = current();
      if (tr) window.location.href = tr.getAttribute("data-href") + (hash || "");
    };

    table.addEventListener("click", function (e) {
      var tr = e.target.closest("tr[data-id]");
      if (tr && e.target.tagName !== "A") { select(tr); open(); }
    });
    table.addEventListener("focusin", function (e) {
      var tr = e.target.closest("tr[data-id]");
      if (tr && tr.getAttribute("data-id") !== selectedId) select(tr);
    });

    document.addEventListener("keydown", function (e) {
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      if (help && help.open) { if (e.key === "?") { e.preventDefault(); toggleHelp(); } return; }
      if (typing(e)) return;
      if (e.key === "j") { e.preventDefault(); move(1); }
      else if (e.key === "k") { e.preventDefault(); move(-1); }
      else if (e.key === "o" || (e.key === "Enter" && e.target.tagName !== "A" && e.target.tagName !== "BUTTON")) { if (current()) { e.preventDefault(); open(); } }
      else if (e.key === "r") { if (current()) { e.preventDefault(); open("#reply"); } }
      else if (e.key === "/") { e.preventDefault(); var f = document.querySelector("#queue-filters input, #queue-filters select"); if (f) f.focus(); }
      else if (e.key === "?") { e.preventDefault(); toggleHelp(); }
    });

    var reload = function () {
      lastLoad = Date.now();
      return fetch(rowsUrl, { credentials: "same-origin" }).then(function (r) {
        if (!r.ok) throw new Error(String(r.status));
        return r.text();
      }).then(function (html) {
        var before = {};
        rows().forEach(function (r) { before[r.getAttribute("data-id")] = true; });
        var tmp = document.createElement("table");
        tmp.innerHTML = html;
        var body = tmp.querySelector("tbody");
        if (!body) return;
        table.replaceChild(body, table.querySelector("tbody"));
        rows().forEach(function (r) { if (!before[r.getAttribute("data-id")]) r.classList.add("fresh"); });
        var again = current();
        if (again) { again.classList.add("selected"); again.setAttribute("aria-selected", "true"); }
        if (live) live.setAttribute("data-state", "live");
      });
    };

    var poll = function () {
      R.getJSON(changesUrl).then(function (data) {
        var moved = token !== null && data.token !== token;
        token = data.token;
        // Remaining times tick even when nothing changes: refresh the rows twice a minute.
        if (moved || Date.now() - lastLoad > 30000) return reload();
        return null;
      }).then(function () {
        if (live && live.getAttribute("data-state") === "offline") live.textContent = live.getAttribute("data-updated");
        if (live) live.setAttribute("data-state", "live");
      }).catch(function () {
        if (live) { live.textContent = live.getAttribute("data-offline"); live.setAttribute("data-state", "offline"); }
      }).then(function () { setTimeout(poll, 2000); });
    };
    var filters = document.getElementById("queue-filters");
    if (filters) {
      filters.addEventListener("change", function () { filters.submit(); });
    }
    setTimeout(poll, 0);
  }

  // -- ticket -----------------------------------------------------------------------------
  var ticket = document.getElementById("ticket");
  if (ticket) {
    var reply = document.getElementById("reply");
    var body = reply ? reply.querySelector("textarea[name=body]") : null;
    var kind = function (value) {
      var radio = reply && reply.querySelector("input[name=kind][value=" + value + "]");
      if (radio) radio.checked = true;
    };
    var focusReply = function (value) {
      if (!body) return;
      kind(value);
      body.focus();
      body.scrollIntoView({ block: "center" });
    };
    if (window.location.hash === "#reply") {
      // After the browser's own scroll to the fragment, which would otherwise take the focus.
      window.addEventListener("load", function () { setTimeout(function () { focusReply("public"); }, 0); });
    }
    if (body) {
      body.addEventListener("keydown", function (e) {
        if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); reply.requestSubmit(); }
      });
    }
    document.addEventListener("keydown", function (e) {
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      if (help && help.open) { if (e.key === "?") { e.preventDefault(); toggleHelp(); } return; }
      if (typing(e)) { if (e.key === "Escape") e.target.blur(); return; }
      if (e.key === "r") { e.preventDefault(); focusReply("public"); }
      else if (e.key === "n") { e.preventDefault(); focusReply("internal"); }
      else if (e.key === "s") { e.preventDefault(); var st = document.querySelector("#update select[name=status]"); if (st) st.focus(); }
      else if (e.key === "e") { var er = document.querySelector("#escalate input[name=esc-reason]"); if (er) { e.preventDefault(); er.focus(); er.scrollIntoView({ block: "center" }); } }
      else if (e.key === "u") { e.preventDefault(); window.location.href = document.getElementById("back").href; }
      else if (e.key === "?") { e.preventDefault(); toggleHelp(); }
    });

    // Routing reasons (routing capability), when it answers.
    var routing = document.getElementById("routing");
    if (routing) {
      R.getJSON(routing.getAttribute("data-url")).then(function (data) {
        var ul = routing.querySelector("ul");
        R.items(data).forEach(function (a) {
          var li = document.createElement("li");
          var reasons = Array.isArray(a.reasons) ? a.reasons.join("; ") : "";
          var summary = a.summary || a.rule || "";
          // Routing's summary often is its reasons joined; say it once.
          R.text(li, reasons && reasons !== summary ? [summary, reasons].filter(Boolean).join(" — ") : summary);
          ul.appendChild(li);
        });
        routing.hidden = ul.children.length === 0;
      }).catch(function () {});
    }
    // Incidents affecting this customer (monitoring capability), when it answers.
    var incidents = document.getElementById("incidents");
    if (incidents) {
      R.getJSON(incidents.getAttribute("data-url")).then(function (data) {
        var ul = incidents.querySelector("ul");
        R.items(data).forEach(function (inc) {
          var li = document.createElement("li");
          R.text(li, "#" + (inc.incident_id || inc.id || "") + " " + (inc.title || inc.reason || inc.how || ""));
          ul.appendChild(li);
        });
        incidents.hidden = ul.children.length === 0;
      }).catch(function () {});
    }
    // Solution templates (knowledge-base capability), when it answers.
    var macros = document.getElementById("macros");
    if (macros) {
      var sel = document.getElementById("macro-select");
      R.getJSON(macros.getAttribute("data-url")).then(function (data) {
        R.items(data).forEach(function (m) {
          var opt = document.createElement("option");
          opt.value = m.id;
          R.text(opt, (m.suggested ? "★ " : "") + m.name);
          sel.appendChild(opt);
        });
        macros.hidden = sel.options.length === 0;
      }).catch(function () {});
      document.getElementById("macro-apply").addEventListener("click", function () {
        var url = macros.getAttribute("data-apply").replace("{id}", sel.value);
        var internal = reply.querySelector("input[name=kind][value=internal]");
        // A refused template (e.g. a placeholder without a value for this ticket) says why.
        var error = document.getElementById("macro-error");
        if (!error) {
          error = document.createElement("p");
          error.id = "macro-error";
          error.className = "error";
          error.setAttribute("role", "alert");
          macros.appendChild(error);
        }
        error.hidden = true;
        var show = function (message) { R.text(error, message); error.hidden = false; };
        fetch(url, {
          method: "POST", credentials: "same-origin",
          headers: { "Content-Type": "application/json", "X-CSRFToken": R.csrf(), Accept: "application/json" },
          body: JSON.stringify({ ticket: Number(macros.getAttribute("data-ticket")), public: !(internal && internal.checked) })
        }).then(function (r) {
          if (r.ok) { window.location.reload(); return; }
          return r.json().then(function (body) {
            show((body && typeof body.detail === "string") ? body.detail : (r.status + " " + r.statusText));
          }, function () { show(r.status + " " + r.statusText); });
        }).catch(function () { show("network error: the template was not applied"); });
      });
    }
  }
})();
