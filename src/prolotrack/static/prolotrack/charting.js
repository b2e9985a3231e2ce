/* The session form (rows added from the body map, the site list or the last session) and the
   "New series" defaults. Every button here is also a submit button the server understands, so
   the form works without this script; with it, nothing reloads. Plain JavaScript.

   The safety panel is refreshed by htmx on the form's "change" event; rows added or removed
   here fire that event too, since the browser fires none for them. */
(function () {
  "use strict";

  function parseNumber(text) {
    var value = parseFloat(String(text).trim().replace(",", "."));
    return isNaN(value) ? 0 : value;
  }

  function initSessionForm(form) {
    var sites = JSON.parse(document.getElementById("site-data").textContent);
    var lastRows = JSON.parse(document.getElementById("last-session-rows").textContent);
    var svg = form.querySelector("svg.bodymap");
    var injectionBox = form.querySelector("[data-injection-rows]");
    var readingBody = form.querySelector("[data-reading-rows]");
    var injectionTemplate = document.getElementById("injection-row-template");
    var readingTemplate = document.getElementById("reading-row-template");
    var status = form.querySelector("[data-status]");
    var nextIndex = 0;

    form.querySelectorAll("[name]").forEach(function (input) {
      var match = /^(?:injections|readings)-(\d+)-/.exec(input.name);
      if (match) { nextIndex = Math.max(nextIndex, parseInt(match[1], 10) + 1); }
    });

    function say(text) {
      status.textContent = "";
      window.setTimeout(function () { status.textContent = text; }, 60);
    }
    function siteName(code) { return sites[code] ? sites[code].name : code; }
    function injectionRows() { return Array.prototype.slice.call(injectionBox.querySelectorAll("[data-injection-row]")); }
    function readingRows() { return Array.prototype.slice.call(readingBody.querySelectorAll("[data-reading-row]")); }
    function find(rows, site, side) {
      for (var i = 0; i < rows.length; i++) {
        if (rows[i].getAttribute("data-site") === site && rows[i].getAttribute("data-side") === side) { return rows[i]; }
      }
      return null;
    }
    function fromTemplate(template, selector) {
      var index = String(nextIndex++);
      var fragment = template.content.cloneNode(true);
      fragment.querySelectorAll("*").forEach(function (element) {
        Array.prototype.slice.call(element.attributes).forEach(function (attribute) {
          if (attribute.value.indexOf("__i__") !== -1) {
            element.setAttribute(attribute.name, attribute.value.split("__i__").join(index));
          }
        });
      });
      return fragment.querySelector(selector);
    }
    function label(row, site, side) {
      row.setAttribute("data-site", site);
      row.setAttribute("data-side", side);
      row.querySelectorAll("[data-row-title]").forEach(function (e) { e.textContent = siteName(site); });
      row.querySelectorAll("[data-row-side]").forEach(function (e) { e.textContent = side; });
    }

    function ensureReading(site, side) {
      if (find(readingRows(), site, side)) { return; }
      var row = fromTemplate(readingTemplate, "[data-reading-row]");
      label(row, site, side);
      row.querySelector("[data-field=site]").value = site;
      row.querySelector("[data-field=side]").value = side;
      row.querySelectorAll("[data-unit-label]").forEach(function (e) { e.textContent = unitLabel(); });
      readingBody.appendChild(row);
    }

    function addInjection(values) {
      var site = values.site, side = values.side;
      var existing = find(injectionRows(), site, side);
      if (existing) {
        var volume = existing.querySelector("[data-field=volume_ml]");
        (volume || existing).focus();
        say(siteName(site) + ", " + side + " is already in the list.");
        return false;
      }
      var row = fromTemplate(injectionTemplate, "[data-injection-row]");
      label(row, site, side);
      row.querySelector("[data-field=site]").value = site;
      var sideSelect = row.querySelector("[data-field=side]");
      var allowed = sites[site] ? sites[site].sides : ["left", "right", "midline"];
      Array.prototype.slice.call(sideSelect.options).forEach(function (option) {
        if (allowed.indexOf(option.value) === -1) { option.remove(); }
      });
      sideSelect.value = side;
      row.querySelectorAll("[data-field]").forEach(function (input) {
        var name = input.getAttribute("data-field");
        if (name === "site" || name === "side" || !(name in values)) { return; }
        if (input.type === "checkbox") { input.checked = values[name] === "on"; } else { input.value = values[name]; }
      });
      injectionBox.appendChild(row);
      ensureReading(site, side);
      refresh();
      findingsChanged();
      return true;
    }

    function defaultsFor(site, side) {
      var values = { site: site, side: side };
      var defaults = sites[site] ? sites[site].defaults : {};
      Object.keys(defaults).forEach(function (k) { values[k] = defaults[k]; });
      return values;
    }

    function removeInjection(row) {
      var site = row.getAttribute("data-site"), side = row.getAttribute("data-side");
      var next = row.nextElementSibling || row.previousElementSibling;
      row.remove();
      var reading = find(readingRows(), site, side);
      if (reading && !find(injectionRows(), site, side)) {
        var typed = Array.prototype.some.call(reading.querySelectorAll("input[type=text]"), function (i) { return i.value.trim() !== ""; });
        if (!typed) { reading.remove(); }
      }
      refresh();
      findingsChanged();
      say("Removed " + siteName(site) + ", " + side + ".");
      var target = next && next.querySelector("[data-remove-row]");
      (target || document.getElementById("injections-h")).focus();
    }

    function unitLabel() {
      var select = form.querySelector("[data-unit-select]");
      return select.options[select.selectedIndex].text;
    }

    // Ask htmx for fresh findings: rows changed without an input event of their own.
    function findingsChanged() {
      form.dispatchEvent(new Event("change", { bubbles: true }));
    }

    function refresh() {
      var rows = injectionRows();
      var keys = new Set(rows.map(function (r) { return r.getAttribute("data-site") + "|" + r.getAttribute("data-side"); }));
      if (svg && window.ProloBodyMap) { window.ProloBodyMap.setInjected(svg, keys); }
      form.querySelector("[data-injection-count]").textContent = "(" + rows.length + ")";
      form.querySelector("[data-injections-empty]").hidden = rows.length > 0;
      form.querySelector("[data-readings-empty]").hidden = readingRows().length > 0;
      var total = rows.reduce(function (sum, r) { return sum + parseNumber(r.querySelector("[data-field=volume_ml]").value); }, 0);
      form.querySelector("[data-total-volume]").textContent = (Math.round(total * 100) / 100) + " ml";
    }

    if (svg) {
      svg.addEventListener("bodymap:select", function (event) {
        var d = event.detail;
        if (addInjection(defaultsFor(d.site, d.side))) {
          var v = defaultsFor(d.site, d.side);
          say("Added " + siteName(d.site) + ", " + d.side + ": " + v.volume_ml + " ml, " + v.dextrose_pct + "% dextrose.");
        }
      });
    }

    form.addEventListener("click", function (event) {
      var button = event.target.closest("button");
      if (!button) { return; }
      if (button.hasAttribute("data-remove-row")) {
        event.preventDefault();
        removeInjection(button.closest("[data-injection-row]"));
      } else if (button.hasAttribute("data-remove-reading")) {
        event.preventDefault();
        var tr = button.closest("[data-reading-row]");
        var text = siteName(tr.getAttribute("data-site")) + ", " + tr.getAttribute("data-side");
        tr.remove();
        refresh();
        say("Removed the readings of " + text + ".");
        document.getElementById("readings-h").focus();
      } else if (button.hasAttribute("data-add-site")) {
        event.preventDefault();
        var site = form.querySelector("#id_add_site").value;
        var wanted = form.querySelector("#id_add_side").value;
        var allowed = sites[site] ? sites[site].sides : [];
        var sides = allowed.length === 1 ? allowed : (wanted === "both" ? allowed : [wanted]);
        var added = 0;
        sides.forEach(function (side) { if (addInjection(defaultsFor(site, side))) { added++; } });
        if (added) { say("Added " + siteName(site) + ", " + sides.join(" and ") + "."); }
      } else if (button.hasAttribute("data-copy-last")) {
        event.preventDefault();
        var copied = 0;
        lastRows.forEach(function (row) { if (addInjection(row)) { copied++; } });
        say(copied ? "Copied " + copied + " sites from the last session." : "The last session's sites are already in the list.");
      }
    });

    form.addEventListener("change", function (event) {
      var target = event.target;
      if (target.matches("[data-unit-select]")) {
        form.querySelectorAll("[data-unit-label]").forEach(function (e) { e.textContent = unitLabel(); });
      } else if (target.matches("[data-injection-row] [data-field=side]")) {
        var row = target.closest("[data-injection-row]");
        var site = row.getAttribute("data-site"), before = row.getAttribute("data-side");
        var reading = find(readingRows(), site, before);
        label(row, site, target.value);
        if (reading && !find(readingRows(), site, target.value)) {
          label(reading, site, target.value);
          reading.querySelector("[data-field=side]").value = target.value;
        }
        refresh();
      }
    });
    form.addEventListener("input", function (event) {
      if (event.target.matches("[data-field=volume_ml]")) { refresh(); }
    });
    // A screen reader hears the panel's one-line summary when the findings change.
    var firstSummary = form.querySelector("[data-findings-summary]");
    var lastSummary = firstSummary ? firstSummary.getAttribute("data-findings-summary") : null;
    document.body.addEventListener("htmx:afterSwap", function (event) {
      if (!event.target.matches || !event.target.matches("[data-findings-panel]")) { return; }
      var summary = event.target.querySelector("[data-findings-summary]");
      var text = summary ? summary.getAttribute("data-findings-summary") : "";
      if (text && text !== lastSummary) { say(text); }
      lastSummary = text;
    });
    refresh();
  }

  function initSeriesForm(form) {
    var defaults = JSON.parse(document.getElementById("series-defaults").textContent);
    var sessions = form.querySelector("[name=series-planned_sessions]");
    var interval = form.querySelector("[name=series-planned_interval_days]");
    var typed = { sessions: false, interval: false };
    sessions.addEventListener("input", function () { typed.sessions = true; });
    interval.addEventListener("input", function () { typed.interval = true; });
    form.querySelectorAll("[name=series-modality]").forEach(function (radio) {
      radio.addEventListener("change", function () {
        var d = defaults[radio.value];
        if (!d) { return; }
        if (!typed.sessions) { sessions.value = d.planned_sessions; }
        if (!typed.interval) { interval.value = d.planned_interval_days; }
      });
    });
  }

  var sessionForm = document.querySelector("[data-session-form]");
  if (sessionForm) { initSessionForm(sessionForm); }
  var seriesForm = document.querySelector("[data-series-form]");
  if (seriesForm) { initSeriesForm(seriesForm); }
})();
