/**
 * Kubernetes resource quantities (`4Gi`, `500m`, `1.5`, `2e3`) as numbers, for comparing a
 * session's request with its template's bounds. The grammar is apimachinery's; values are
 * returned in base units (bytes, cores) as floats, which is exact enough for comparisons of
 * desktop-sized resources.
 */
const BINARY: Record<string, number> = {
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};
const DECIMAL: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
};

const PATTERN = /^([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))((?:[KMGTPE]i)|[numkMGTPE]|(?:[eE][-+]?[0-9]+))?$/;

export function parseQuantity(q: string): number {
  const m = PATTERN.exec(q.trim());
  if (!m) throw new Error(`'${q}' is not a Kubernetes quantity (e.g. 4Gi, 512Mi, 500m, 2)`);
  const value = Number(m[1]);
  const suffix = m[2] ?? '';
  if (suffix in BINARY) return value * BINARY[suffix]!;
  if (suffix in DECIMAL) return value * DECIMAL[suffix]!;
  return value * 10 ** Number(suffix.slice(1));
}

/** Millicores of a CPU quantity, rounded up (the API server rounds CPU to 1m). */
export function cpuMillis(q: string): number {
  return Math.ceil(parseQuantity(q) * 1000 - 1e-9);
}
