/*
 * VMCloud portal behaviour: plain JavaScript, no build step.
 *
 * - Theme toggle ([data-theme-toggle]): flips data-theme on <html> and keeps
 *   the choice in localStorage (read back by theme-init.js on every page).
 * - Disclosures ([data-disclosure], aria-controls): the phone menu, the
 *   account menu and the docs navigation. Escape closes and returns focus;
 *   a click outside closes menus.
 * - Copy to clipboard: .copy-btn[data-copy-target="#id"] copies the target's
 *   text; code blocks in rendered docs (.prose pre) get a copy button.
 * - Alerts with .alert-dismiss close themselves.
 * - Global search: "/" or Ctrl+K (Cmd+K) opens the search dialog of console
 *   pages (#search-dialog); htmx fills its results as you type. Without
 *   JavaScript the sidebar's search form posts to /search/ as a plain page.
 * Everything here is progressive: pages work without JavaScript.
 */
(function () {
  "use strict";

  var root = document.documentElement;
  var STORAGE_KEY = "vmcloud-theme";

  function t(el, name, fallback) {
    /* Translated strings come from data-i18n-* attributes rendered by Django. */
    var body = document.body;
    return (el && el.getAttribute("data-i18n-" + name)) || (body && body.getAttribute("data-i18n-" + name)) || fallback;
  }

  /* Theme ------------------------------------------------------------------ */
  function currentTheme() {
    return root.getAttribute("data-theme") === "dark" ? "dark" : "light";
  }

  function syncThemeToggles() {
    var dark = currentTheme() === "dark";
    document.querySelectorAll("[data-theme-toggle]").forEach(function (btn) {
      btn.setAttribute("aria-pressed", dark ? "true" : "false");
    });
  }

  function setTheme(theme, remember) {
    root.setAttribute("data-theme", theme);
    if (remember) {
      root.setAttribute("data-theme-source", "user");
      try {
        window.localStorage.setItem(STORAGE_KEY, theme);
      } catch (e) {
        /* storage disabled: the choice lasts for this page only */
      }
    }
    syncThemeToggles();
  }

  function initTheme() {
    syncThemeToggles();
    document.addEventListener("click", function (event) {
      var btn = event.target.closest("[data-theme-toggle]");
      if (!btn) return;
      setTheme(currentTheme() === "dark" ? "light" : "dark", true);
    });
    /* Follow the system while the user has not chosen. */
    if (window.matchMedia) {
      var query = window.matchMedia("(prefers-color-scheme: dark)");
      var onChange = function (e) {
        if (root.getAttribute("data-theme-source") !== "user") setTheme(e.matches ? "dark" : "light", false);
      };
      if (query.addEventListener) query.addEventListener("change", onChange);
    }
    /* Another tab changed the theme. */
    window.addEventListener("storage", function (e) {
      if (e.key === STORAGE_KEY && (e.newValue === "light" || e.newValue === "dark")) setTheme(e.newValue, false);
    });
  }

  /* Disclosures ---------------------------------------------------------------- */
  function targetOf(button) {
    var id = button.getAttribute("aria-controls");
    return id ? document.getElementById(id) : null;
  }

  function setOpen(button, open) {
    var target = targetOf(button);
    if (!target) return;
    button.setAttribute("aria-expanded", open ? "true" : "false");
    var mode = button.getAttribute("data-disclosure");
    if (mode === "hidden") {
      target.hidden = !open;
    } else {
      /* data-disclosure="container": the open state is styled through a parent. */
      var container = button.closest("[data-disclosure-root]") || target;
      container.setAttribute(mode === "container" ? "data-menu-open" : "data-open", open ? "true" : "false");
    }
  }

  function isOpen(button) {
    return button.getAttribute("aria-expanded") === "true";
  }

  function closeAll(except) {
    document.querySelectorAll('[data-disclosure][aria-expanded="true"][data-close-outside]').forEach(function (b) {
      if (b !== except) setOpen(b, false);
    });
  }

  function initDisclosures() {
    document.addEventListener("click", function (event) {
      var button = event.target.closest("[data-disclosure]");
      if (button) {
        var open = !isOpen(button);
        if (open) closeAll(button);
        setOpen(button, open);
        if (open && button.hasAttribute("data-focus-first")) {
          var target = targetOf(button);
          var first = target && target.querySelector("a[href], button:not([disabled]), input, select");
          if (first) first.focus();
        }
        return;
      }
      /* A click outside an open menu closes it. */
      document.querySelectorAll('[data-disclosure][aria-expanded="true"][data-close-outside]').forEach(function (b) {
        var target = targetOf(b);
        if (target && !target.contains(event.target)) setOpen(b, false);
      });
    });
    document.addEventListener("keydown", function (event) {
      if (event.key !== "Escape") return;
      document.querySelectorAll('[data-disclosure][aria-expanded="true"]').forEach(function (b) {
        var target = targetOf(b);
        var inside = target && target.contains(document.activeElement);
        setOpen(b, false);
        if (inside || document.activeElement === b) b.focus();
      });
    });
  }

  /* Clipboard ------------------------------------------------------------------ */
  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text);
    /* Fallback for plain-HTTP dev servers: a temporary textarea and execCommand. */
    return new Promise(function (resolve, reject) {
      var area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.style.position = "fixed";
      area.style.opacity = "0";
      document.body.appendChild(area);
      area.select();
      try {
        document.execCommand("copy") ? resolve() : reject(new Error("copy failed"));
      } catch (e) {
        reject(e);
      } finally {
        document.body.removeChild(area);
      }
    });
  }

  function announce(message) {
    var region = document.getElementById("live-region");
    if (!region) return;
    region.textContent = "";
    window.setTimeout(function () {
      region.textContent = message;
    }, 30);
  }

  function flash(button, ok) {
    var label = button.querySelector(".copy-label") || button;
    if (!button.hasAttribute("data-label")) button.setAttribute("data-label", label.textContent);
    var text = ok ? t(button, "copied", "Copied") : t(button, "copy-failed", "Copy failed");
    label.textContent = text;
    button.setAttribute("data-copied", ok ? "true" : "false");
    announce(text);
    window.setTimeout(function () {
      label.textContent = button.getAttribute("data-label");
      button.removeAttribute("data-copied");
    }, 1800);
  }

  function initCopy() {
    document.addEventListener("click", function (event) {
      var button = event.target.closest(".copy-btn");
      if (!button) return;
      var text = button.getAttribute("data-copy-text");
      if (text === null) {
        var selector = button.getAttribute("data-copy-target");
        var target = selector ? document.querySelector(selector) : null;
        if (!target && button.parentElement) target = button.parentElement.querySelector("pre, code");
        if (!target) return;
        text = "value" in target && typeof target.value === "string" ? target.value : target.textContent;
      }
      copyText(text.replace(/\n$/, "")).then(
        function () {
          flash(button, true);
        },
        function () {
          flash(button, false);
        }
      );
    });
  }

  function addCodeCopyButtons() {
    var n = 0;
    document.querySelectorAll(".prose pre").forEach(function (pre) {
      var holder = pre.parentElement && pre.parentElement.classList.contains("codehilite") ? pre.parentElement : pre;
      if (holder.querySelector(".copy-btn")) return;
      n += 1;
      if (!pre.id) pre.id = "code-" + n;
      /* A long line makes the block scroll sideways: keyboard users reach it with Tab (WCAG 2.1.1). */
      if (!pre.hasAttribute("tabindex")) pre.setAttribute("tabindex", "0");
      holder.classList.add("code-block");
      var button = document.createElement("button");
      button.type = "button";
      button.className = "copy-btn";
      button.setAttribute("data-copy-target", "#" + pre.id);
      button.innerHTML = '<span class="copy-label"></span>';
      button.querySelector(".copy-label").textContent = t(button, "copy", "Copy");
      holder.appendChild(button);
    });
  }

  /* Alerts --------------------------------------------------------------------- */
  function initAlerts() {
    document.addEventListener("click", function (event) {
      var button = event.target.closest(".alert-dismiss");
      if (!button) return;
      var alert = button.closest(".alert");
      if (alert) alert.remove();
    });
  }

  /* Docs: filter the navigation as you type ------------------------------------ */
  function initDocsFilter() {
    var input = document.querySelector("[data-docs-filter]");
    var nav = document.querySelector(".docs-nav");
    if (!input || !nav) return;
    input.addEventListener("input", function () {
      var q = input.value.trim().toLowerCase();
      nav.querySelectorAll("li").forEach(function (li) {
        li.hidden = q !== "" && li.textContent.toLowerCase().indexOf(q) === -1;
      });
      nav.querySelectorAll("[data-docs-section]").forEach(function (section) {
        section.hidden = section.querySelectorAll("li:not([hidden])").length === 0;
      });
    });
  }

  /* Skip link: move focus (not only the scroll position) to the target. */
  function initSkipLinks() {
    document.addEventListener("click", function (event) {
      var link = event.target.closest(".skip-link");
      if (!link) return;
      var target = document.querySelector(link.getAttribute("href"));
      if (!target) return;
      if (!target.hasAttribute("tabindex")) target.setAttribute("tabindex", "-1");
      target.focus();
    });
  }

  /* Global search --------------------------------------------------------- */
  function isTyping(el) {
    if (!el) return false;
    var tag = el.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || el.isContentEditable;
  }

  function initSearch() {
    var dialog = document.getElementById("search-dialog");
    if (!dialog) return;
    var input = dialog.querySelector("input[name=q]");
    var opener = null;
    function open() {
      opener = document.activeElement;
      if (typeof dialog.showModal === "function") {
        if (!dialog.open) dialog.showModal();
      } else {
        dialog.setAttribute("open", "");
      }
      input.focus();
      input.select();
    }
    document.addEventListener("keydown", function (event) {
      var ctrlK = (event.ctrlKey || event.metaKey) && (event.key === "k" || event.key === "K");
      var slash = event.key === "/" && !event.ctrlKey && !event.metaKey && !event.altKey && !isTyping(event.target);
      if (ctrlK || slash) {
        event.preventDefault();
        open();
      }
    });
    document.querySelectorAll("[data-search-open]").forEach(function (btn) {
      btn.addEventListener("click", function (event) {
        event.preventDefault();
        open();
      });
    });
    /* Escape closes at once, even while the search field has text (a search input would only clear it). */
    dialog.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && dialog.open) {
        event.preventDefault();
        dialog.close();
      }
    });
    dialog.addEventListener("close", function () {
      if (opener && typeof opener.focus === "function") opener.focus();
    });
    dialog.addEventListener("click", function (event) {
      if (event.target === dialog) dialog.close(); /* a click on the backdrop */
    });
  }

  function ready(fn) {
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", fn);
    else fn();
  }

  ready(function () {
    initTheme();
    initDisclosures();
    initCopy();
    addCodeCopyButtons();
    initAlerts();
    initDocsFilter();
    initSkipLinks();
    initSearch();
  });

  /* A tiny namespace for other pages' scripts. */
  window.VMCloud = { copyText: copyText, announce: announce, setTheme: setTheme };
})();
