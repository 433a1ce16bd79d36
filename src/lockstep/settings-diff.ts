/**
 * The recorded settings of two builds side by side: comparing traces made
 * with different schedulers, seeds or sizes step by step measures the
 * settings, not the build, so `compare` and `diff` warn and name the keys.
 */
import type { PipelineSettings } from '../pipeline/settings.ts';
import type { TraceManifest } from '../trace/manifest.ts';

/** What one side says it ran with; absent keys were not recorded and are not compared. */
export interface RecordedRun {
  settings: Partial<Record<keyof PipelineSettings, unknown>>;
  timesteps?: readonly number[];
}

export const COMPARED_SETTINGS = ['scheduler', 'steps', 'seed', 'noise', 'height', 'width', 'prompt', 'negativePrompt', 'guidanceScale', 'family', 'strength'] as const;

export interface SettingDifference {
  key: (typeof COMPARED_SETTINGS)[number] | 'timesteps';
  reference: unknown;
  candidate: unknown;
}

export function fromManifest(m: TraceManifest): RecordedRun {
  return { settings: m.pipeline as RecordedRun['settings'], ...(m.timesteps ? { timesteps: m.timesteps } : {}) };
}

/** Keys both sides recorded with different values, in COMPARED_SETTINGS order, then timesteps. */
export function settingDifferences(ref: RecordedRun, cand: RecordedRun): SettingDifference[] {
  const out: SettingDifference[] = [];
  for (const key of COMPARED_SETTINGS) {
    const [a, b] = [ref.settings[key], cand.settings[key]];
    if (a === undefined || a === null || b === undefined || b === null) continue;
    if (a !== b) out.push({ key, reference: a, candidate: b });
  }
  const [ta, tb] = [ref.timesteps, cand.timesteps];
  if (ta && tb && (ta.length !== tb.length || ta.some((t, i) => t !== tb[i]))) out.push({ key: 'timesteps', reference: ta, candidate: tb });
  return out;
}

/** One line naming every differing key with both values. */
export function describeDifferences(diffs: readonly SettingDifference[]): string {
  const show = (v: unknown) => (Array.isArray(v) ? `[${v.length > 6 ? [...v.slice(0, 5), '…'].join(', ') : v.join(', ')}]` : JSON.stringify(v));
  const parts = diffs.map((d) => `${d.key} (reference ${show(d.reference)}, candidate ${show(d.candidate)})`);
  return `the two sides' recorded settings differ in ${diffs.map((d) => d.key).join(', ')}: ${parts.join('; ')}; step-by-step metrics then measure the settings, not the build`;
}
