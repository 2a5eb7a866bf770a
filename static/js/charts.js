// Charts of report and dashboard trends: <canvas data-chart="ID"> drawn from the JSON of <script id="ID"> (Django's
// json_script: {"type": "line" | "bar", "labels": [...], "series": [{"label": ..., "data": [...]}], "percent": bool});
// the table beside each chart has the same figures for those who cannot see it. Drawn when the page loads and in
// what htmx puts into it later (a segment's profile fetched after its page).
function drawCharts(root) {
  if (typeof Chart === "undefined") return;
  root.querySelectorAll("canvas[data-chart]").forEach((canvas) => {
    const source = document.getElementById(canvas.dataset.chart);
    if (!source || Chart.getChart(canvas)) return;
    const data = JSON.parse(source.textContent);
    const type = data.type === "bar" ? "bar" : "line";
    const options = {maintainAspectRatio: false, animation: false, interaction: {mode: "index", intersect: false}};
    if (data.percent) options.scales = {y: {suggestedMin: 0, suggestedMax: 100, ticks: {callback: (v) => `${v}%`}}};
    new Chart(canvas, {
      type,
      data: {
        labels: data.labels,
        datasets: data.series.map((series) => ({label: series.label, data: series.data, spanGaps: true, tension: 0.2})),
      },
      options,
    });
  });
}

document.addEventListener("DOMContentLoaded", () => drawCharts(document));
document.addEventListener("htmx:afterSettle", () => drawCharts(document));  // those drawn already are skipped
