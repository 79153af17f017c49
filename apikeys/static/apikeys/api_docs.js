// API documentation page: Swagger UI from the broker's own static files (no CDN), configured
// here rather than inline so the page runs under the site's strict CSP.
"use strict";

const root = document.getElementById("swagger-ui");
window.SwaggerUIBundle({
  url: root.dataset.schemaUrl,
  dom_id: "#swagger-ui",
  deepLinking: true,
  // No call to the public online validator: the page must not talk to anyone but the broker.
  validatorUrl: null,
  // Keys are typed into "Authorize" each visit; never kept in localStorage.
  persistAuthorization: false,
  presets: [window.SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
});
