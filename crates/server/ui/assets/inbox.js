// The inbox: a live list beside the selected event.
// - New events that match the filters arrive over Server-Sent Events and are
//   added to the top of the list (text set with textContent, never as HTML).
// - Clicking a row, or the arrow keys (j/k), selects it; its panel is the
//   server's own rendering (/ui/inbox/{source}/{id}/panel), and while one of
//   its forwards is still on its way it is fetched again every 2 s.
// - Relative times stay fresh; "Copy as curl" copies the command shown.
(function () {
  "use strict";

  function ago(ms) {
    var s = Math.max(0, Math.floor((Date.now() - ms) / 1000));
    if (s < 60) return s + " s ago";
    if (s < 3600) return Math.floor(s / 60) + " min ago";
    if (s < 86400) return Math.floor(s / 3600) + " h ago";
    return Math.floor(s / 86400) + " d ago";
  }

  function copy(text, status) {
    var done = function () { status.textContent = "Copied"; };
    var fallback = function () {
      var area = document.createElement("textarea");
      area.value = text;
      document.body.appendChild(area);
      area.select();
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      area.remove();
      status.textContent = ok ? "Copied" : "Select the command and copy it";
    };
    if (!navigator.clipboard || !window.isSecureContext) return fallback();
    // A browser that neither grants nor refuses the clipboard within a
    // second gets the fallback, so the button always answers.
    var settled = false;
    var once = function (f) { return function () { if (!settled) { settled = true; f(); } }; };
    setTimeout(once(fallback), 1000);
    navigator.clipboard.writeText(text).then(once(done), once(fallback));
  }

  document.addEventListener("click", function (ev) {
    var button = ev.target.closest && ev.target.closest("#copy-curl");
    if (!button) return;
    var pre = document.getElementById("curl");
    copy(pre.textContent, document.getElementById("copy-status"));
  });

  var table = document.getElementById("events");
  if (!table) return;
  var body = table.querySelector("tbody");
  var detail = document.getElementById("detail");
  var refresh = null;

  function cell(tr, cls) {
    var td = document.createElement("td");
    if (cls) td.className = cls;
    tr.appendChild(td);
    return td;
  }

  function span(parent, cls, text) {
    var s = document.createElement("span");
    s.className = cls;
    s.textContent = text;
    parent.appendChild(s);
    return s;
  }

  function row(e) {
    var tr = document.createElement("tr");
    tr.className = "new";
    tr.dataset.id = e.id;
    tr.dataset.source = e.source;
    var t = document.createElement("time");
    t.dateTime = e.receivedAt;
    t.title = e.receivedAt;
    t.dataset.ms = e.receivedMs;
    t.textContent = ago(e.receivedMs);
    cell(tr, "when").appendChild(t);
    var req = cell(tr, "req");
    var a = document.createElement("a");
    a.href = "/ui/inbox/" + encodeURIComponent(e.source) + "/" + encodeURIComponent(e.id);
    span(a, "method", e.method);
    a.appendChild(document.createTextNode(" "));
    span(a, "mono", e.path);
    req.appendChild(a);
    var preview = document.createElement("div");
    preview.className = "preview mono";
    preview.textContent = e.preview;
    req.appendChild(preview);
    cell(tr).textContent = e.eventType || "—";
    span(cell(tr), "badge " + e.verdict, e.verdict);
    cell(tr, "num").textContent = e.size + " B";
    return tr;
  }

  function rows() { return Array.prototype.slice.call(body.querySelectorAll("tr[data-id]")); }

  function load(tr) {
    if (!detail) return;
    clearTimeout(refresh);
    var url = "/ui/inbox/" + encodeURIComponent(tr.dataset.source) + "/" + encodeURIComponent(tr.dataset.id) + "/panel";
    fetch(url, { credentials: "same-origin" }).then(function (r) {
      if (!r.ok) throw new Error("status " + r.status);
      return r.text();
    }).then(function (html) {
      if (!tr.classList.contains("selected")) return;
      detail.innerHTML = html;
      var badges = detail.querySelectorAll("#forwards .badge");
      var moving = Array.prototype.some.call(badges, function (b) {
        return b.textContent !== "success" && b.textContent !== "fail";
      });
      if (moving) refresh = setTimeout(function () { load(tr); }, 2000);
    }).catch(function () {
      detail.textContent = "This event could not be loaded; open it on its own page.";
    });
  }

  function select(tr, focus) {
    rows().forEach(function (r) { r.classList.remove("selected"); });
    tr.classList.add("selected");
    if (focus) tr.scrollIntoView({ block: "nearest" });
    var params = new URLSearchParams(window.location.search);
    params.set("event", tr.dataset.id);
    history.replaceState(null, "", "?" + params.toString());
    load(tr);
  }

  body.addEventListener("click", function (ev) {
    var tr = ev.target.closest("tr[data-id]");
    if (!tr || ev.metaKey || ev.ctrlKey || ev.shiftKey) return;
    ev.preventDefault();
    select(tr, false);
  });

  document.addEventListener("keydown", function (ev) {
    var tag = (ev.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea" || tag === "select" || ev.altKey || ev.metaKey || ev.ctrlKey) return;
    if (ev.key === "/") {
      ev.preventDefault();
      document.getElementById("q").focus();
      return;
    }
    var all = rows();
    if (!all.length) return;
    var at = all.findIndex(function (r) { return r.classList.contains("selected"); });
    if (ev.key === "ArrowDown" || ev.key === "j") {
      ev.preventDefault();
      select(all[Math.min(all.length - 1, at + 1)], true);
    } else if (ev.key === "ArrowUp" || ev.key === "k") {
      ev.preventDefault();
      select(all[Math.max(0, at - 1)], true);
    } else if (ev.key === "Enter" && at >= 0) {
      window.location.href = all[at].querySelector("a").href;
    }
  });

  setInterval(function () {
    body.querySelectorAll("time[data-ms]").forEach(function (t) {
      t.textContent = ago(Number(t.dataset.ms));
    });
  }, 10000);

  if (!window.EventSource) return;
  var d = table.dataset;
  var query = new URLSearchParams({ source: d.source, type: d.type, verdict: d.verdict, q: d.q, after: d.after });
  var es = new EventSource("/ui/inbox/stream?" + query.toString());
  es.addEventListener("received", function (msg) {
    var e = JSON.parse(msg.data);
    if (body.querySelector('tr[data-id="' + CSS.escape(e.id) + '"]')) return;
    var empty = document.getElementById("no-events");
    if (empty) empty.remove();
    var tr = row(e);
    body.insertBefore(tr, body.firstChild);
    if (!body.querySelector("tr.selected")) select(tr, false);
  });
})();
