// The API's docs page (/api/v1/docs/): Swagger UI over the schema named by #swagger-ui's data-schema-url.
// A file of its own, not an inline script: the Content-Security-Policy allows scripts from this site only.
window.addEventListener("DOMContentLoaded", function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.schemaUrl,
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    persistAuthorization: false,
    tryItOutEnabled: false,
  });
});
