// Starts GOV.UK Frontend's components (error summary focus, character count, ...).
// htmx is loaded on its own and only enhances: every page works without JavaScript.
import { initAll } from "./govuk-frontend.min.js";

initAll();
document.body.addEventListener("htmx:afterSwap", (event) => initAll({ scope: event.target }));

// When a swap removes the control that had focus (a button replaced by a message), keyboard and
// screen reader users would be left on <body>: move focus to the message marked data-fd-focus.
document.body.addEventListener("htmx:afterSettle", () => {
  const message = document.querySelector("[data-fd-focus]");
  if (message && (document.activeElement === document.body || !document.activeElement)) {
    message.focus();
  }
  message?.removeAttribute("data-fd-focus");
});
