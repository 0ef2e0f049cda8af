// Live preview (curator view of rkg serve): reload the page when the served catalog changes.
// Polls the server's /_live (same origin, no library); a page being typed into is not reloaded.
(function () {
  "use strict";
  var me = document.currentScript;
  if (!me) return;
  var url = me.dataset.live;
  var version = me.dataset.version;
  var busy = false;
  function typing() {
    var a = document.activeElement;
    return a && (a.tagName === "INPUT" || a.tagName === "TEXTAREA" || a.tagName === "SELECT") &&
      a.dataset.touched === "1";
  }
  document.addEventListener("input", function (ev) {
    if (ev.target && ev.target.dataset) ev.target.dataset.touched = "1";
  });
  function poll() {
    if (busy) return;
    busy = true;
    fetch(url, { cache: "no-store" }).then(function (r) { return r.json(); }).then(function (state) {
      busy = false;
      if (state.version !== version && !typing()) window.location.reload();
    }).catch(function () { busy = false; });
  }
  window.setInterval(poll, 400);
})();
