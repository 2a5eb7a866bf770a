// Progressive enhancements; every page works without them.
document.addEventListener("DOMContentLoaded", () => {
  // The language selector submits on change; its button is for browsers without JavaScript.
  document.querySelectorAll("select[data-autosubmit]").forEach((select) => {
    select.form.querySelector(".crm-nojs")?.classList.add("d-none");
    select.addEventListener("change", () => select.form.submit());
  });

  // Org chart: filter people, positions and departments as you type.
  const filter = document.getElementById("org-filter");
  if (filter) {
    const nodes = Array.from(document.querySelectorAll("[data-org-text]"));
    const count = document.getElementById("org-filter-count");
    filter.addEventListener("input", () => {
      const needle = filter.value.trim().toLowerCase();
      let shown = 0;
      nodes.forEach((node) => {
        const hit = !needle || node.dataset.orgText.toLowerCase().includes(needle);
        node.classList.toggle("org-miss", !hit);
        if (hit && needle) shown += 1;
      });
      document.querySelectorAll("details.org-department").forEach((d) => {
        if (needle) d.open = !!d.querySelector("[data-org-text]:not(.org-miss)");
      });
      count.textContent = needle ? count.dataset.template.replace("%s", shown) : "";
    });
    document.getElementById("org-expand")?.addEventListener("click", () =>
      document.querySelectorAll("details.org-department").forEach((d) => (d.open = true)));
    document.getElementById("org-collapse")?.addEventListener("click", () =>
      document.querySelectorAll("details.org-department").forEach((d) => (d.open = false)));
  }
});
