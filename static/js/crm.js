// Progressive enhancements; every page works without them.
document.addEventListener("DOMContentLoaded", () => {
  // The language selector submits on change; its button is for browsers without JavaScript.
  document.querySelectorAll("select[data-autosubmit]").forEach((select) => {
    select.form.querySelector(".crm-nojs")?.classList.add("d-none");
    select.addEventListener("change", () => select.form.submit());
  });

  // A checkbox with data-select-all="name" ticks or clears every checkbox of that name in its form (the
  // rows of a list); it shows "some" when only part of them are ticked. Hidden without JavaScript.
  document.querySelectorAll("input[data-select-all]").forEach((all) => {
    const rows = () => Array.from(all.form.querySelectorAll(`input[type="checkbox"][name="${CSS.escape(all.dataset.selectAll)}"]`));
    const sync = () => {
      const ticked = rows().filter((box) => box.checked).length;
      all.checked = ticked > 0 && ticked === rows().length;
      all.indeterminate = ticked > 0 && ticked < rows().length;
    };
    all.closest(".crm-js-only")?.classList.remove("d-none");
    all.classList.remove("d-none");
    all.addEventListener("change", () => rows().forEach((box) => (box.checked = all.checked)));
    rows().forEach((box) => box.addEventListener("change", sync));
    sync();
  });

  // Org chart: filter people, positions and departments as you type.
  const filter = document.getElementById("org-filter");
  if (filter) {
    const count = document.getElementById("org-filter-count");
    filter.addEventListener("input", () => {
      const needle = filter.value.trim().toLowerCase();
      const matches = (node) => node.dataset.orgText.toLowerCase().includes(needle);
      let shown = 0;
      document.querySelectorAll(".org-position[data-org-text]").forEach((node) => {
        const hit = !needle || matches(node);
        node.classList.toggle("org-miss", !hit);
        if (hit && needle) shown += 1;
      });
      // innermost departments first: one stays when its name matches or anything inside it does
      Array.from(document.querySelectorAll("details.org-department")).reverse().forEach((d) => {
        const own = !!needle && matches(d);
        const inside = !!d.querySelector(":scope > .org-children > :not(.org-miss)");
        d.classList.toggle("org-miss", !!needle && !own && !inside);
        if (own) shown += 1;
        d.open = !needle || inside;
      });
      // the drawn charts keep their shape: the boxes that match are outlined
      document.querySelectorAll(".org-tree [data-org-text]").forEach((box) =>
        box.classList.toggle("org-hit", !!needle && matches(box)));
      count.textContent = needle ? count.dataset.template.replace("%s", shown) : "";
    });
    // a chart wider than the screen opens centred on its top box, not on its leftmost branch
    const centre = () => document.querySelectorAll(".org-tree-scroll").forEach((box) => {
      if (box.scrollWidth > box.clientWidth && box.dataset.centred !== "1" && box.clientWidth) {
        box.scrollLeft = (box.scrollWidth - box.clientWidth) / 2;
        box.dataset.centred = "1";
      }
    });
    centre();
    document.getElementById("org-views")?.addEventListener("shown.bs.tab", centre);
    const showOutline = () => {
      const tab = document.getElementById("org-tab-outline");
      if (tab && window.bootstrap) window.bootstrap.Tab.getOrCreateInstance(tab).show();
    };
    document.getElementById("org-expand")?.addEventListener("click", () => {
      showOutline();
      document.querySelectorAll("details.org-department").forEach((d) => (d.open = true));
    });
    document.getElementById("org-collapse")?.addEventListener("click", () => {
      showOutline();
      document.querySelectorAll("details.org-department").forEach((d) => (d.open = false));
    });
  }
});

// Phones: list tables turn into cards (crm.css); each cell is named by its column's header. Runs on the page
// and on every part htmx swaps in (htmx:load fires for both once htmx is loaded).
function labelTableCells(root) {
  const tables = root.matches?.("table") ? [root] : root.querySelectorAll?.("table") || [];
  tables.forEach((table) => {
    const headerRow = table.tHead?.rows[table.tHead.rows.length - 1];
    if (!headerRow) return;
    const names = [];
    Array.from(headerRow.cells).forEach((cell) => {
      for (let i = 0; i < cell.colSpan; i += 1) names.push(cell.textContent.trim().replace(/\s+/g, " "));
    });
    Array.from(table.tBodies).concat(table.tFoot ? [table.tFoot] : []).forEach((section) =>
      Array.from(section.rows).forEach((row) => {
        let column = 0;
        Array.from(row.cells).forEach((cell) => {
          if (!cell.hasAttribute("data-label") && cell.colSpan === 1 && names[column]) cell.dataset.label = names[column];
          column += cell.colSpan;
        });
      }));
  });
}
document.addEventListener("DOMContentLoaded", () => labelTableCells(document));
document.addEventListener("htmx:load", (event) => labelTableCells(event.target.closest?.("table") || event.target));

// Keyboard: an element with data-hotkey="k" is clicked when k is pressed outside a text field (the
// follow-up workspace: N for the next call, 1–5 for a call's outcome); Ctrl+Enter in a form with
// data-ctrl-enter submits it through its button of that value ("save and next call"). Listening on the
// document keeps working after htmx swaps the page's main part.
document.addEventListener("keydown", (event) => {
  const target = event.target;
  const form = target.closest?.("form[data-ctrl-enter]");
  if (form && event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
    event.preventDefault();
    const button = form.querySelector(`button[value="${form.dataset.ctrlEnter}"]`);
    if (button) button.click(); // a click, so htmx sends the button's name and value
    else form.requestSubmit();
    return;
  }
  if (event.ctrlKey || event.metaKey || event.altKey || target.isContentEditable) return;
  if (["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName) && target.type !== "radio" && target.type !== "checkbox") return;
  const element = document.querySelector(`[data-hotkey="${CSS.escape(event.key.toLowerCase())}"]`);
  if (element && !element.disabled) {
    event.preventDefault();
    element.focus();
    element.click();
  }
});

