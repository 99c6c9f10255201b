/**
 * A tile-grid map of China's 31 provincial-level regions (one square each,
 * placed roughly where the region lies), so a supervisor sees at a glance
 * whether trouble is in the south or the north. Regions a configuration adds
 * beyond these are placed in rows below.
 */

/** [row, column] of each region code (ISO 3166-2:CN without the prefix). */
export const CHINA_TILE_GRID: Readonly<Record<string, readonly [number, number]>> = {
  NM: [0, 4], JL: [0, 6], HL: [0, 7],
  XJ: [1, 0], GS: [1, 2], NX: [1, 3], SX: [1, 4], BJ: [1, 5], TJ: [1, 6], LN: [1, 7],
  QH: [2, 1], SN: [2, 3], HA: [2, 4], HE: [2, 5], SD: [2, 6],
  XZ: [3, 0], SC: [3, 2], CQ: [3, 3], HB: [3, 4], AH: [3, 5], JS: [3, 6],
  YN: [4, 2], GZ: [4, 3], HN: [4, 4], JX: [4, 5], ZJ: [4, 6], SH: [4, 7],
  GX: [5, 3], GD: [5, 4], FJ: [5, 5],
  HI: [6, 4],
};

export const GRID_COLUMNS = 8;

export interface GridCell {
  code: string;
  row: number;
  column: number;
}

/** Grid positions (0-based) for the given regions; unknown codes fill rows after the map, in the order given. */
export function gridCells(codes: readonly string[]): GridCell[] {
  const known = codes.filter((c) => c in CHINA_TILE_GRID);
  const lastRow = known.reduce((max, c) => Math.max(max, CHINA_TILE_GRID[c]![0]), -1);
  const cells = known.map((code) => ({ code, row: CHINA_TILE_GRID[code]![0], column: CHINA_TILE_GRID[code]![1] }));
  codes.filter((c) => !(c in CHINA_TILE_GRID)).forEach((code, i) => {
    cells.push({ code, row: lastRow + 1 + Math.floor(i / GRID_COLUMNS), column: i % GRID_COLUMNS });
  });
  return cells;
}
