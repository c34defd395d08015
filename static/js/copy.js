// The copy buttons of _copy_button.html: copy their field's text and say so in the live region next to them.
// Started from a file, never inline (the Content-Security-Policy forbids inline scripts). Without this script the
// buttons stay hidden, and the field can still be selected and copied by hand.
(function () {
  function say(button, text) {
    var status = document.getElementById(button.getAttribute("aria-describedby"));
    if (status) {
      status.textContent = "";
      // Emptied first, so a screen reader announces the same sentence again on a second press.
      window.setTimeout(function () {
        status.textContent = text;
      }, 50);
    }
  }

  function copyBySelection(field) {
    field.focus();
    field.select();
    try {
      return document.execCommand("copy");
    } catch (error) {
      return false;
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("[data-copy-target]"), function (button) {
      button.hidden = false;
    });
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy-target]");
    var field = button && document.getElementById(button.getAttribute("data-copy-target"));
    if (!field) {
      return;
    }
    var done = function () {
      say(button, button.getAttribute("data-copied-text"));
    };
    var failed = function () {
      say(button, button.getAttribute(copyBySelection(field) ? "data-copied-text" : "data-copy-failed-text"));
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(done, failed);
    } else {
      failed();
    }
  });
})();
