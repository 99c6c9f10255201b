/**
 * ECharts, imported per part (never the full bundle): line charts with a grid,
 * tooltip, legend and mark lines (targets), rendered as SVG (crisp on a TV
 * and in a printed PDF). Add a chart type here before using it.
 */
import { LineChart, type LineSeriesOption } from 'echarts/charts';
import {
  GridComponent, LegendComponent, MarkLineComponent, TooltipComponent,
  type GridComponentOption, type LegendComponentOption, type MarkLineComponentOption, type TooltipComponentOption,
} from 'echarts/components';
import { init, use, type ComposeOption, type ECharts } from 'echarts/core';
import { SVGRenderer } from 'echarts/renderers';

// No AriaComponent: each chart's container carries its own label (Chart.svelte), which ECharts' aria would overwrite.
use([LineChart, GridComponent, TooltipComponent, LegendComponent, MarkLineComponent, SVGRenderer]);

export type ChartOption = ComposeOption<LineSeriesOption | GridComponentOption | TooltipComponentOption | LegendComponentOption | MarkLineComponentOption>;
export type { ECharts };

export function createChart(element: HTMLElement): ECharts {
  return init(element, undefined, { renderer: 'svg' });
}
