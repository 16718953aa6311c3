// Draws the dashboards' charts with Chart.js from the JSON the page embeds (#dashboard-charts).
// Each point leads where its table cell does: clicking a bar opens the cases behind it.
(function () {
  "use strict";

  const data = document.getElementById("dashboard-charts");
  if (!data || typeof Chart === "undefined") return;

  const style = getComputedStyle(document.documentElement);
  const colour = (name, fallback) => style.getPropertyValue(name).trim() || fallback;
  const palette = [
    colour("--accent", "#2557d6"),
    colour("--warn", "#b54708"),
    colour("--ok", "#067647"),
    colour("--email", "#6b4fbb"),
    colour("--danger", "#b42318"),
    colour("--muted", "#5f6b7a"),
  ];
  Chart.defaults.font.family = style.fontFamily;
  Chart.defaults.color = colour("--muted", "#5f6b7a");

  function draw(spec) {
    const canvas = document.getElementById(spec.id);
    if (!canvas) return;
    const valueAxis = spec.horizontal ? "x" : "y";
    const line = spec.type === "line";
    const chart = new Chart(canvas, {
      type: spec.type,
      data: {
        labels: spec.labels,
        datasets: spec.datasets.map((set, i) => ({
          label: set.label,
          data: set.data,
          backgroundColor: palette[i % palette.length],
          borderColor: palette[i % palette.length],
          borderWidth: line ? 2 : 0,
          tension: 0.2,
        })),
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        indexAxis: spec.horizontal ? "y" : "x",
        scales: {
          [valueAxis]: {
            beginAtZero: true,
            stacked: spec.stacked,
            title: { display: true, text: spec.unit },
            ticks: { precision: spec.unit === "cases" ? 0 : undefined },
          },
          [spec.horizontal ? "y" : "x"]: { stacked: spec.stacked },
        },
        plugins: {
          legend: { display: spec.datasets.length > 1, position: "bottom" },
          tooltip: { callbacks: { footer: () => "Click to see the cases" } },
        },
        onHover(event, elements) {
          const link = elements.length && linkOf(elements[0]);
          event.native.target.style.cursor = link ? "pointer" : "default";
        },
        onClick(event, elements) {
          const link = elements.length && linkOf(elements[0]);
          if (link) window.location.assign(link);
        },
      },
    });
    function linkOf(element) {
      return spec.datasets[element.datasetIndex].links[element.index];
    }
    return chart;
  }

  JSON.parse(data.textContent).forEach(draw);
})();
