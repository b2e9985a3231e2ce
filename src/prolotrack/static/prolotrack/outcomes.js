/* The outcome dashboard: the breakdown table is a second pass over the clinic's sessions, so
   the page comes first and the table follows from its own request. Without this script the
   link in its place opens it as a page. Plain JavaScript. */
(function () {
  "use strict";
  var box = document.querySelector("[data-breakdown-url]");
  if (!box || !window.fetch) { return; }
  var fallback = box.innerHTML;
  var loading = document.createElement("p");
  loading.className = "muted";
  loading.textContent = "Loading the breakdown\u2026";
  box.setAttribute("aria-busy", "true");
  box.replaceChildren(loading);
  fetch(box.getAttribute("data-breakdown-url"), {
    credentials: "same-origin",
    headers: { "X-Requested-With": "fetch" }
  }).then(function (response) {
    var type = response.headers.get("Content-Type") || "";
    // A 400 carries the message naming the filter; a redirect is the sign-in page.
    var usable = response.ok || response.status === 400;
    if (response.redirected || !usable || type.indexOf("text/html") !== 0) {
      throw new Error(String(response.status));
    }
    return response.text();
  }).then(function (html) {
    // Our own server's table, escaped there; the CSP runs no script from it.
    box.innerHTML = html;
  }).catch(function () {
    box.innerHTML = fallback;
    var failed = document.createElement("p");
    failed.className = "field-msg";
    failed.setAttribute("role", "alert");
    failed.textContent = "The breakdown could not be loaded. The link opens it as a page.";
    box.prepend(failed);
  }).finally(function () {
    box.removeAttribute("aria-busy");
  });
}());
