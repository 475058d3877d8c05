/* WinWin CRM, every page: the phone menu, dates in the reader's time zone, focus that is
   never hidden under a sticky bar, one tab stop per date field. No framework. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // Phone menu: the navigation folds behind one button below 720 px.
  document.addEventListener("click", function (event) {
    var toggle = event.target.closest(".nav-toggle");
    if (!toggle) return;
    var open = toggle.getAttribute("aria-expanded") !== "true";
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
    document.querySelector(".topbar").classList.toggle("open", open);
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var toggle = document.querySelector(".nav-toggle[aria-expanded=true]");
    if (toggle) {
      toggle.click();
      toggle.focus();
    }
  });

  // <time data-when>: the hover text in the reader's own time zone (the server's is UTC).
  var moment = window.Intl && new Intl.DateTimeFormat(undefined, {
    day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit",
    timeZoneName: "short",
  });
  function localTimes(root) {
    if (!moment) return;
    (root || document).querySelectorAll("time[data-when]").forEach(function (el) {
      var at = new Date(el.getAttribute("datetime"));
      if (!isNaN(at)) el.title = moment.format(at);
    });
  }
  document.addEventListener("DOMContentLoaded", function () { localTimes(); });
  document.addEventListener("htmx:afterSettle", function (event) { localTimes(event.target); });

  // A field focused by Tab must not sit under the sticky top bar or a sticky save bar.
  document.addEventListener("focusin", function (event) {
    var el = event.target;
    if (!el.getBoundingClientRect || el === document.body) return;
    var rect = el.getBoundingClientRect();
    var top = 0;
    var bottom = window.innerHeight;
    var bar = document.querySelector(".topbar");
    if (bar && getComputedStyle(bar).position === "sticky") top = bar.getBoundingClientRect().bottom;
    document.querySelectorAll(".sticky-actions").forEach(function (sticky) {
      if (sticky.contains(el)) return;
      var r = sticky.getBoundingClientRect();
      if (r.top < bottom && r.bottom >= window.innerHeight - 1) bottom = r.top;
    });
    if (rect.top < top + 4) window.scrollBy(0, rect.top - top - 12);
    else if (rect.bottom > bottom - 4) window.scrollBy(0, rect.bottom - bottom + 12);
  });

  // Autofocus: the first field of a page's own form (form[data-autofocus], or a field with
  // the autofocus attribute) on load; the first field of a form as soon as it opens in a
  // <details> or arrives by htmx (an inline edit form) — the first field in error if any.
  var FIELDS = "input:not([type=hidden]):not([type=submit]):not([type=button]):not([type=reset]), select, textarea";
  function firstField(root) {
    var fields = Array.prototype.filter.call(root.querySelectorAll(FIELDS), function (el) {
      return !el.disabled && !el.readOnly && el.offsetParent !== null;
    });
    var invalid = fields.filter(function (el) {
      return el.getAttribute("aria-invalid") === "true" || el.closest(".has-error");
    });
    return invalid[0] || fields[0];
  }
  function focusFirst(root) {
    var field = root && firstField(root);
    if (field) field.focus({preventScroll: false});
    return field;
  }
  document.addEventListener("DOMContentLoaded", function () {
    if (location.hash || document.querySelector("[autofocus]")) return;
    focusFirst(document.querySelector("form[data-autofocus]"));
  });
  // A person opening a <details> (click, Enter or Space on its summary) — not one that
  // is open when the page loads, which would scroll the page away from its top.
  document.addEventListener("click", function (event) {
    var summary = event.target.closest("summary");
    var details = summary && summary.parentElement;
    if (!details || details.tagName !== "DETAILS") return;
    setTimeout(function () {
      if (details.open && details.querySelector("form")) focusFirst(details.querySelector("form"));
    }, 0);
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    var root = event.detail.elt;
    if (!root || !root.querySelector) return;
    var form = root.matches("form[data-autofocus]") ? root : root.querySelector("form[data-autofocus]");
    if (form) focusFirst(form);
  });

  // Date fields: Tab leaves the field instead of walking its day/month/year parts
  // (arrow keys still move between the parts).
  function focusables() {
    return Array.prototype.filter.call(
      document.querySelectorAll("a[href], button, input:not([type=hidden]), select, textarea, [tabindex]:not([tabindex='-1'])"),
      function (el) { return !el.disabled && el.offsetParent !== null; }
    );
  }
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Tab" || !event.target.matches("input[type=date], input[type=datetime-local], input[type=time]")) return;
    var all = focusables();
    var i = all.indexOf(event.target);
    var next = all[i + (event.shiftKey ? -1 : 1)];
    if (i >= 0 && next) {
      event.preventDefault();
      next.focus();
    }
  });
})();

/* Phones: tables turn into cards (CSS below 720 px); each cell shows its column's name. */
(function () {
  "use strict";
  function stack(root) {
    (root || document).querySelectorAll(".table-wrap > table, table.stackable").forEach(function (table) {
      var heads = table.querySelectorAll("thead th");
      if (!heads.length) return;
      var names = Array.prototype.map.call(heads, function (th) { return th.textContent.replace(/\s+/g, " ").trim(); });
      table.querySelectorAll("tbody tr").forEach(function (tr) {
        Array.prototype.forEach.call(tr.children, function (td, i) {
          if (names[i] && !td.hasAttribute("data-label")) td.setAttribute("data-label", names[i]);
        });
      });
      table.classList.add("stack");
    });
  }
  document.addEventListener("DOMContentLoaded", function () { stack(); });
  document.addEventListener("htmx:afterSettle", function (event) { stack(event.target.parentElement || document); });
})();

/* Flag review: acknowledging a row (htmx) lowers the open count on the page at once. */
(function () {
  "use strict";
  var pending = {};  // row id -> it was open before the swap
  document.addEventListener("htmx:beforeSwap", function (event) {
    var row = event.detail.target;
    if (row && row.classList && row.classList.contains("flag-row")) pending[row.id] = row.classList.contains("open");
  });
  document.addEventListener("htmx:afterSettle", function () {
    Object.keys(pending).forEach(function (id) {
      var wasOpen = pending[id];
      delete pending[id];
      var row = document.getElementById(id);
      if (!wasOpen || !row || !row.classList.contains("acknowledged")) return;
      var count = document.querySelector('[data-flag-count="open"]');
      if (!count) return;
      var n = Math.max(parseInt(count.textContent, 10) - 1, 0);
      count.textContent = n;
      var plural = document.querySelector("[data-flag-plural]");
      if (plural) plural.textContent = n === 1 ? "" : "s";
    });
  });
})();
