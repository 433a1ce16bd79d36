/**
 * The lockstep engine: runs a reference and a candidate build step by step
 * from the same seed and compares them in two modes at once —
 * teacher-forced (the candidate U-Net fed the reference's inputs: one step's
 * error) and free-running (each build on its own trajectory: accumulated
 * drift) — plus whole-component checks on identical inputs
 * (component-checks.ts: text encoders, VAE encoder, VAE decoder). The report
 * is rewritten after every step, so an interrupted or failing run leaves what
 * it reached. Work whose answer is already known is not re-run: when the
 * candidate's own inputs are bitwise the reference's (always at step 0 of two
 * live builds), its free-running output is its teacher-forced output.
 */
import { join, resolve } from 'node:path';
import { absErrorHistogram, psnr, ssim } from '../metrics/index.ts';
import { encodePng } from '../pipeline/image.ts';
import type { PipelineSettings } from '../pipeline/settings.ts';
import { type Finding, type FreeRunningRecord, type MemoryRecord, type ReportDocument, type TeacherForcedRecord, type Thresholds, newReport } from '../report/schema.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { ComponentName, OrtClock, OrtClockReading } from '../models/component.ts';
import { type HtmlPolicy, writeReport } from '../report/write.ts';
import { writeNpy } from '../tensor/npy.ts';
import { writeFileAtomic } from '../util/fs.ts';
import { LOCKSTEP_VERSION, ORT_VERSION } from '../version.ts';
import { type BuildSpec, buildInfo, buildKind, openSide, webRuntimeVersion } from './builds.ts';
import { type RecordedReference, recordReference } from './sequential.ts';
import { type MemoryPlan, planMemory } from './memory-plan.ts';
import { type Tolerances, compareOptional, freeRunningRecord, identical, stepRecord, teacherForcedRecord, tolerancesFrom } from './compare-step.ts';
import { type RecordedRun, describeDifferences, fromManifest, settingDifferences } from './settings-diff.ts';
import { signatureFindings } from './signature-diff.ts';
import { type FinalTensors, LiveSide, type Side, TraceSide, type StepTensors, type TextTensors } from './sides.ts';
import { type Note, textChecks, vaeDecoderCheck, vaeEncoderCheck } from './component-checks.ts';
import { UsageError } from '../errors.ts';
import { UNET_EXTRA_INPUTS, type UnetExtras } from '../models/sd-model.ts';
import { acquireLock } from '../util/run-lock.ts';
import { checkReplaceable } from '../util/safe-paths.ts';

export interface LockstepOptions {
  reference: BuildSpec;
  candidate: BuildSpec;
  settings: PipelineSettings;
  thresholds: Thresholds;
  reportDir: string;
  signal?: AbortSignal;
  onStep?: (done: number, total: number) => void;
  /**
   * Compare against an incomplete reference trace (interrupted producer, missing steps) instead of
   * refusing it; the report is then `complete: false` with `partial` saying why, and never passes.
   */
  allowPartialReference?: boolean;
  /**
   * Load one build at a time: run a live reference to a trace first, then the
   * candidate against it. 'auto' (the default): only when two live builds
   * would not fit in the memory available (memory-plan.ts).
   */
  sequential?: boolean | 'auto';
  /** Told what the engine decided by itself that the user should know (e.g. running sequentially). */
  onNotice?: (message: string) => void;
  /** Bytes of memory available for the 'auto' decision (tests); default: what the system says. */
  availableMemory?: number;
  /** Which final reports get a report.html (default 'all'); report.json and report.md are always written. */
  html?: HtmlPolicy;
}

export class Interrupted extends Error {
  override readonly name = 'Interrupted';
}

/** Runs the comparison; always leaves report.json/md/html in reportDir. */
export async function runLockstep(opts: LockstepOptions): Promise<ReportDocument> {
  // A folder of the user's own is not written into, and two runs never write the same report at once.
  checkReplaceable(resolve(opts.reportDir), 'report.json', '--report');
  const lock = acquireLock(resolve(opts.reportDir), '--report');
  try {
    return await runLocked(opts);
  } finally {
    lock.release();
  }
}

