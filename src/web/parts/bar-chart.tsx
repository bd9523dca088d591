/**
 * A bar chart drawn by uPlot (bundled, with its style sheet: nothing is fetched). uPlot sets
 * element styles through the CSSOM only (`el.style.width = ...`), which the pages' CSP
 * (`style-src 'self'`) allows: it injects no `<style>` and writes no `style` attribute.
 *
 * The chart is a picture of a table shown beside it: it is hidden from screen readers, and its
 * legend names each series in text.
 */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface BarSeries {
  label: string;
  /** One value per category; null draws no bar. */
  values: readonly (number | null)[];
  /** A palette variable of parts/theme.css, e.g. `--accent`. */
  color: string;
}

export interface BarChartProps {
  /** The categories along the x axis. */
  categories: readonly string[];
  /** One or two series: two are drawn side by side. */
  series: readonly BarSeries[];
  /** The y axis' ticks, e.g. `12 s` or `40%`. */
  format?: (value: number) => string;
  height?: number;
  /** Names the chart for tests (`data-chart`). */
  name: string;
}

function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888';
}

function options(props: BarChartProps, width: number): uPlot.Options {
  const { categories, series, format = String } = props;
  const text = cssVar('--muted');
  const grid = cssVar('--border');
  const aligns: (-1 | 0 | 1)[] = series.length === 1 ? [0] : [-1, 1];
  return {
    width,
    height: props.height ?? 160,
    legend: { show: false },
    cursor: { show: false },
    select: { show: false, left: 0, top: 0, width: 0, height: 0 },
    scales: {
      x: { time: false, range: [-0.5, categories.length - 0.5] },
      y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] },
    },
    axes: [
      {
        stroke: text,
        grid: { show: false },
        ticks: { show: false },
        size: 28,
        splits: () => categories.map((_, i) => i),
        values: (_u, splits) => splits.map((i) => categories[i] ?? ''),
      },
      {
        stroke: text,
        grid: { stroke: grid, width: 1 },
        ticks: { show: false },
        size: 56,
        values: (_u, splits) => splits.map((v) => format(v)),
      },
    ],
    series: [
      {},
      ...series.map((s, i) => ({
        label: s.label,
        fill: cssVar(s.color),
        stroke: cssVar(s.color),
        width: 0,
        points: { show: false },
        paths: uPlot.paths.bars?.({
          size: [series.length === 1 ? 0.6 : 0.35, 64],
          align: aligns[i],
        }),
      })),
    ],
  };
}

export function BarChart(props: BarChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const latest = useRef(props);
  latest.current = props;
  // Drawn again when what it shows changes, not on every render of the page.
  const shown = JSON.stringify([props.categories, props.series, props.height]);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const props = latest.current;
    const data: uPlot.AlignedData = [
      props.categories.map((_, i) => i),
      ...props.series.map((s) => [...s.values]),
    ];
    const chart = new uPlot(options(props, Math.max(200, el.clientWidth)), data, el);
    const resized = new ResizeObserver(() => {
      const width = Math.max(200, el.clientWidth);
      if (width !== chart.width) chart.setSize({ width, height: chart.height });
    });
    resized.observe(el);
    return () => {
      resized.disconnect();
      chart.destroy();
    };
  }, [shown]);
  return (
    <div class="chart" data-chart={props.name}>
      <div class="chart-canvas" ref={box} aria-hidden="true" />
      {props.series.length > 1 && (
        <ul class="chart-legend" aria-hidden="true">
          {props.series.map((s) => (
            <li key={s.label} class={`swatch swatch-${s.color.slice(2)}`}>
              {s.label}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
