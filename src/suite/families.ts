/**
 * Gates grouped by family (the threshold key: "teacherForced.noisePred.cosine"),
 * across steps; and the one-line description CI output uses for a failure:
 * "step 3 teacherForced.noisePred cosine 0.9981 < 0.999".
 */
import { formatNumber } from '../gates/index.ts';
import type { GateResult } from '../report/schema.ts';

export interface GateFamily {
  key: string;
  gates: GateResult[];
  failures: GateResult[];
}

export function familyKey(g: GateResult): string {
  return g.id.replace(/^step\[\d+\]\./, '');
}

export function gateFamilies(gates: readonly GateResult[]): GateFamily[] {
  const byKey = new Map<string, GateFamily>();
  for (const g of gates) {
    const key = familyKey(g);
    let f = byKey.get(key);
    if (!f) byKey.set(key, (f = { key, gates: [], failures: [] }));
    f.gates.push(g);
    if (!g.passed) f.failures.push(g);
  }
  return [...byKey.values()];
}

/** The violated comparison, as read: a failed ">=" gate shows "<". */
export function describeFailure(g: GateResult): string {
  const where = g.step === undefined ? '' : `step ${g.step} `;
  const tensor = familyKey(g).split('.').slice(0, -1).join('.');
  const op = g.op === '>=' ? '<' : '>';
  return `${where}${tensor} ${g.metric} ${formatNumber(g.actual)} ${op} ${formatNumber(g.threshold)}`;
}