async function runLocked(opts: LockstepOptions): Promise<ReportDocument> {
  const started = performance.now();
  const sides: Side[] = [];
  let report: ReportDocument | null = null;
  let judged: ReportDocument | null = null;
  let referenceOrt = { seconds: 0, sessionSeconds: 0 };
  // The working document is filled in place; each save writes a judged copy.
  // Per-step saves skip report.html (cheap); the final one follows opts.html.
  const save = async (final: boolean) => {
    if (!report) return;
    const ort = ortTimeOf(sides);
    report.timing = {
      wallSeconds: (performance.now() - started) / 1000,
      ortSeconds: ort.seconds + referenceOrt.seconds,
      ortSessionSeconds: ort.sessionSeconds + referenceOrt.sessionSeconds,
    };
    judged = await writeReport(opts.reportDir, report, { html: final ? (opts.html ?? 'all') : false });
  };
  try {
    const plan = planMemory(opts.reference, opts.candidate, opts.settings, opts.sequential ?? 'auto', opts.availableMemory);
    if (plan.message) opts.onNotice?.(plan.message);
    const recorded = plan.sequential && buildKind(opts.reference.path) === 'model' ? await recordReference(opts.reference, opts.settings, opts.reportDir) : null;
    const settings = recorded?.settings ?? opts.settings;
    const ref = await openSide(recorded?.spec ?? opts.reference, settings);
    sides.push(ref);
    const partial = partialReference(ref, opts.allowPartialReference === true);
    const cand = await openSide(opts.candidate, settings);
    sides.push(cand);
    const builds = { reference: recorded?.info ?? buildInfo(ref, opts.reference, 'reference'), candidate: buildInfo(cand, opts.candidate, 'candidate') };
    report = newReport({
      builds,
      pipeline: resolvedSettings(ref, cand, settings),
      thresholds: opts.thresholds,
      versions: { lockstep: LOCKSTEP_VERSION, onnxruntime: ORT_VERSION, onnxruntimeWeb: webRuntimeVersion(builds.reference, builds.candidate) },
    });
    report.findings.push(...signatureFindings(report.builds.reference.signatures, report.builds.candidate.signatures));
    report.findings.push(...settingsFindings(ref, cand));
    report.memory = memoryRecord(plan, opts.sequential ?? 'auto');
    if (plan.message) report.findings.push({ kind: 'note', severity: 'info', source: 'engine', message: plan.message });
    if (recorded) report.findings.push(sequentialNote(recorded));
    if (ref instanceof LiveSide && ref.sharesBuildWith(cand)) report.findings.push(sharedBuildNote());
    if (recorded) referenceOrt = { seconds: recorded.ortSeconds, sessionSeconds: recorded.ortSessionSeconds };
    if (partial) report.partial = partial;
    await save(false);
    await compareRun(ref, cand, report, opts, () => save(false));
    report.complete = partial === null;
    if (partial) report.error = partial;
  } catch (err) {
    if (!report) throw err;
    report.error = err instanceof Interrupted ? `interrupted: ${err.message}` : (err as Error).message;
    if (!(err instanceof Interrupted)) {
      await save(true);
      throw err;
    }
  } finally {
    for (const s of sides) await s.release();
  }
  await save(true);
  return judged!;
}

async function compareRun(ref: Side, cand: Side, report: ReportDocument, opts: LockstepOptions, checkpoint: () => Promise<void>): Promise<void> {
  const note = noteOnce(report.findings);
  const tol = tolerancesFrom(report.thresholds);
  const refText = await ref.prepare();
  const candText = await cand.prepare();
  Object.assign(report.components, await textChecks(cand, refText, candText, tol, note));
  report.components.vaeEncoder = await vaeEncoderCheck(cand, refText, candText, tol, note);
  // Each component's session may be freed as soon as both sides are done with it (memory-plan.ts).
  for (const c of ['text_encoder', 'text_encoder_2', 'vae_encoder'] as const) await doneWith([ref, cand], c);
  const embedsIdentical = identical(refText.promptEmbeds, candText.promptEmbeds) && sameExtras(refText.extras, candText.extras);
  const worst = worstStepTracker(report);
  const total = stepCount(ref, cand, note);
  for (let i = 0; i < total; i++) {
    if (opts.signal?.aborted) throw new Interrupted(`stopped before step ${i} of ${total}`);
    const r = await ref.step(i);
    const c = await cand.step(i);
    if (r.timestep !== c.timestep) {
      note('timestep', `step ${i}: the candidate's timestep is ${c.timestep}, the reference's ${r.timestep} (a scheduler setting differs)`, i);
    }
    const tf = await teacherForced(cand, r, c, refText, embedsIdentical, i, note, tol);
    const fr = cand.recordsTeacherForced ? null : freeRunningRecord(r, c, i, tol);
    report.steps.push(stepRecord(i, r.timestep, tf?.record ?? null, fr));
    worst.consider(i, r, tf, fr, c);
    await checkpoint();
    opts.onStep?.(i + 1, total);
  }
  await doneWith([ref, cand], 'unet');
  const rf = await ref.finish();
  const cf = cand.recordsTeacherForced ? {} : await cand.finish();
  report.final = {
    latents: compareOptional(rf.latents, cf.latents, 'final latents', tol('final', 'latents')),
    decoded: compareOptional(rf.decoded, cf.decoded, 'final decoded', tol('final', 'decoded')),
    image: rf.image && cf.image ? { psnr: psnr(rf.image, cf.image), ssim: ssim(rf.image, cf.image) } : null,
  };
  report.components.vaeDecoder = await vaeDecoderCheck(cand, rf, cf, tol);
  await saveArtifacts(opts.reportDir, rf, cf);
}

