import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';

export interface ChartPoint { label: string; series: string; value: number }

/**
 * A grouped bar chart (groups = session counts, bars = direction x shards) as SVG, converted to PNG
 * with rsvg-convert (Debian librsvg2-bin, in scripts/setup.sh). No network, no npm dependency.
 * Returns the PNG path, or null when rsvg-convert is missing (the SVG is still written).
 */
export function writeChart(file: string, title: string, yLabel: string, points: ChartPoint[]): string | null {
  const groups = [...new Set(points.map((p) => p.label))];
  const series = [...new Set(points.map((p) => p.series))];
  const max = Math.max(1e-9, ...points.map((p) => p.value));
  const W = 900, H = 480, L = 70, R = 200, T = 50, B = 60;
  const gw = (W - L - R) / Math.max(1, groups.length), bw = (gw * 0.8) / Math.max(1, series.length);
  const colors = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f'];
  const y = (v: number) => T + (H - T - B) * (1 - v / max);
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const parts: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="DejaVu Sans, sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`, `<text x="${W / 2}" y="25" text-anchor="middle" font-size="15">${esc(title)}</text>`];
  for (let k = 0; k <= 5; k++) {
    const v = (max * k) / 5;
    parts.push(`<line x1="${L}" x2="${W - R}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>`,
      `<text x="${L - 6}" y="${y(v) + 4}" text-anchor="end">${v.toFixed(v < 10 ? 2 : 1)}</text>`);
  }
  parts.push(`<text x="18" y="${(H - B + T) / 2}" transform="rotate(-90 18 ${(H - B + T) / 2})" text-anchor="middle">${esc(yLabel)}</text>`);
  groups.forEach((g, gi) => {
    parts.push(`<text x="${L + gw * gi + gw / 2}" y="${H - B + 20}" text-anchor="middle">${esc(g)}</text>`);
    series.forEach((s, si) => {
      const p = points.find((q) => q.label === g && q.series === s);
      if (!p) return;
      const x = L + gw * gi + gw * 0.1 + bw * si;
      parts.push(`<rect x="${x}" y="${y(p.value)}" width="${bw - 2}" height="${H - B - y(p.value)}" fill="${colors[si % colors.length]}"/>`,
        `<text x="${x + bw / 2 - 1}" y="${y(p.value) - 3}" text-anchor="middle" font-size="10">${p.value.toFixed(2)}</text>`);
    });
  });
  parts.push(`<line x1="${L}" x2="${W - R}" y1="${H - B}" y2="${H - B}" stroke="black"/>`);
  series.forEach((s, si) => {
    parts.push(`<rect x="${W - R + 15}" y="${T + si * 20}" width="12" height="12" fill="${colors[si % colors.length]}"/>`,
      `<text x="${W - R + 32}" y="${T + si * 20 + 10}">${esc(s)}</text>`);
  });
  parts.push('</svg>');
  const svg = file.replace(/\.png$/, '.svg');
  fs.writeFileSync(svg, parts.join('\n'));
  try {
    execFileSync('rsvg-convert', ['-o', file, svg], { stdio: 'ignore' });
    return file;
  } catch {
    return null;
  }
}
