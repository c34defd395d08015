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
  showChosenDates(modal);
  new window.DKFDS.Modal(modal).show(event);
});

// The confirmation names the date the action takes effect on (TransitionSpec.consequence, the include
// ordering/_consequence.html): the one in its form's date field now, in the page's short date format
// (SHORT_DATE_FORMAT: d.m.Y, or d/m/Y in English).
function showChosenDates(modal) {
  Array.prototype.forEach.call(modal.querySelectorAll("[data-date-of]"), function (sentence) {
    var field = document.getElementById(sentence.getAttribute("data-date-of"));
    var parts = field && /^(\d{4})-(\d{2})-(\d{2})$/.exec(field.value);
    if (!parts) {
      return; // no date chosen: the server's date stays, and the server checks what is sent
    }
    var pieces = { Y: parts[1], m: parts[2], d: parts[3], j: String(Number(parts[3])), n: String(Number(parts[2])) };
    var date = sentence.getAttribute("data-date-format").replace(/[Ymdjn]/g, function (token) {
      return pieces[token];
    });
    sentence.textContent = sentence.getAttribute("data-consequence").replace("%(on)s", date);
  });
}

// Two minutes before the idle logout (accounts/sessions.py, SESSION_IDLE_TIMEOUT), the DKFDS dialog
// _session_expiring.html offers to stay logged in. The page says how much idle time is left as the server
// counts it (data-session-idle); every htmx answer says it again (the Session-Idle-Left header), so the
// countdown starts again from what the server says.
(function () {
  var WARN_BEFORE_SECONDS = 120;
  var timer = null;

  function idleSeconds() {
    return parseInt(document.body && document.body.getAttribute("data-session-idle"), 10) || 0;
  }

  function dialog() {
    var element = document.getElementById("session-expiring");
    return element && window.DKFDS && window.DKFDS.Modal ? new window.DKFDS.Modal(element) : null;
  }

  function schedule() {
    var idle = idleSeconds();
    if (!idle) {
      return;
    }
    window.clearTimeout(timer);
    timer = window.setTimeout(function () {
      var modal = dialog();
      if (modal) {
        modal.show();
      }
    }, Math.max(0, idle - WARN_BEFORE_SECONDS) * 1000);
  }

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"];
    } catch (error) {
      return "";
    }
  }

  document.addEventListener("DOMContentLoaded", schedule);
  function takeIdleLeft(value) {
    if (value && document.body) {
      document.body.setAttribute("data-session-idle", value);
    }
  }

  document.addEventListener("htmx:afterRequest", function (event) {
    var xhr = event.detail && event.detail.xhr;
    takeIdleLeft(xhr && xhr.getResponseHeader("Session-Idle-Left"));
    schedule();
  });
  document.addEventListener("click", function (event) {
    if (!event.target.closest("#session-extend")) {
      return;
    }
    fetch(document.body.getAttribute("data-session-extend"), {
      method: "POST",
      credentials: "same-origin",
      redirect: "manual",
      headers: { "X-CSRFToken": csrfToken() },
    }).then(function (response) {
      if (response.status === 204) {
        takeIdleLeft(response.headers.get("Session-Idle-Left"));
        var modal = dialog();
        if (modal) {
          modal.hide();
        }
        schedule();
      } else {
        window.location.reload(); // the session had ended: the page shows the login, then comes back here
      }
    });
  });
})();

// What is typed in a long form (data-keep-typed) stays in this browser's tab until it is sent, so a login
// in between (the session ended) loses nothing: the form is filled in again when the page comes back.
(function () {
  var SKIP = { csrfmiddlewaretoken: true, form_token: true };
  var PREFIX = "opus-adgang:typed:";

  // Per user: the next person in the same tab (another customer, perhaps) never gets someone else's draft.
  function key(form) {
    var user = document.body.getAttribute("data-user") || "";
    return PREFIX + user + ":" + window.location.pathname + ":" + (form.getAttribute("id") || "");
  }

  function forgetAll() {
    for (var i = window.sessionStorage.length - 1; i >= 0; i--) {
      var stored = window.sessionStorage.key(i);
      if (stored && stored.indexOf(PREFIX) === 0) {
        window.sessionStorage.removeItem(stored);
      }
    }
  }

  // Logging out forgets every draft of this tab.
  document.addEventListener("submit", function (event) {
    if (event.target.hasAttribute && event.target.hasAttribute("data-forget-typed")) {
      forgetAll();
    }
  });

  function save(form) {
    var values = {};
    Array.prototype.forEach.call(form.elements, function (field) {
      if (!field.name || SKIP[field.name] || field.type === "hidden" || field.type === "file") {
        return;
      }
      if (field.type === "checkbox" || field.type === "radio") {
        values[field.name + "=" + field.value] = field.checked;
      } else {
        values[field.name] = field.value;
      }
    });
    window.sessionStorage.setItem(key(form), JSON.stringify(values));
  }

  function restore(form) {
    var stored = window.sessionStorage.getItem(key(form));
    if (!stored || form.querySelector(".form-error")) {
      return; // nothing kept, or the server shows the form again with what was sent
    }
    var values = JSON.parse(stored);
    Array.prototype.forEach.call(form.elements, function (field) {
      if (!field.name || SKIP[field.name] || field.type === "hidden" || field.type === "file") {
        return;
      }
      if (field.type === "checkbox" || field.type === "radio") {
        var checked = values[field.name + "=" + field.value];
        if (checked !== undefined) {
          field.checked = checked;
        }
      } else if (values[field.name] !== undefined && !field.value) {
        field.value = values[field.name];
      }
    });
    form.dispatchEvent(new Event("change", { bubbles: true })); // the live preview catches up
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (!document.body.getAttribute("data-user")) {
      return; // on the login page nothing is kept or restored: the draft waits for its own user
    }
    Array.prototype.forEach.call(document.querySelectorAll("form[data-keep-typed]"), function (form) {
      restore(form);
      form.addEventListener("input", function () {
        save(form);
      });
      form.addEventListener("change", function () {
        save(form);
      });
      form.addEventListener("submit", function () {
        window.sessionStorage.removeItem(key(form));
      });
    });
  });
})();

// While the database cannot be reached the server answers an htmx request with 503, Retry-After and a short
// notice (config/outage.py). htmx swaps no error answer into its target, so the notice goes at the top of the
// page's content instead (the target keeps what it showed), and goes again with the next answer that is not 503.
(function () {
  var NOTICE = "database-unreachable";

  document.addEventListener("htmx:beforeSwap", function (event) {
    var xhr = event.detail && event.detail.xhr;
    if (!xhr || xhr.status !== 503 || !xhr.getResponseHeader("Retry-After")) {
      return;
    }
    var main = document.getElementById("main-content");
    if (!main) {
      return;
    }
    var notice = document.getElementById(NOTICE) || document.createElement("div");
    notice.id = NOTICE;
    notice.innerHTML = xhr.responseText; // our own fragment (templates/_database_unreachable.html), same origin
    main.insertBefore(notice, main.firstChild);
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    var xhr = event.detail && event.detail.xhr;
    var notice = document.getElementById(NOTICE);
    if (notice && xhr && xhr.status && xhr.status !== 503) {
      notice.remove();
    }
  });
})();
