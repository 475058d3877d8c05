"use strict";
// "Select all" on the flag review page ticks every flag of the bulk form.
(function () {
  var all = document.getElementById("select-all");
  if (!all) return;
  all.addEventListener("change", function () {
    document.querySelectorAll('input[name="flags"][form="bulk-form"]').forEach(function (box) { box.checked = all.checked; });
  });
})();
