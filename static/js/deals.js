/* WinWin CRM rep pages: a few small behaviours on top of htmx. No framework, no build. */
(function () {
  "use strict";

  // Forms with errors answer 400 and a stale deal edit answers 409; both carry the form to
  // show again, so swap them in like a 200 instead of dropping them.
  if (window.htmx) {
    window.htmx.config.responseHandling = [
      { code: "204", swap: false },
      { code: "[23]..", swap: true },
      { code: "(400|409|422)", swap: true, error: false },
      { code: "[45]..", swap: false, error: true },
    ];
  }

  // Repeatable rows (discovery call: people, needs, milestones): clone the formset's
  // empty form, number it, and move the cursor into it.
  function addRow(prefix) {
    var total = document.getElementById("id_" + prefix + "-TOTAL_FORMS");
    var template = document.getElementById(prefix + "-template");
    var rows = document.getElementById(prefix + "-rows");
    if (!total || !template || !rows) return;
    var index = parseInt(total.value, 10);
    rows.insertAdjacentHTML("beforeend", template.innerHTML.replace(/__prefix__/g, index));
    total.value = index + 1;
    var first = rows.lastElementChild.querySelector("input:not([type=hidden]), select, textarea");
    if (first) first.focus();
  }

  document.addEventListener("click", function (event) {
    var add = event.target.closest("[data-add-row]");
    if (add) {
      event.preventDefault();
      addRow(add.getAttribute("data-add-row"));
      return;
    }
    var remove = event.target.closest("[data-remove-row]");
    if (remove) {
      event.preventDefault();
      var row = remove.closest("[data-row]");
      var rows = row && row.parentElement;
      // A removed row leaves a gap in the numbering; Django's formset skips missing rows.
      if (row) row.remove();
      var next = rows && rows.querySelector("input:not([type=hidden]), select");
      if (next) next.focus();
    }
  });

  // Keyboard on long forms (data-ctrl-enter, the discovery call): Ctrl/Cmd+Enter saves;
  // plain Enter never submits half a call. In a row's text field it moves to the next
  // row's first field (adding a row after the last); elsewhere it does nothing.
  function firstField(row) {
    return row && row.querySelector("input:not([type=hidden]):not([type=checkbox]), select, textarea");
  }

  document.addEventListener("keydown", function (event) {
    var form = event.target.closest && event.target.closest("form");
    if (!form || event.key !== "Enter") return;
    if (event.ctrlKey || event.metaKey) {
      event.preventDefault();
      form.requestSubmit();
      return;
    }
    if (!form.hasAttribute("data-ctrl-enter")) return;
    var target = event.target;
    if (target.matches("textarea, button, [type=submit], a")) return;
    event.preventDefault();
    var row = target.closest("[data-row]");
    if (!row || !target.matches("input[type=text], input:not([type])")) return;
    // The same column of the next row (statement → statement), else its first field.
    var column = (target.name || "").replace(/^.*-\d+-/, "");
    var next = row.nextElementSibling;
    if (!next || !firstField(next)) {
      if (!row.parentElement || !row.parentElement.id) return;
      addRow(row.parentElement.id.replace(/-rows$/, ""));
      next = row.parentElement.lastElementChild;
    }
    var same = column && next.querySelector('[name$="-' + column + '"]');
    (same || firstField(next)).focus();
  });

  document.addEventListener("change", function (event) {
    var target = event.target;
    // Concession form: a price cut shows the value-add nudge and asks what is traded back.
    var concession = target.closest("[data-concession-form]");
    if (concession && target.name && /kind$/.test(target.name)) {
      concession.setAttribute("data-kind", target.value);
    }
    // New deal form: picking an existing prospect hides the new-prospect fields.
    var prospectForm = target.closest("[data-prospect-form]");
    if (prospectForm && target.name === "prospect") {
      prospectForm.setAttribute("data-existing", target.value ? "1" : "0");
    }
  });

  // Toasts fade after a few seconds; the region stays for the next one.
  function scheduleFade(root) {
    var toasts = (root || document).querySelectorAll(".toast:not([data-fading])");
    toasts.forEach(function (toast) {
      toast.setAttribute("data-fading", "1");
      setTimeout(function () {
        toast.classList.add("fade");
        setTimeout(function () { toast.remove(); }, 400);
      }, 5000);
    });
  }
  document.addEventListener("htmx:afterSettle", function () { scheduleFade(document); });
  document.addEventListener("htmx:oobAfterSwap", function () { scheduleFade(document); });
  scheduleFade(document);

  // A form that came back with errors puts the cursor on the first field to fix.
  function focusFirstError(root) {
    var invalid = root && root.querySelector(
      ".has-error input:not([type=hidden]), .has-error select, .has-error textarea"
    );
    if (invalid) invalid.focus();
  }
  document.addEventListener("htmx:afterSwap", function (event) {
    var id = event.detail.target && event.detail.target.id;
    focusFirstError(id ? document.getElementById(id) : null);
  });
  focusFirstError(document);
})();
