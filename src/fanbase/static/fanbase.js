// Fanbase: countdowns and live numbers. Pages work without this file; it only keeps numbers fresh.
(function () {
  "use strict";
  function pad(n) { return n < 10 ? "0" + n : "" + n; }
  // the store's clock (in sandbox mode staff may move it forward), not this device's
  var served = Date.parse(document.body.dataset.now || "");
  var skew = isNaN(served) ? 0 : served - Date.now();
  function tick() {
    document.querySelectorAll("[data-countdown]").forEach(function (el) {
      var left = Math.max(0, Math.floor((Date.parse(el.dataset.countdown) - Date.now() - skew) / 1000));
      var d = Math.floor(left / 86400), h = Math.floor(left % 86400 / 3600), m = Math.floor(left % 3600 / 60);
      el.textContent = (d ? d + "d " : "") + pad(h) + ":" + pad(m) + ":" + pad(left % 60);
      if (left === 0 && el.dataset.reload !== undefined && !el.dataset.done) {
        el.dataset.done = "1";
        setTimeout(function () { location.reload(); }, 500);
      }
    });
  }
  function live() {
    document.querySelectorAll("[data-events]").forEach(function (el) {
      if (!window.EventSource) { return; }
      var source = new EventSource(el.dataset.events);
      source.addEventListener("sale", function (event) {
        var data = JSON.parse(event.data);
        el.querySelectorAll("[data-remaining]").forEach(function (n) { n.textContent = data.remaining; });
        if (el.dataset.units) { sold(el, Number(el.dataset.units) - data.remaining); }
        if (data.status === "ended") { source.close(); }
      });
    });
  }
  // the console's live panel: units sold, sell-through and units sold per second (over the last 10 s)
  function sold(el, units) {
    var now = Date.now(), samples = el.samples || (el.samples = []);
    samples.push([now, units]);
    while (samples.length > 1 && now - samples[0][0] > 10000) { samples.shift(); }
    var first = samples[0], seconds = (now - first[0]) / 1000;
    var share = Math.round(1000 * units / Number(el.dataset.units)) / 10;
    el.querySelectorAll("[data-sold]").forEach(function (n) { n.textContent = units; });
    el.querySelectorAll("[data-share]").forEach(function (n) { n.textContent = share + "%"; });
    el.querySelectorAll("[data-bar]").forEach(function (n) { n.style.width = share + "%"; });
    el.querySelectorAll("[data-rate]").forEach(function (n) {
      n.textContent = seconds >= 1 ? ((units - first[1]) / seconds).toFixed(1) : n.textContent;
    });
  }
  function picker() {
    document.querySelectorAll("input[data-price]").forEach(function (input) {
      input.addEventListener("change", function () {
        document.querySelectorAll("[data-price-shown]").forEach(function (n) { n.textContent = input.dataset.price; });
        document.querySelectorAll("[data-list-price-shown]").forEach(function (n) {
          n.textContent = input.dataset.listPrice || "";
          n.hidden = input.dataset.listPrice === input.dataset.price;
        });
      });
    });
  }
  // a live dashboard (a running festival) reloads its numbers every few seconds
  function refresh() {
    var el = document.querySelector("[data-refresh]");
    if (el) { setTimeout(function () { location.reload(); }, 1000 * Number(el.dataset.refresh)); }
  }
  document.addEventListener("DOMContentLoaded", function () { tick(); setInterval(tick, 1000); live(); picker(); refresh(); });
})();
