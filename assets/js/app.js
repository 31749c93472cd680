// Starts GOV.UK Frontend's components (error summary focus, character count, ...).
// htmx is loaded on its own and only enhances: every page works without JavaScript.
import { initAll } from "./govuk-frontend.min.js";

initAll();
document.body.addEventListener("htmx:afterSwap", (event) => initAll({ scope: event.target }));
