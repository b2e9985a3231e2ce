/* The body map (templates/treatment/_bodymap.html): dots are buttons, "Show all regions" widens
   the view. Plain JavaScript, no dependencies. A chosen dot fires a "bodymap:select" event with
   {site, side}; the page decides what that means (charting.js adds an injection row). */
(function () {
  "use strict";

  var ON = { fill: "#c8102e", stroke: "#1d2733", width: "4" };
  var OFF = { fill: "#6b7885", stroke: "#fff", width: "2" };

  function select(svg, dot) {
    var point = dot.parentNode;
    svg.dispatchEvent(new CustomEvent("bodymap:select", {
      bubbles: true,
      detail: { site: point.getAttribute("data-site"), side: point.getAttribute("data-side"), dot: dot }
    }));
  }

  function init(svg) {
    svg.addEventListener("click", function (event) {
      var dot = event.target.closest && event.target.closest(".bm-dot[role=button]");
      if (dot) { select(svg, dot); }
    });
    svg.addEventListener("keydown", function (event) {
      var dot = event.target.closest && event.target.closest(".bm-dot[role=button]");
      if (!dot) { return; }
      if (event.key === "Enter" || event.key === " " || event.key === "Spacebar") {
        event.preventDefault();  // Space would scroll the page
        select(svg, dot);
      }
    });
  }

  /* keys: a Set of "site|side" strings that are injected. */
  function setInjected(svg, keys) {
    svg.querySelectorAll(".bm-point").forEach(function (point) {
      var on = keys.has(point.getAttribute("data-site") + "|" + point.getAttribute("data-side"));
      var dot = point.querySelector(".bm-dot");
      var look = on ? ON : OFF;
      point.classList.toggle("is-injected", on);
      dot.setAttribute("fill", look.fill);
      dot.setAttribute("stroke", look.stroke);
      dot.setAttribute("stroke-width", look.width);
      if (dot.hasAttribute("aria-pressed")) { dot.setAttribute("aria-pressed", on ? "true" : "false"); }
      var title = dot.querySelector("title");
      if (title) { title.textContent = dot.getAttribute("aria-label") + (on ? " (injected)" : ""); }
    });
  }

  function showAll(svg, on) {
    svg.classList.toggle("show-all", on);
    var crop = svg.getAttribute("data-crop-viewbox");
    var full = svg.getAttribute("data-full-viewbox");
    if (crop && full) {
      svg.setAttribute("viewBox", on ? full : crop);
      var top = on ? "0" : svg.getAttribute("data-crop-top");
      svg.querySelectorAll(".bm-labels").forEach(function (g) {
        g.setAttribute("transform", "translate(0 " + top + ")");
      });
    }
  }

  document.querySelectorAll("svg.bodymap.is-interactive").forEach(init);
  document.querySelectorAll("[data-bodymap-toggle]").forEach(function (box) {
    var svg = document.getElementById(box.getAttribute("data-bodymap-toggle"));
    if (!svg) { return; }
    box.addEventListener("change", function () { showAll(svg, box.checked); });
    if (box.checked) { showAll(svg, true); }  // a browser may restore the box after "Back"
  });

  window.ProloBodyMap = { setInjected: setInjected, showAll: showAll };
})();
