// Started from a file, never inline, so the Content-Security-Policy can forbid inline scripts.
document.addEventListener("DOMContentLoaded", function () {
  if (window.DKFDS) {
    window.DKFDS.init();
    // dkfds.js writes its overflow button's label ("Mere") in Danish; the menu carries the translation.
    var label = document.querySelector(".navigation-menu [data-more-label]");
    var more = document.querySelector(".navigation-menu .more-button span");
    if (label && more) {
      more.textContent = label.getAttribute("data-more-label");
    }
  }
});

// An irreversible action asks first in its DKFDS modal (ordering/_confirm_modal.html); the modal's own
// button sends the form with confirmed=1. Without this script the server asks on a page instead.
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-confirm-modal]");
  var modal = button && document.getElementById(button.getAttribute("data-confirm-modal"));
  if (!modal || !window.DKFDS || !window.DKFDS.Modal) {
    return;
  }
  event.preventDefault();
  new window.DKFDS.Modal(modal).show(event);
});
