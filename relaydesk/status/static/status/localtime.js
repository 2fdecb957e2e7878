/* Status page: show each <time datetime> in the browser's time zone (the server wrote UTC).
   Skipped when the page was asked for a zone with ?tz= (the server already used it). */
(function () {
  "use strict";
  var root = document.documentElement;
  if (root.getAttribute("data-tz")) return;
  var zone;
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return; }
  if (!zone || zone === "UTC" || zone === "Etc/UTC") return;
  var fmt;
  try {
    fmt = new Intl.DateTimeFormat(root.lang || "en", {
      year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
      hourCycle: "h23", timeZone: zone, timeZoneName: "short"
    });
  } catch (e) { return; }
  var times = document.querySelectorAll("time[datetime][data-local]");
  for (var i = 0; i < times.length; i++) {
    var t = times[i];
    var d = new Date(t.getAttribute("datetime"));
    if (isNaN(d.getTime())) continue;
    t.setAttribute("title", t.textContent);
    t.textContent = fmt.format(d);
    t.setAttribute("data-zone", zone);
  }
  var hint = document.getElementById("tz-hint");
  if (hint && times.length) hint.hidden = true;
})();
