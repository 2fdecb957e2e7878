/* New-ticket form: suggest knowledge-base articles while the customer types. Uses
   /api/v1/kb/suggest when the knowledge base is installed; otherwise shows nothing. */
(function () {
  "use strict";
  var panel = document.getElementById("kb-panel");
  var form = document.getElementById("new-ticket");
  if (!panel || !form) return;
  var list = document.getElementById("kb-list");
  var reader = document.getElementById("kb-article");
  var subject = form.querySelector("[name=subject]");
  var description = form.querySelector("[name=description]");
  var lang = panel.getAttribute("data-lang") || "";
  var session = "portal-" + Math.random().toString(36).slice(2);
  var timer = null, last = "", seq = 0;
  var R = window.RelayDesk;

  function event(article, kind, query) {
    fetch(panel.getAttribute("data-events"), {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": R.csrf() },
      body: JSON.stringify({ article: article, kind: kind, session: session, lang: lang, query: query.slice(0, 200) })
    }).catch(function () {});
  }

  function open(hit, query) {
    R.getJSON(hit.url).then(function (art) {
      reader.hidden = false;
      reader.innerHTML = "";
      var h = document.createElement("h3");
      R.text(h, art.title);
      reader.appendChild(h);
      var body = document.createElement("div");
      body.innerHTML = art.html || "";  // sanitised by the knowledge base on save
      reader.appendChild(body);
      var solved = document.createElement("button");
      solved.type = "button";
      solved.id = "kb-solved";
      R.text(solved, panel.getAttribute("data-solved-label"));
      solved.addEventListener("click", function () {
        event(hit.id, "solved", query);
        R.text(reader, panel.getAttribute("data-thanks"));
        form.hidden = true;
      });
      reader.appendChild(solved);
      event(hit.id, "opened", query);
    }).catch(function () {});
  }

  function show(items, query) {
    list.innerHTML = "";
    items.forEach(function (hit) {
      var li = document.createElement("li");
      var a = document.createElement("a");
      a.href = "#";
      R.text(a, hit.title);
      a.addEventListener("click", function (e) { e.preventDefault(); open(hit, query); });
      li.appendChild(a);
      list.appendChild(li);
      event(hit.id, "shown", query);
    });
    panel.hidden = items.length === 0;
  }

  function ask() {
    var query = (subject.value + " " + description.value).trim().slice(0, 200);
    if (query === last) return;
    last = query;
    if (query.length < 3) { show([], query); return; }
    var mine = ++seq;
    var url = panel.getAttribute("data-suggest") + "?q=" + encodeURIComponent(query);
    R.getJSON(url).then(function (data) {
      if (mine === seq) show(R.items(data), query);
    }).catch(function () { if (mine === seq) show([], query); });
  }

  [subject, description].forEach(function (el) {
    el.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(ask, 300); });
  });
  if (subject.value) ask();
})();
