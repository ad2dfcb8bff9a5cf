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
