/*
 * Runs synchronously in <head>, before the first paint, so the page never
 * flashes the wrong theme. A stored choice ("light" or "dark", saved by the
 * toggle in vmcloud.js) wins; otherwise the system setting decides.
 * An external file rather than an inline script so a strict
 * Content-Security-Policy (script-src 'self') needs no nonce or hash.
 */
(function () {
  var root = document.documentElement;
  var theme = null;
  try {
    theme = window.localStorage.getItem("vmcloud-theme");
  } catch (e) {
    theme = null; /* storage disabled: follow the system */
  }
  if (theme === "light" || theme === "dark") {
    root.setAttribute("data-theme-source", "user");
  } else {
    theme = window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
    root.setAttribute("data-theme-source", "system");
  }
  root.setAttribute("data-theme", theme);
})();
