/** Backend flags (execution provider, optimization level, threads), optionally prefixed (ref-/cand-). */
import type { Command } from 'commander';
import { type BackendOptions, DEFAULT_BACKEND, type MemoryOption, parseOnOff, parseOptLevel, parseProviders } from '../models/backend.ts';
import { parseIntFlag } from './pipeline-flags.ts';

export function addBackendFlags(cmd: Command, prefix = ''): Command {
  const p = prefix ? `${prefix}-` : '';
  return cmd
    .option(`--${p}provider <list>`, 'execution providers in priority order (default cpu); wasm = onnxruntime-web in Node; browser-wasm, browser-webgpu, browser-webnn = onnxruntime-web in headless Chromium')
    .option(`--${p}opt-level <level>`, 'graph optimization level: disabled | basic | extended | all (default extended)')
    .option(`--${p}threads <n>`, 'intra-op threads; on wasm/browser-*, WebAssembly threads (default: ONNX Runtime decides)')
    .option(`--${p}deterministic`, "ask ONNX Runtime for deterministic kernels where the provider has them (session.use_deterministic_compute)")
    .option(`--${p}mem-arena <on|off>`, `ONNX Runtime's CPU memory arena: keeps freed activation memory (default ${onOff(DEFAULT_BACKEND.memArena)})`)
    .option(`--${p}mem-pattern <on|off>`, `ONNX Runtime's memory pattern planning (default ${onOff(DEFAULT_BACKEND.memPattern)})`)
    .option(`--${p}prepacking <on|off>`, `weight pre-packing at session creation (default ${onOff(DEFAULT_BACKEND.prepacking)})`);
}

function onOff(v: boolean): string {
  return v ? 'on' : 'off';
}

/** The backend the flags describe; flags not given take `base`'s values (default: lockstep's default backend). */
export function backendFromFlags(values: Record<string, string | boolean | undefined>, prefix = '', base: BackendOptions = DEFAULT_BACKEND): BackendOptions {
  const key = (name: string) => (prefix ? prefix + name[0].toUpperCase() + name.slice(1) : name);
  const flag = (name: string) => `--${prefix ? `${prefix}-` : ''}${name}`;
  const text = (name: string) => values[key(name)] as string | undefined;
  const provider = text('provider');
  const opt = text('optLevel');
  const threads = text('threads');
  return {
    ...base,
    executionProviders: provider ? parseProviders(provider, flag('provider')) : base.executionProviders,
    graphOptimizationLevel: opt ? parseOptLevel(opt, flag('opt-level')) : base.graphOptimizationLevel,
    intraOpThreads: threads ? parseIntFlag(flag('threads'), threads) : base.intraOpThreads,
    deterministic: values[key('deterministic')] === true || base.deterministic,
    ...memoryFromFlags(text, flag, base),
  };
}

function memoryFromFlags(text: (name: string) => string | undefined, flag: (name: string) => string, base: BackendOptions): Pick<BackendOptions, MemoryOption> {
  const pick = (option: MemoryOption, flagName: string) => {
    const v = text(option);
    return v === undefined ? base[option] : parseOnOff(v, flag(flagName));
  };
  return { memArena: pick('memArena', 'mem-arena'), memPattern: pick('memPattern', 'mem-pattern'), prepacking: pick('prepacking', 'prepacking') };
}
