/**
 * First NaN/Inf in execution order. A candidate that produces one fails its
 * `nonFinite` gate; this finding says where it first appeared, which is
 * usually where the fault is (later NaNs are just propagation). A reference
 * with NaN/Inf is an error too: it fails the `reference.nonFinite` gate, and
 * this finding says where the reference broke.
 */
import { type Finding, type MetricSet, type ReportDocument, UPSTREAM_CHECKS } from '../report/schema.ts';
import { SCOPE_TENSORS } from './slots.ts';

type Side = 'reference' | 'candidate';

interface Located {
  tensor: string;
  metrics: MetricSet | null;
  step?: number;
  timestep?: number;
  component?: string;
}

export function nonFiniteFindings(r: ReportDocument): Finding[] {
  const order = executionOrder(r);
  const out: Finding[] = [];
  const cand = order.find((l) => count(l.metrics, 'candidate') > 0);
  if (cand) out.push(finding(cand, 'candidate', 'error'));
  const ref = order.find((l) => count(l.metrics, 'reference') > 0);
  if (ref) out.push(finding(ref, 'reference', 'error'));
  return out;
}

function count(m: MetricSet | null, side: Side): number {
  return m ? m.nanCount[side] + m.infCount[side] : 0;
}

/** Free-running before teacher-forced within a step: the candidate's own trajectory runs first. */
function executionOrder(r: ReportDocument): Located[] {
  const out: Located[] = UPSTREAM_CHECKS.map((c) => ({ tensor: `components.${c}`, component: c, metrics: r.components[c] }));
  for (const s of r.steps) {
    for (const t of SCOPE_TENSORS.freeRunning) {
      out.push({ tensor: `freeRunning.${t}`, step: s.index, timestep: s.timestep, metrics: s.freeRunning[t as keyof typeof s.freeRunning] });
    }
    for (const t of SCOPE_TENSORS.teacherForced) {
      out.push({ tensor: `teacherForced.${t}`, step: s.index, timestep: s.timestep, metrics: s.teacherForced[t as keyof typeof s.teacherForced] });
    }
  }
  out.push(
    { tensor: 'final.latents', metrics: r.final.latents },
    { tensor: 'final.decoded', metrics: r.final.decoded },
    { tensor: 'components.vaeDecoder', component: 'vaeDecoder', metrics: r.components.vaeDecoder },
  );
  return out;
}

function finding(l: Located, side: Side, severity: Finding['severity']): Finding {
  const m = l.metrics!;
  const where = l.step !== undefined ? `step ${l.step} (timestep ${l.timestep}), ${l.tensor}` : l.tensor;
  return {
    kind: 'first-nonfinite',
    severity,
    source: 'gates',
    tensor: l.tensor,
    ...(l.step !== undefined ? { step: l.step } : {}),
    ...(l.component ? { component: l.component } : {}),
    message: `First NaN/Inf on the ${side}: ${where}: ${m.nanCount[side]} NaN, ${m.infCount[side]} Inf of ${m.count} values${side === 'reference' ? ' (the reference is broken: nothing compared against it can pass)' : ''}`,
  };
}
