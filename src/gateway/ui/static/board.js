/* eval-gateway status board: keep the [data-live] part of a page current without a reload.
   Each such element names a fragment URL (same page, ?fragment=live) and an interval; the
   fragment replaces the element's content when it changed. Polling pauses while the tab is
   hidden and stops once a job is terminal. No dependencies, no build step. */
(function () {
  "use strict";

  function say(text) {
    var line = document.getElementById("live-status");
    if (line && line.textContent !== text) line.textContent = text;
  }

  function picked(root) {
    var values = {};
    root.querySelectorAll("input[type=checkbox]:checked").forEach(function (box) {
      values[box.value] = true;
    });
    return values;
  }

  function follow(root) {
    var url = root.getAttribute("data-live");
    var every = parseInt(root.getAttribute("data-interval"), 10) || 5000;
    var last = root.innerHTML;
    var timer = null;

    function terminal() {
      return root.querySelector("[data-terminal='true']") !== null;
    }

    function schedule() {
      if (timer === null && !terminal()) timer = window.setTimeout(tick, every);
    }

    function tick() {
      timer = null;
      if (document.hidden) return; // resumed by visibilitychange
      fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (response) {
          return response.text().then(function (body) {
            return { ok: response.ok, status: response.status, body: body };
          });
        })
        .then(function (answer) {
          if (!answer.ok) {
            say("Live updates paused: the gateway answered HTTP " + answer.status + ".");
          } else {
            say("Updated " + new Date().toLocaleTimeString() + ".");
          }
          if (answer.body !== last) {
            var keep = picked(root);
            var focused = document.activeElement && document.activeElement.id;
            root.innerHTML = answer.body;
            last = root.innerHTML;
            root.querySelectorAll("input[type=checkbox]").forEach(function (box) {
              if (keep[box.value]) box.checked = true;
            });
            if (focused) {
              var again = document.getElementById(focused);
              if (again) again.focus();
            }
          }
        })
        .catch(function () {
          say("Live updates paused: the gateway cannot be reached; retrying.");
        })
        .then(schedule);
    }

    document.addEventListener("visibilitychange", function () {
      if (!document.hidden) schedule();
    });
    schedule();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-live]").forEach(follow);
  });
})();
