/* Copy buttons beside read-only URL fields. Without JavaScript the buttons stay hidden and
   the field itself is selectable; with it, a click copies (or selects, where copying is not
   allowed) and says so on the button. */
(function () {
  "use strict";
  function copy(button) {
    var field = document.getElementById(button.dataset.copy);
    if (!field) return;
    var label = button.textContent;
    function done() {
      button.textContent = button.dataset.done;
      setTimeout(function () { button.textContent = label; }, 2000);
    }
    field.focus();
    field.select();
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(done, function () {});
    } else if (document.execCommand && document.execCommand("copy")) {
      done();
    }
  }
  function start() {
    document.querySelectorAll("button.copy[data-copy]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () { copy(button); });
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
