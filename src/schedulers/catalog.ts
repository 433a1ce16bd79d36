/**
 * What `lockstep schedulers` lists: every diffusers class a name can reach,
 * whether lockstep implements it, its options with the values implemented, and
 * the web-UI names with what they resolve to. Built from the same tables the
 * registry uses, so the listing cannot drift from the behaviour.
 */
import type { OptionScalar, OptionValue } from './options.ts';
import { IMPLEMENTATIONS } from './registry.ts';
import { DIFFUSERS_CLASSES, type DiffusersClassName, REFUSED_CLASSES, SAMPLER_NAMES, SHORT_NAMES } from './samplers.ts';

export interface OptionEntry {
  key: string;
  default: OptionValue;
  /** null: every value of the key's type. */
  implemented: readonly OptionScalar[] | null;
  why?: string;
}

export interface ClassEntry {
  className: DiffusersClassName;
  shortName: string | null;
  status: 'implemented' | 'not implemented yet' | 'refused';
  why?: string;
  options: OptionEntry[];
}

export interface SamplerEntry {
  name: string;
  className: DiffusersClassName | null;
  pins: Record<string, unknown>;
  status: 'implemented' | 'not implemented yet' | 'refused';
  why?: string;
}

export function classCatalog(): ClassEntry[] {
  return DIFFUSERS_CLASSES.map((className) => {
    const impl = IMPLEMENTATIONS[className];
    const refused = REFUSED_CLASSES[className];
    const shortName = Object.keys(SHORT_NAMES).find((n) => SHORT_NAMES[n] === className) ?? null;
    const options = impl
      ? Object.entries(impl.options).map(([key, spec]) => ({ key, default: spec.default, implemented: spec.implemented ?? null, why: spec.why }))
      : [];
    const status = refused ? 'refused' : impl ? 'implemented' : 'not implemented yet';
    return { className, shortName, status, ...(refused ? { why: refused } : {}), options };
  });
}

export function samplerCatalog(): SamplerEntry[] {
  return SAMPLER_NAMES.map((s) => {
    const classRefusal = s.className ? REFUSED_CLASSES[s.className] : undefined;
    const why = s.refused ?? classRefusal;
    const implemented = s.className !== null && IMPLEMENTATIONS[s.className] !== null;
    const status = why ? 'refused' : implemented ? 'implemented' : 'not implemented yet';
    return { name: s.name, className: s.className, pins: { ...s.pins }, status, ...(why ? { why } : {}) };
  });
}

function show(v: OptionValue): string {
  return JSON.stringify(v);
}

/** The plain-text listing. */
export function formatCatalog(): string {
  const lines: string[] = ['Web-UI sampler names (--scheduler "NAME"; the listed keys are pinned over the model\'s scheduler_config.json):', ''];
  for (const s of samplerCatalog()) {
    const pins = Object.entries(s.pins).map(([k, v]) => `${k}=${show(v as OptionValue)}`).join(', ');
    const target = s.className ? `${s.className}${pins ? ` (${pins})` : ''}` : '—';
    const note = s.status === 'implemented' ? '' : s.status === 'refused' ? `  REFUSED: ${s.why}` : '  (not implemented yet)';
    lines.push(`  ${s.name.padEnd(20)} ${target}${note}`);
  }
  lines.push('', 'Scheduler classes (--scheduler SHORT-NAME or CLASS; options are scheduler_config.json keys, default first):', '');
  for (const c of classCatalog()) {
    const head = `${c.className}${c.shortName ? ` [${c.shortName}]` : ''}`;
    if (c.status !== 'implemented') {
      lines.push(`  ${head}: ${c.status === 'refused' ? `REFUSED: ${c.why}` : 'not implemented yet'}`);
      continue;
    }
    lines.push(`  ${head}`);
    for (const o of c.options) {
      const values = o.implemented ? o.implemented.map(show).join(' | ') : typeof o.default === 'boolean' ? 'true | false' : 'any';
      lines.push(`      ${o.key.padEnd(26)} default ${show(o.default).padEnd(14)} implemented: ${values}${o.why ? ` (others refused: ${o.why})` : ''}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
