/**
 * Chart options built from KPI data: the wallboard's sparklines and the
 * manager's trend charts with the target drawn as a mark line.
 */
import type { Status } from '../lib/status.js';
import type { ChartOption } from './echarts.js';

export const STATUS_COLOURS: Record<'light' | 'dark', Record<Status, string>> = {
  light: { ok: '#1b7f46', warn: '#b7791f', bad: '#c53030', none: '#718096' },
  dark: { ok: '#48bb78', warn: '#f6c343', bad: '#fc6b6b', none: '#a0aec0' },
};

/** A day's sparkline: no axes, the line in the tile's status colour, the target dashed. */
export function sparklineOption(values: readonly (number | null)[], target: number | null, status: Status): ChartOption {
  const colour = STATUS_COLOURS.dark[status];
  // The latest value gets a dot, so a day with one bucket so far still shows where it stands.
  let last = -1;
  values.forEach((v, i) => { if (v !== null) last = i; });
  return {
    animation: false,
    grid: { left: 2, right: 2, top: 4, bottom: 2 },
    xAxis: { type: 'category', show: false, boundaryGap: false, data: values.map((_, i) => i) },
    yAxis: { type: 'value', show: false, scale: true },
    series: [{
      type: 'line',
      data: [...values],
      showSymbol: true,
      symbol: 'circle',
      symbolSize: (_value: unknown, params: { dataIndex: number }) => (params.dataIndex === last ? 9 : 0),
      connectNulls: false,
      lineStyle: { width: 3, color: colour },
      itemStyle: { color: colour },
      areaStyle: { color: colour, opacity: 0.15 },
      markLine: target === null ? { data: [] } : {
        silent: true, symbol: 'none', label: { show: false },
        lineStyle: { type: 'dashed', color: '#cbd5e0', width: 1 },
        data: [{ yAxis: target }],
      },
    }],
  };
}

export interface TrendLine {
  name: string;
  points: { t: string; value: number | null }[];
}

/** Trend lines over time with the target as a labelled mark line. `format` renders values (percentages, seconds). */
export function trendOption(lines: readonly TrendLine[], target: number | null, targetLabel: string, format: (value: number) => string, formatTime: (t: string) => string): ChartOption {
  const times = lines[0]?.points.map((p) => p.t) ?? [];
  return {
    animation: false,
    tooltip: { trigger: 'axis', valueFormatter: (value) => (typeof value === 'number' ? format(value) : '—') },
    legend: { show: lines.length > 1, bottom: 0 },
    grid: { left: 64, right: 24, top: 24, bottom: lines.length > 1 ? 48 : 32 },
    xAxis: { type: 'category', boundaryGap: false, data: times, axisLabel: { formatter: (t: string) => formatTime(t) } },
    yAxis: {
      type: 'value',
      scale: true,
      // The target is always in view, even when every value sits far from it.
      ...(target === null ? {} : {
        min: (extent: { min: number; max: number }) => Math.min(extent.min, target),
        max: (extent: { min: number; max: number }) => Math.max(extent.max, target),
      }),
      axisLabel: { formatter: (v: number) => format(v) },
    },
    series: lines.map((line, i) => ({
      type: 'line' as const,
      name: line.name,
      data: line.points.map((p) => p.value),
      // Small dots: a bucket standing alone between empty ones is still seen.
      showSymbol: true,
      symbolSize: 4,
      connectNulls: false,
      ...(i === 0 && target !== null ? {
        markLine: {
          symbol: 'none',
          label: { formatter: `${targetLabel} ${format(target)}`, position: 'insideEndTop' as const },
          lineStyle: { type: 'dashed' as const, color: '#c53030', width: 2 },
          data: [{ yAxis: target }],
        },
      } : {}),
    })),
  };
}
