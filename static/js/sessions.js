// quizsite sessions pages: local times, countdowns, the create/edit modal and the confirm dialog.
// Loaded by the Sessions tab and the session page. No inline scripts (CSP): everything is wired here
// through data- attributes and htmx events.
(function () {
  "use strict";

  var TIMEZONE = (function () {
    try { return Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { return ""; }
  })();

  // The server reads wall-clock times (datetime-local) in this zone and shows times in it.
  if (TIMEZONE) {
    document.cookie = "tz=" + encodeURIComponent(TIMEZONE) + "; path=/; max-age=31536000; SameSite=Lax";
  }
  document.body.addEventListener("htmx:configRequest", function (evt) {
    if (TIMEZONE) evt.detail.headers["X-Timezone"] = TIMEZONE;
  });

  // --- Times: local formatting, "in 5 min", countdowns -------------------------------------------

  var dateTimeFormat = new Intl.DateTimeFormat(undefined, {
    weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit"
  });
  var timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });

  // The same wording as sessions.views.relative_time, so a refresh never changes the text's style.
  function relative(ms) {
    var future = ms > 0;
    var seconds = Math.abs(ms) / 1000;
    var amount;
    if (seconds < 45) return future ? "in less than a minute" : "just now";
    if (seconds < 3600) amount = Math.max(1, Math.round(seconds / 60)) + " min";
    else if (seconds < 36 * 3600) amount = Math.round(seconds / 3600) + " h";
    else {
      var days = Math.round(seconds / 86400);
      amount = days + (days === 1 ? " day" : " days");
    }
    return future ? "in " + amount : amount + " ago";
  }

  function pad(n) { return n < 10 ? "0" + n : String(n); }

  function countdownText(ms) {
    if (ms <= 0) return "now";
    var total = Math.ceil(ms / 1000);
    var days = Math.floor(total / 86400);
    var hours = Math.floor((total % 86400) / 3600);
    var minutes = Math.floor((total % 3600) / 60);
    var seconds = total % 60;
    if (days > 0) return days + "d " + hours + "h " + pad(minutes) + "m";
    if (hours > 0) return hours + ":" + pad(minutes) + ":" + pad(seconds);
    return minutes + ":" + pad(seconds);
  }

  function formatTimes(root) {
    (root || document).querySelectorAll("time[data-local-time]").forEach(function (el) {
      var when = new Date(el.getAttribute("datetime"));
      if (isNaN(when)) return;
      el.textContent = (el.hasAttribute("data-time-only") ? timeFormat : dateTimeFormat).format(when);
      el.title = when.toString();
    });
  }

  // A status changes by itself when a countdown passes: the region holding it refreshes once.
  // Only moments that pass while the page is open count, so a clock skew cannot cause a refresh loop.
  var seenDue = new WeakMap();

  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-relative-to]").forEach(function (el) {
      var when = Date.parse(el.getAttribute("data-relative-to"));
      if (!isNaN(when)) el.textContent = relative(when - now);
    });
    document.querySelectorAll("[data-countdown-to]").forEach(function (el) {
      var when = Date.parse(el.getAttribute("data-countdown-to"));
      if (!isNaN(when)) el.textContent = countdownText(when - now);
    });
    var due = false;
    document.querySelectorAll("[data-due-at]").forEach(function (el) {
      var when = Date.parse(el.getAttribute("data-due-at"));
      if (isNaN(when)) return;
      if (!seenDue.has(el)) { seenDue.set(el, when > now); return; }
      if (seenDue.get(el) && when <= now) { seenDue.set(el, false); due = true; }
    });
    if (due) {
      // Give the server a moment past the boundary, so it agrees the time has come.
      setTimeout(function () { htmx.trigger(document.body, "sessionsDue"); }, 750);
    }
  }

  // --- The create/edit form: show the panel that applies -------------------------------------------

  function syncPanels(form) {
    if (!form) return;
    var type = form.querySelector("input[name=session_type]:checked");
    form.querySelectorAll("[data-schedule-panel]").forEach(function (panel) {
      panel.classList.toggle("d-none", !type || type.value !== panel.getAttribute("data-schedule-panel"));
    });
    var source = form.querySelector("input[name=source]:checked");
    form.querySelectorAll("[data-source-panel]").forEach(function (panel) {
      panel.classList.toggle("d-none", !source || source.value !== panel.getAttribute("data-source-panel"));
    });
  }

  function initForms(root) {
    (root || document).querySelectorAll("input[name=timezone]").forEach(function (input) {
      if (TIMEZONE) input.value = TIMEZONE;
    });
    (root || document).querySelectorAll("#session-form").forEach(syncPanels);
  }

  document.addEventListener("change", function (evt) {
    var input = evt.target;
    if (!input.matches || !input.matches("input[name=session_type], input[name=source]")) return;
    var form = input.closest("form");
    syncPanels(form);
    // A different source means a different preview: ask for it now.
    if (input.name === "source") {
      var previewing = form.querySelector("[data-source-panel] [hx-post]");
      if (previewing) {
        htmx.ajax("POST", previewing.getAttribute("hx-post"), { source: form, target: "#questions-preview", swap: "innerHTML" });
      }
    }
    if (input.name === "session_type" && input.value === "scheduled") {
      var when = form.querySelector("input[name=scheduled_at]");
      if (when) when.focus();
    }
  });

  // --- The modal -------------------------------------------------------------------------------------

  var modalEl = document.getElementById("session-modal");
  var loadingHTML = modalEl ? document.getElementById("session-modal-content").innerHTML : "";

  document.body.addEventListener("closeModal", function () {
    if (modalEl) bootstrap.Modal.getOrCreateInstance(modalEl).hide();
  });

  if (modalEl) {
    // Next time it opens it shows the spinner, not the last form.
    modalEl.addEventListener("hidden.bs.modal", function () {
      document.getElementById("session-modal-content").innerHTML = loadingHTML;
    });
    modalEl.addEventListener("shown.bs.modal", function () { focusFirstField(modalEl); });
  }

  function focusFirstField(root) {
    var target = root.querySelector(".is-invalid") ||
      root.querySelector(".modal-body input:not([type=hidden]):not([type=radio]), .modal-body textarea, .modal-body select");
    if (target) target.focus();
  }

  // --- Confirm dialog for hx-confirm (instead of the browser's confirm()) ------------------------------

  var confirmEl = document.getElementById("confirm-modal");
  var pendingRequest = null;

  document.body.addEventListener("htmx:confirm", function (evt) {
    if (!evt.detail.question || !confirmEl) return;
    evt.preventDefault();
    pendingRequest = evt.detail.issueRequest;
    document.getElementById("confirm-modal-text").textContent = evt.detail.question;
    var ok = document.getElementById("confirm-modal-ok");
    ok.textContent = evt.detail.elt.getAttribute("data-confirm-label") || "Confirm";
    bootstrap.Modal.getOrCreateInstance(confirmEl).show();
  });

  if (confirmEl) {
    document.getElementById("confirm-modal-ok").addEventListener("click", function () {
      var issue = pendingRequest;
      pendingRequest = null;
      bootstrap.Modal.getOrCreateInstance(confirmEl).hide();
      if (issue) issue(true);
    });
    confirmEl.addEventListener("hidden.bs.modal", function () { pendingRequest = null; });
  }

  // --- Wiring ----------------------------------------------------------------------------------------

  function init(root) {
    formatTimes(root);
    initForms(root);
  }

  document.body.addEventListener("htmx:load", function (evt) { init(evt.detail.elt); });
  // After settling, not swapping: htmx keeps the old classes on same-id elements until then, so the
  // new `.is-invalid` marks are only there now.
  document.body.addEventListener("htmx:afterSettle", function (evt) {
    if (evt.detail.target && evt.detail.target.id === "session-modal-content") {
      initForms(evt.detail.target);
      if (modalEl && modalEl.classList.contains("show")) focusFirstField(evt.detail.target);
    }
  });

  init(document);
  tick();
  setInterval(tick, 1000);
})();
