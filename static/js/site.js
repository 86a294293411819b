// quizsite: toasts, copy buttons and server-sent toast events. No inline scripts anywhere (CSP).
(function () {
  function showToasts(root) {
    (root || document).querySelectorAll(".toast[data-autoshow]").forEach(function (el) {
      el.removeAttribute("data-autoshow");
      bootstrap.Toast.getOrCreateInstance(el, { delay: 5000 }).show();
    });
  }

  // A server response may carry `HX-Trigger: {"toast": {"level": "success", "text": "..."}}`.
  function addToast(level, text) {
    var container = document.getElementById("toasts");
    if (!container) return;
    var cls = level === "error" ? "danger" : (level || "success");
    var el = document.createElement("div");
    el.className = "toast align-items-center border-0 text-bg-" + cls;
    el.setAttribute("role", "status");
    el.setAttribute("aria-live", "polite");
    var body = document.createElement("div");
    body.className = "d-flex";
    var msg = document.createElement("div");
    msg.className = "toast-body";
    msg.textContent = text;
    var close = document.createElement("button");
    close.type = "button";
    close.className = "btn-close btn-close-white me-2 m-auto";
    close.setAttribute("data-bs-dismiss", "toast");
    close.setAttribute("aria-label", "Close");
    body.appendChild(msg);
    body.appendChild(close);
    el.appendChild(body);
    container.appendChild(el);
    bootstrap.Toast.getOrCreateInstance(el, { delay: 5000 }).show();
  }
  window.quizsiteToast = addToast;

  document.body.addEventListener("toast", function (evt) {
    addToast(evt.detail.level, evt.detail.text);
  });

  document.addEventListener("click", function (evt) {
    var btn = evt.target.closest("[data-copy]");
    if (!btn) return;
    evt.preventDefault();
    var text = btn.getAttribute("data-copy");
    if (text.startsWith("/")) text = window.location.origin + text;
    var done = function () { addToast("success", "Link copied to the clipboard."); };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { addToast("warning", text); });
    } else {
      addToast("info", text);
    }
  });

  // Progress bars carry their width in data-width: the CSP forbids style="" attributes, not CSSOM.
  function sizeBars(root) {
    (root || document).querySelectorAll(".progress-bar[data-width]").forEach(function (el) {
      el.style.width = Math.max(0, Math.min(100, Number(el.getAttribute("data-width")) || 0)) + "%";
    });
  }

  document.addEventListener("DOMContentLoaded", function () { showToasts(); sizeBars(); });
  document.body.addEventListener("htmx:afterSwap", function (evt) { showToasts(evt.target); });
  document.body.addEventListener("htmx:load", function (evt) { sizeBars(evt.detail.elt); });
})();
