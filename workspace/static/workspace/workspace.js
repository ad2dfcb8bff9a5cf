// The workspace's only script of its own (no inline scripts: a strict CSP allows this file).

// Moves keyboard focus to an error summary so screen readers announce what went wrong.
document.addEventListener("DOMContentLoaded", function () {
  var summary = document.querySelector(".nhsuk-error-summary");
  if (summary) {
    summary.focus();
  }
});

// An error summary's link moves focus to its field, its question scrolled into view (a
// fragment link alone only scrolls, and hides the label above the box): the NHS.UK error
// summary's behaviour.
document.addEventListener("click", function (event) {
  var link = event.target.closest(".nhsuk-error-summary__list a[href^='#']");
  var input = link && document.getElementById(link.getAttribute("href").slice(1));
  if (!input) {
    return;
  }
  event.preventDefault();
  var fieldset = input.closest("fieldset");
  var question = fieldset
    ? fieldset.querySelector("legend")
    : document.querySelector("label[for='" + input.id + "']");
  (question || input).scrollIntoView();
  input.focus({ preventScroll: true });
});

// A queue row drawn again in place (Take, Assign, Mark as read) keeps keyboard focus. htmx
// puts focus back on the control with the same id; when that control is gone (Take on a row
// that is now yours, a question asked instead, a reply read), focus goes to the row's
// question or sentence, else to its Take or Assign, never to the page's end. The row's data-news, if any, is said in the
// page's polite status region.
(function () {
  var kept = null;
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    kept = null;
    if (target && target.id && target.id.indexOf("row-") === 0 && target.contains(document.activeElement)) {
      kept = { row: target.id, control: document.activeElement.id };
    }
  });
  document.addEventListener("htmx:afterSettle", function () {
    if (!kept) {
      return;
    }
    var row = document.getElementById(kept.row);
    var number = kept.row.slice(4);
    var wanted = kept;
    kept = null;
    if (!row) {
      return;
    }
    var news = document.getElementById("row-news");
    if (news) {
      news.textContent = row.getAttribute("data-news") || "";
    }
    var active = document.activeElement;
    if (active && active !== document.body && row.contains(active)) {
      return;
    }
    var candidates = [
      wanted.control && document.getElementById(wanted.control),
      row.querySelector("[autofocus]"),
      row.querySelector("[tabindex='-1']"),
      document.getElementById("take-" + number),
      document.getElementById("assign-summary-" + number),
      row.querySelector("button, summary, a"),
    ];
    for (var i = 0; i < candidates.length; i++) {
      var element = candidates[i];
      if (element && row.contains(element) && element.getClientRects().length) {
        element.focus();
        return;
      }
    }
  });
})();