/** Extra U-Net inputs bitwise equal (both absent counts as equal). */
function sameExtras(a: UnetExtras | undefined, b: UnetExtras | undefined): boolean {
  return UNET_EXTRA_INPUTS.every((k) => (a?.[k] === undefined && b?.[k] === undefined) || identical(a?.[k], b?.[k]));
}

async function doneWith(sides: Side[], component: ComponentName): Promise<void> {
  for (const side of sides) await side.doneWith(component);
}

/** U-Net steps both builds have (PNDM runs steps + 1; a recorded build may hold fewer). */
function stepCount(ref: Side, cand: Side, note: Note): number {
  const [r, c] = [ref.timesteps().length, cand.timesteps().length];
  if (r !== c) note('steps', `the reference has ${r} U-Net steps, the candidate ${c}: only the first ${Math.min(r, c)} are compared`);
  return Math.min(r, c);
}

/** The teacher-forced record and the candidate tensors it was computed from (null when not compared). */
interface TeacherForced {
  record: TeacherForcedRecord;
  candidate: { noisePred?: Tensor | null };
}

async function teacherForced(cand: Side, r: StepTensors, c: StepTensors, refText: TextTensors, embedsIdentical: boolean, i: number, note: Note, tol: Tolerances): Promise<TeacherForced | null> {
  if (cand.recordsTeacherForced) return { record: teacherForcedRecord(r, c, i, tol), candidate: c };
  if (!cand.live) {
    note('tf-recorded', 'the candidate is a recorded free-running trace: teacher-forced comparison needs a live candidate or an import-outputs trace');
    return null;
  }
  if (!r.latentModelInput || !refText.promptEmbeds) {
    note('tf-inputs', `teacher-forced comparison skipped: the reference did not record latent_model_input or prompt_embeds (first at step ${i})`, i);
    return null;
  }
  const sameInputs = embedsIdentical && r.timestep === c.timestep && identical(r.latentModelInput, c.latentModelInput);
  const out = sameInputs ? c : await cand.live.teacherForce({ latentModelInput: r.latentModelInput, timestep: r.timestep, promptEmbeds: refText.promptEmbeds, extras: refText.extras });
  return { record: teacherForcedRecord(r, out, i, tol), candidate: out };
}

/**
 * Keeps report.worstStepHistogram on the step whose main tensor is furthest
 * off (teacher-forced noisePred relL2, else free-running latents; NaN counts
 * as worst), computing a histogram only when a step beats the worst so far.
 */
function worstStepTracker(report: ReportDocument) {
  let worst = -Infinity;
  return {
    consider(step: number, ref: StepTensors, tf: TeacherForced | null, fr: FreeRunningRecord | null, cand: StepTensors): void {
      const [tensor, m, a, b] = tf?.record.noisePred
        ? ['teacherForced.noisePred', tf.record.noisePred, ref.noisePred, tf.candidate.noisePred]
        : ['freeRunning.latents', fr?.latents ?? null, ref.latents, cand.latents];
      if (!m || !a || !b) return;
      const v = Number.isNaN(m.relL2) ? Infinity : m.relL2;
      if (v <= worst) return;
      worst = v;
      report.worstStepHistogram = { step, tensor, histogram: absErrorHistogram(a, b) };
    },
  };
}

