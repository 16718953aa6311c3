// CareInbox workspace behaviour that htmx attributes cannot express: keyboard shortcuts and
// the "replying" presence flag. No inline scripts anywhere (the CSP forbids them).
(function () {
  "use strict";

  // On narrow screens the CSS folds the queues and the inbox filters away behind a button
  // ([data-fold], naming what it opens in aria-controls), only where this script runs.
  document.documentElement.classList.add("scripted");
  document.addEventListener("click", (event) => {
    const toggle = event.target.closest("[data-fold]");
    if (!toggle) return;
    const folded = document.getElementById(toggle.getAttribute("aria-controls"));
    const open = folded.classList.toggle("is-open");
    toggle.setAttribute("aria-expanded", String(open));
  });

  function typing(target) {
    return target.closest("input, textarea, select, [contenteditable='true']") !== null;
  }

  function rows() {
    return Array.from(document.querySelectorAll("[data-case-row]"));
  }

  function select(delta) {
    const list = rows();
    if (list.length === 0) return;
    const current = list.findIndex((row) => row.classList.contains("is-selected"));
    const next = Math.min(list.length - 1, Math.max(0, current === -1 ? 0 : current + delta));
    list.forEach((row) => row.classList.remove("is-selected"));
    list[next].classList.add("is-selected");
    const link = list[next].querySelector("a[data-open]");
    if (link) link.focus();
  }

  function press(key) {
    const target = document.querySelector(`[data-shortcut="${key}"]`);
    if (!target) return false;
    if (target.matches("input, textarea, select")) {
      target.focus();
    } else if (target.matches("details")) {
      target.open = true;
      const field = target.querySelector("textarea, input:not([type=hidden]), select");
      if (field) field.focus();
    } else {
      target.click();
    }
    return true;
  }

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "Escape" && typing(event.target)) {
      event.target.blur();
      return;
    }
    if (typing(event.target)) return;
    let handled = true;
    switch (event.key) {
      case "j": select(1); break;
      case "k": select(-1); break;
      case "Enter": {
        const row = document.querySelector("[data-case-row].is-selected a[data-open]");
        if (row) row.click(); else handled = false;
        break;
      }
      case "?": document.getElementById("shortcuts").showModal(); break;
      case "/": handled = press("/"); break;
      default: handled = press(event.key);
    }
    if (handled) event.preventDefault();
  });

  // The presence heartbeat sends this field: "replying" while the composer holds text.
  document.addEventListener("input", (event) => {
    const flag = document.getElementById("presence-activity");
    if (!flag || !event.target.matches("[data-composer]")) return;
    flag.value = event.target.value.trim() ? "replying" : "viewing";
  });
})();
