// The workspace's only script of its own (no inline scripts: a strict CSP allows this file).
// Moves keyboard focus to an error summary so screen readers announce what went wrong.
document.addEventListener("DOMContentLoaded", function () {
  var summary = document.querySelector(".nhsuk-error-summary");
  if (summary) {
    summary.focus();
  }
});
