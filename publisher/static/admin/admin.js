/* The staff admin's little JavaScript: language tabs, confirmations, live slide preview.
   Everything works without it: panels are all shown, forms post normally. */
(function () {
  "use strict";

  function tabs() {
    var links = document.querySelectorAll(".tabs .tab");
    if (!links.length) return;
    var panels = document.querySelectorAll(".tab-panel");
    function show(id) {
      panels.forEach(function (p) { p.hidden = p.id !== id; });
      links.forEach(function (a) {
        var on = a.dataset.tab === id;
        a.classList.toggle("active", on);
        if (on) { a.setAttribute("aria-current", "true"); } else { a.removeAttribute("aria-current"); }
      });
    }
    links.forEach(function (a) {
      a.addEventListener("click", function (ev) { ev.preventDefault(); show(a.dataset.tab); });
    });
    // open the first panel holding an error, else Japanese
    var bad = document.querySelector(".tab-panel [aria-invalid='true']");
    show(bad ? bad.closest(".tab-panel").id : panels[0].id);
    // a required field in a hidden panel: reveal it so the browser can point at it
    document.querySelectorAll(".tab-panel [required]").forEach(function (el) {
      el.addEventListener("invalid", function () { show(el.closest(".tab-panel").id); });
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
