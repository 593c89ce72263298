// Live inbox: new events arrive over Server-Sent Events and are added to the
// top of the table. Text is set with textContent, never parsed as HTML.
// Search results are not live: a new event's text is not here to match.
(function () {
  var table = document.getElementById("events");
  if (!table || !window.EventSource || table.dataset.q) return;
  var source = table.dataset.source, type = table.dataset.type, verdict = table.dataset.verdict;
  var body = table.querySelector("tbody");
  var es = new EventSource("/ui/inbox/stream?source=" + encodeURIComponent(source));
  es.addEventListener("received", function (msg) {
    var e = JSON.parse(msg.data);
    if ((type && e.eventType !== type) || (verdict && e.verdict !== verdict)) return;
    var empty = document.getElementById("no-events");
    if (empty) empty.remove();
    var tr = document.createElement("tr");
    tr.className = "new";
    var cells = [e.receivedAt, e.eventType || "—", null, e.size + " B", e.remote || ""];
    cells.forEach(function (text, i) {
      var td = document.createElement("td");
      if (i === 0) {
        var a = document.createElement("a");
        a.href = "/ui/inbox/" + encodeURIComponent(e.source) + "/" + encodeURIComponent(e.id);
        a.textContent = text;
        td.appendChild(a);
      } else if (i === 2) {
        var b = document.createElement("span");
        b.className = "badge " + e.verdict;
        b.textContent = e.verdict;
        td.appendChild(b);
      } else {
        td.textContent = text;
      }
      tr.appendChild(td);
    });
    body.insertBefore(tr, body.firstChild);
  });
})();
