/* The staff admin's little JavaScript: language tabs, confirmations, live slide preview.
   Everything works without it: panels are all shown, forms post normally. */
(function () {
  "use strict";

  // WAI-ARIA tabs (APG "tabs with automatic activation"): the links to the language sections
  // become a tablist of buttons; Left/Right move between them, Home/End jump to the ends.
  // Without JavaScript the links stay and every section is shown.
  function tabs() {
    var list = document.querySelector("ul.tabs");
    if (!list) return;
    var panels = Array.prototype.slice.call(document.querySelectorAll(".tab-panel"));
    if (!panels.length) return;
    var tablist = document.createElement("div");
    tablist.className = "tabs";
    tablist.setAttribute("role", "tablist");
    tablist.setAttribute("aria-label", list.dataset.tabsLabel || "");
    var buttons = Array.prototype.slice.call(list.querySelectorAll("a.tab")).map(function (a) {
      var b = document.createElement("button");
      var id = a.dataset.tab;
      b.type = "button";
      b.className = "tab";
      b.id = "tab-" + id;
      b.setAttribute("role", "tab");
      b.setAttribute("aria-controls", id);
      b.innerHTML = a.innerHTML;
      b.dataset.tab = id;
      tablist.appendChild(b);
      return b;
    });
    list.replaceWith(tablist);
    panels.forEach(function (p) {
      p.setAttribute("role", "tabpanel");
      p.setAttribute("aria-labelledby", "tab-" + p.id);
      p.setAttribute("tabindex", "0");
      var heading = p.querySelector(".panel-title");
      if (heading) heading.classList.add("visually-hidden");
    });
    function show(id, focus) {
      panels.forEach(function (p) { p.hidden = p.id !== id; });
      buttons.forEach(function (b) {
        var on = b.dataset.tab === id;
        b.classList.toggle("active", on);
        b.setAttribute("aria-selected", on ? "true" : "false");
        b.tabIndex = on ? 0 : -1;
        if (on && focus) b.focus();
      });
    }
    buttons.forEach(function (b, i) {
      b.addEventListener("click", function () { show(b.dataset.tab, false); });
      b.addEventListener("keydown", function (ev) {
        var next = null;
        if (ev.key === "ArrowRight") next = buttons[(i + 1) % buttons.length];
        else if (ev.key === "ArrowLeft") next = buttons[(i - 1 + buttons.length) % buttons.length];
        else if (ev.key === "Home") next = buttons[0];
        else if (ev.key === "End") next = buttons[buttons.length - 1];
        if (!next) return;
        ev.preventDefault();
        show(next.dataset.tab, true);
      });
    });
    // open the first panel holding an error, else Japanese
    var bad = document.querySelector(".tab-panel [aria-invalid='true']");
    show(bad ? bad.closest(".tab-panel").id : panels[0].id, false);
    // a required field in a hidden panel: reveal it so the browser can point at it
    document.querySelectorAll(".tab-panel [required]").forEach(function (el) {
      el.addEventListener("invalid", function () { show(el.closest(".tab-panel").id, false); });
    });
    // the error list's links lead into panels: open the panel first
    document.querySelectorAll(".error-list a").forEach(function (a) {
      a.addEventListener("click", function () {
        var target = document.getElementById(a.getAttribute("href").slice(1));
        var panel = target && target.closest(".tab-panel");
        if (panel) show(panel.id, false);
      });
    });
  }

  function confirmations() {
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (ev) {
        // a button marked data-no-confirm (a preview) changes nothing: no question asked
        if (ev.submitter && ev.submitter.hasAttribute("data-no-confirm")) return;
        if (!window.confirm(form.dataset.confirm)) ev.preventDefault();
      });
    });
  }

  function preview() {
    var form = document.getElementById("item-form");
    if (!form) return;
    var targets = {
      landscape: document.getElementById("preview-landscape"),
      portrait: document.getElementById("preview-portrait")
    };
    var timer = null;
    function refresh() {
      var data = new FormData(form);
      data.delete("image_file");
      Object.keys(targets).forEach(function (orientation) {
        var img = targets[orientation];
        fetch(form.dataset["preview" + orientation.charAt(0).toUpperCase() + orientation.slice(1)], {
          method: "POST", body: data, credentials: "same-origin"
        }).then(function (r) { return r.ok ? r.blob() : null; }).then(function (blob) {
          if (!blob) return;
          if (img.dataset.objectUrl) URL.revokeObjectURL(img.dataset.objectUrl);
          img.dataset.objectUrl = URL.createObjectURL(blob);
          img.src = img.dataset.objectUrl;
        }).catch(function () { /* keep the last preview */ });
      });
    }
    form.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(refresh, 800);
    });
    if (!targets.landscape.getAttribute("src")) refresh();
  }

  document.addEventListener("DOMContentLoaded", function () {
    tabs();
    confirmations();
    preview();
  });
})();