/** Final images and latents beside the report, for the heatmaps. */
async function saveArtifacts(dir: string, rf: FinalTensors, cf: FinalTensors): Promise<void> {
  for (const [side, f] of [['reference', rf], ['candidate', cf]] as const) {
    if (f.image) writeFileAtomic(join(dir, 'images', `${side}.png`), encodePng(f.image));
    if (f.latents) writeNpy(join(dir, 'tensors', `final_latents.${side}.npy`), f.latents);
  }
}

function recordedRun(side: Side): RecordedRun | null {
  if (side instanceof TraceSide) return fromManifest(side.reader.manifest);
  if (side instanceof LiveSide) return { settings: side.settings, timesteps: side.timesteps() };
  return null;
}

/** A warning naming the settings the two sides recorded differently (component "pipeline"). */
function settingsFindings(ref: Side, cand: Side): Finding[] {
  const [a, b] = [recordedRun(ref), recordedRun(cand)];
  const diffs = a && b ? settingDifferences(a, b) : [];
  if (diffs.length === 0) return [];
  return [{ kind: 'note', severity: 'warning', source: 'engine', component: 'pipeline', message: describeDifferences(diffs) }];
}

/**
 * Why the comparison can only be partial (an incomplete reference trace), or null. Refused with
 * exit 2 unless asked for: a reference that stops early would otherwise let a run pass on what it
 * happens to hold.
 */
function partialReference(ref: Side, allowed: boolean): string | null {
  if (!(ref instanceof TraceSide)) return null;
  const why = ref.reader.incompleteness();
  if (why === null) return null;
  if (!allowed) {
    throw new UsageError(
      `${ref.reader.dir}: the reference trace is incomplete (${why}); refusing to compare against it. ` +
        'Pass --allow-partial-reference (suite key allowPartialReference: true) to compare what it holds; the report is then complete: false and never passes',
    );
  }
  return `partial comparison: the reference trace is incomplete (${why}); only what it holds was compared`;
}

function sequentialNote(r: RecordedReference): Finding {
  return {
    kind: 'note',
    severity: 'info',
    source: 'engine',
    message: `sequential mode: the reference ran first (${r.seconds.toFixed(2)} s, of which ONNX Runtime ${r.ortSeconds.toFixed(2)} s), streamed to ${r.spec.path}, and was replayed against the candidate; only one build was loaded at a time`,
  };
}

/**
 * ORT time of this run: each build's clock counted once (a self-check's two
 * sides share one), from the earliest reading a side took (a suite's later
 * cases reuse sessions an earlier case opened and paid for).
 */
function ortTimeOf(sides: readonly Side[]): { seconds: number; sessionSeconds: number } {
  const since = new Map<OrtClock, OrtClockReading>();
  for (const side of sides) {
    if (!side.clock || !side.clockAtOpen) continue;
    const prev = since.get(side.clock);
    const at = side.clockAtOpen;
    since.set(side.clock, prev ? { seconds: Math.min(prev.seconds, at.seconds), sessionSeconds: Math.min(prev.sessionSeconds, at.sessionSeconds), calls: Math.min(prev.calls, at.calls) } : at);
  }
  let seconds = 0;
  let sessionSeconds = 0;
  for (const [clock, at] of since) {
    seconds += clock.seconds - at.seconds;
    sessionSeconds += clock.sessionSeconds - at.sessionSeconds;
  }
  return { seconds, sessionSeconds };
}

function memoryRecord(plan: MemoryPlan, requested: boolean | 'auto'): MemoryRecord {
  return { sequential: plan.sequential, requested: requested === 'auto' ? 'auto' : requested ? 'sequential' : 'live', estimatedBothLiveBytes: plan.bothLiveBytes, availableBytes: plan.availableBytes };
}

function sharedBuildNote(): Finding {
  return {
    kind: 'note',
    severity: 'info',
    source: 'engine',
    message: 'the reference and the candidate are the same build (same model files, same backend settings): one set of ONNX Runtime sessions served both',
  };
}

function resolvedSettings(ref: Side, cand: Side, requested: PipelineSettings): PipelineSettings {
  if (ref instanceof LiveSide) return ref.settings;
  if (cand instanceof LiveSide) return cand.settings;
  return requested;
}

/** Engine notes, each said once per run. */
function noteOnce(findings: Finding[]): Note {
  const said = new Set<string>();
  return (key, message, step) => {
    if (said.has(key)) return;
    said.add(key);
    findings.push({ kind: key === 'steps' ? 'missing-tensor' : 'note', severity: 'warning', message, step, source: 'engine' });
  };
}
