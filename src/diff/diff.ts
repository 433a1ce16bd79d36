/**
 * `lockstep diff A B`: metrics of two .npy files, or of every tensor two
 * trace folders both hold (like TPU-MLIR's npz_tool compare, with lockstep's
 * metrics). Tensors only one side holds are listed, not failed.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { UsageError } from '../errors.ts';
import { DEFAULT_TOLERANCE, compareTensors, errorStatistics, type ErrorStatistics, type MetricSet, type Tolerance } from '../metrics/index.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { readNpy } from '../tensor/npy.ts';
import { TraceReader } from '../trace/reader.ts';
import { type SettingDifference, fromManifest, settingDifferences } from '../lockstep/settings-diff.ts';

export interface DiffRow {
  tensor: string;
  /** The same keys as a report.json tensor entry. */
  metrics: MetricSet & ErrorStatistics;
}

export interface DiffResult {
  rows: DiffRow[];
  onlyInA: string[];
  onlyInB: string[];
  /** Two traces: the pipeline settings their manifests record differently (empty for .npy files). */
  settingsDiffer: SettingDifference[];
}

/** Both passes, as the engine records a tensor in report.json. */
function measure(a: Tensor, b: Tensor, name: string, tol: Tolerance): DiffRow['metrics'] {
  return { ...compareTensors(a, b, name), ...errorStatistics(a, b, tol) };
}

export function diffPaths(a: string, b: string, tol: Tolerance = DEFAULT_TOLERANCE): DiffResult {
  const kind = (p: string) => {
    if (!existsSync(p)) throw new UsageError(`${p}: no such file or folder`);
    return statSync(p).isDirectory() ? 'dir' : 'file';
  };
  const [ka, kb] = [kind(a), kind(b)];
  if (ka !== kb) throw new UsageError(`cannot diff a ${ka === 'dir' ? 'folder' : 'file'} (${a}) with a ${kb === 'dir' ? 'folder' : 'file'} (${b}): give two .npy files or two trace folders`);
  if (ka === 'file') return { rows: [{ tensor: 'tensor', metrics: measure(readNpy(a), readNpy(b), `${a} vs ${b}`, tol) }], onlyInA: [], onlyInB: [], settingsDiffer: [] };
  return diffTraces(new TraceReader(a), new TraceReader(b), tol);
}

function diffTraces(a: TraceReader, b: TraceReader, tol: Tolerance): DiffResult {
  const namesA = npyNames(a.dir);
  const namesB = new Set(npyNames(b.dir));
  const rows: DiffRow[] = [];
  for (const name of namesA.filter((n) => namesB.has(n))) {
    const ta = a.get(name)!;
    const tb = b.get(name)!;
    if (ta.data.length !== tb.data.length) throw new UsageError(`${name}: shapes differ between the traces ([${ta.dims}] vs [${tb.dims}])`);
    rows.push({ tensor: name, metrics: measure(ta, { ...tb, dims: ta.dims }, name, tol) });
  }
  const setA = new Set(namesA);
  return {
    rows,
    onlyInA: namesA.filter((n) => !namesB.has(n)),
    onlyInB: [...namesB].filter((n) => !setA.has(n)),
    settingsDiffer: settingDifferences(fromManifest(a.manifest), fromManifest(b.manifest)),
  };
}

/** Every .npy below the folder, as trace names (no extension), in execution order. */
function npyNames(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir).sort()) {
      const p = join(dir, entry);
      if (statSync(p).isDirectory()) walk(p);
      else if (entry.endsWith('.npy')) out.push(relative(root, p).replace(/\.npy$/, ''));
    }
  };
  walk(root);
  const rank = (n: string) => (n.startsWith('text/') ? 0 : n.startsWith('latents/') ? 1 : n.startsWith('steps/') ? 2 : 3);
  return out.sort((x, y) => rank(x) - rank(y) || x.localeCompare(y));
}

export function formatDiffTable(result: DiffResult): string {
  const header = ['tensor', 'cosine', 'L1', 'maxAbs', 'RMSE', 'relL2', 'SQNR dB', 'p99 |Δ|', 'not close', 'NaN/Inf (ref)', 'NaN/Inf (cand)', 'non-finite mismatches'];
  const fmt = (x: number) => (Number.isFinite(x) ? (Math.abs(x) >= 1e-3 && Math.abs(x) < 1e4 ? x.toPrecision(6) : x.toExponential(3)) : String(x));
  const lines = result.rows.map(({ tensor, metrics: m }) => [
    tensor,
    m.cosine.toFixed(8),
    fmt(m.l1),
    fmt(m.maxAbs),
    fmt(m.rmse),
    fmt(m.relL2),
    fmt(m.sqnr),
    fmt(m.absErrQuantiles.p99),
    `${(100 * m.allclose.fraction).toPrecision(3)}%`,
    `${m.nanCount.reference}/${m.infCount.reference}`,
    `${m.nanCount.candidate}/${m.infCount.candidate}`,
    String(m.nonFiniteMismatches ?? 0),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const row = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  const out = [row(header), widths.map((w) => '-'.repeat(w)).join('  '), ...lines.map(row)];
  if (result.onlyInA.length) out.push(`only in A: ${result.onlyInA.join(', ')}`);
  if (result.onlyInB.length) out.push(`only in B: ${result.onlyInB.join(', ')}`);
  const t = result.rows[0]?.metrics.allclose;
  if (t) out.push(`not close: |B − A| > atol + rtol·|A| with atol ${t.atol}, rtol ${t.rtol} (numpy.isclose(B, A); NaN never close)`);
  return out.join('\n') + '\n';
}
