// Progressive enhancement only: every action works without this file (plain forms + redirects).
// With htmx boosting the forms, the page is swapped in place; this keeps keyboard and screen-reader
// users where they were: focus moves to the card they acted on, or to the status message.
(function () {
  "use strict";

  function restoreFocus() {
    var notice = document.getElementById("notice");
    if (!notice) return;
    var id = notice.getAttribute("data-focus");
    var card = id ? document.getElementById(id) : null;
    var target = card || (notice.textContent.trim() ? notice : null);
    if (!target) return;
    target.focus({ preventScroll: true });
    target.scrollIntoView({ block: "center" });
  }

  document.addEventListener("htmx:afterSettle", function (event) {
    var detail = event.detail || {};
    if (!detail.boosted) return;
    if (detail.requestConfig && detail.requestConfig.verb === "get") {
      // A new page: start at its top, with focus on its content (as a full load would), or
      // at the part its link names ("Show 11 more" opens its group where it was).
      var named = window.location.hash ? document.getElementById(window.location.hash.slice(1)) : null;
      var main = document.getElementById("main");
      if (named) {
        named.scrollIntoView({ block: "start" });
      } else {
        window.scrollTo(0, 0);
      }
      if (main) main.focus({ preventScroll: true });
      return;
    }
    restoreFocus();
  });
})();
