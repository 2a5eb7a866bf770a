// Line charts of report trends: <canvas data-chart="ID"> drawn from the JSON of <script id="ID"> (Django's
// json_script: {"labels": [...], "series": [{"label": ..., "data": [...]}]}); the table under each chart has the
// same figures for those who cannot see it.
document.addEventListener("DOMContentLoaded", () => {
  if (typeof Chart === "undefined") return;
  document.querySelectorAll("canvas[data-chart]").forEach((canvas) => {
    const source = document.getElementById(canvas.dataset.chart);
    if (!source) return;
    const data = JSON.parse(source.textContent);
    new Chart(canvas, {
      type: "line",
      data: {
        labels: data.labels,
        datasets: data.series.map((series) => ({label: series.label, data: series.data, spanGaps: true, tension: 0.2})),
      },
      options: {maintainAspectRatio: false, animation: false, interaction: {mode: "index", intersect: false}},
    });
  });
});
