/**
 * Jool's time notation for the session timeouts: "[[HH:]MM:]SS[.mmm]" ("5:00" is five minutes,
 * "2:00:00" two hours). A bare number (JSON number or digits on the command line) is seconds, which
 * is what the same notation means without colons.
 */
import { Nat64Error, q } from './errors';

const TIME = /^(?:(?:([0-9]+):)?([0-9]+):)?([0-9]+)(?:\.([0-9]{1,3}))?$/;

export function parseJoolTime(value: unknown, field: string): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) throw bad(field, value);
    return Math.round(value * 1000);
  }
  if (typeof value !== 'string') throw bad(field, value);
  const m = TIME.exec(value.trim());
  if (!m) throw bad(field, value);
  const [, hh, mm, ss, frac] = m;
  // Only the leading component may exceed 59 ("90:00" is fine, "1:75:00" is a typo).
  if ((hh !== undefined && Number(mm) > 59) || (mm !== undefined && Number(ss) > 59)) throw bad(field, value);
  const ms = frac === undefined ? 0 : Number(frac.padEnd(3, '0'));
  return ((Number(hh ?? 0) * 60 + Number(mm ?? 0)) * 60 + Number(ss)) * 1000 + ms;
}

function bad(field: string, value: unknown): Nat64Error {
  return new Nat64Error('E_BAD_VALUE', `${field}: ${q(value)} is not a time ([[HH:]MM:]SS[.mmm], such as 5:00)`);
}

/** "H:MM:SS" (plus ".mmm" when needed), which parseJoolTime reads back unchanged. */
export function formatJoolTime(ms: number): string {
  const frac = ms % 1000;
  const totalS = Math.floor(ms / 1000);
  const h = Math.floor(totalS / 3600);
  const m = Math.floor((totalS % 3600) / 60);
  const s = totalS % 60;
  const base = `${h}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}`;
  return frac ? `${base}.${String(frac).padStart(3, '0')}` : base;
}
