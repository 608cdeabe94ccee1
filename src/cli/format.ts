/**
 * Output of display commands: an aligned table for people, CSV (Jool's --csv) and JSON for
 * programs. JSON is the daemon's result verbatim, so its field names are the protocol's
 * (docs/cli.md lists them); CSV columns use the same names.
 */
export interface Column<R> { key: string; header: string; get?: (row: R) => unknown }
export type OutputMode = 'table' | 'csv' | 'json';

const cell = (v: unknown): string => v === null || v === undefined ? '' : Array.isArray(v) ? v.join(',') : String(v);

function value<R>(c: Column<R>, row: R): string {
  return cell(c.get ? c.get(row) : (row as Record<string, unknown>)[c.key]);
}

export function table<R>(columns: Column<R>[], rows: R[], headers = true): string {
  const grid = rows.map((r) => columns.map((c) => value(c, r)));
  const widths = columns.map((c, i) => Math.max(headers ? c.header.length : 0, ...grid.map((g) => g[i].length)));
  const line = (cells: string[]) => cells.map((s, i) => s.padEnd(widths[i])).join('  ').trimEnd();
  const out = headers ? [line(columns.map((c) => c.header)), line(widths.map((w) => '-'.repeat(w)))] : [];
  return out.concat(grid.map(line)).map((l) => l + '\n').join('');
}

/** RFC 4180: quote a field holding a comma, a quote or a line break. */
function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csv<R>(columns: Column<R>[], rows: R[], headers = true): string {
  const lines = rows.map((r) => columns.map((c) => csvField(value(c, r))).join(','));
  if (headers) lines.unshift(columns.map((c) => c.key).join(','));
  return lines.map((l) => l + '\n').join('');
}

export function json(v: unknown): string {
  return JSON.stringify(v, null, 2) + '\n';
}

export function render<R>(mode: OutputMode, columns: Column<R>[], rows: R[], headers = true): string {
  if (mode === 'json') return json(rows);
  return mode === 'csv' ? csv(columns, rows, headers) : table(columns, rows, headers);
}
