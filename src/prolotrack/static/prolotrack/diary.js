/* The diary entry page: an emergency answer shows the emergency message at once, before the
   entry is saved (the saved entry's page says it again, and the clinic is alerted). The form
   works without this script. Plain JavaScript. */
(function () {
  "use strict";
  var form = document.querySelector("[data-diary-form]");
  var notice = document.getElementById("emergency-now");
  if (!form || !notice) { return; }
  var boxes = form.querySelectorAll("input[data-emergency]");
  function update() {
    var any = false;
    boxes.forEach(function (box) { if (box.checked) { any = true; } });
    var was = !notice.hidden;
    notice.hidden = !any;
    if (any && !was) { notice.scrollIntoView({ block: "start" }); }
  }
  boxes.forEach(function (box) { box.addEventListener("change", update); });
  update();
}());
