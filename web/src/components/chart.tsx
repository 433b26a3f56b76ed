/** A uPlot time-series chart; `window` holds the points, `version` changes when they do. */
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import type { SeriesWindow } from "../series.js";

const windowSeconds = 300;
const palette = [
  "#2f7ed8",
  "#d9534f",
  "#5cb85c",
  "#f0ad4e",
  "#8e44ad",
  "#16a085",
  "#7f8c8d",
  "#c0392b",
  "#2c3e50",
];

export function Chart(props: {
  title: string;
  unit: string;
  window: SeriesWindow;
  version: number;
  id: string;
}) {
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<{ chart: uPlot; names: string } | undefined>(undefined);
  const { window: series } = props;
  const points = series
    .data()
    .slice(1)
    .reduce((sum, line) => sum + line.filter((value) => value !== null).length, 0);

  useEffect(() => {
    const element = host.current;
    if (element === null) return;
    const names = series.names.join("\u0000");
    if (plot.current === undefined || plot.current.names !== names) {
      plot.current?.chart.destroy();
      const chart = new uPlot(
        {
          width: Math.max(280, element.clientWidth),
          height: 170,
          series: [
            {},
            ...series.names.map((name, index) => ({
              label: name,
              stroke: palette[index % palette.length] ?? "#2f7ed8",
              width: 2,
              spanGaps: false,
            })),
          ],
          // The x axis always spans the last five minutes, however few points there are yet.
          scales: { x: { time: true, range: (_plot, _min, max) => [max - windowSeconds, max + 1] } },
          axes: [{}, { label: props.unit, size: 60 }],
          legend: { live: false },
        },
        series.data(),
        element,
      );
      plot.current = { chart, names };
    } else plot.current.chart.setData(series.data());
  }, [props.version, series]);

  useEffect(() => () => plot.current?.chart.destroy(), []);

  return (
    <figure class="chart" id={props.id} data-points={points} aria-label={`${props.title} chart`}>
      <figcaption>
        {props.title} <span class="muted">({props.unit})</span>
        {points === 0 && <span class="muted"> — no data in the last minute yet</span>}
      </figcaption>
      <div ref={host} />
    </figure>
  );
}
