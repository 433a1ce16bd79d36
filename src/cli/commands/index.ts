import type { Command } from 'commander';

/** Adds a command (its flags and action) to the program. */
export type RegisterCommand = (program: Command) => void;

/**
 * One top-level command. `lockstep --help` lists `name` and `summary` without
 * loading any command module; only the command being run is imported (with
 * the libraries it uses: ONNX Runtime, sharp, canvas, zod…), so start-up costs
 * what that command needs and nothing else.
 */
export interface CommandEntry {
  readonly name: string;
  /** Must equal the description the module gives the command (index.test.ts checks). */
  readonly summary: string;
  /** Imports the command's module(s); returns their register functions. Use `await import(...)`, never a static import. */
  readonly load: () => Promise<readonly RegisterCommand[]>;
}

/*
 * Adding a command: write src/cli/commands/NAME.ts exporting `registerNAME(program)`,
 * then add one entry below (in help order). Never import a command module, or a
 * library a command uses, statically from this file or from main.ts: that would
 * load it for every command. test/startup.test.ts fails if `--help`, `--version`,
 * `tokenize`, `noise`, `diff` or `report --no-html` load ONNX Runtime, sharp,
 * canvas or chart.js.
 */
export const COMMANDS: readonly CommandEntry[] = [
  {
    name: 'demo',
    summary: 'generate an image and a trace with a built-in model (default: the trained shapes model), and compare the live model against that trace',
    load: async () => [(await import('./demo.ts')).registerDemo],
  },
  {
    name: 'generate',
    summary: 'run text-to-image (image-to-image with --image) on a model folder exactly as diffusers does; optionally record every tensor as a trace',
    load: async () => [(await import('./generate.ts')).registerGenerate],
  },
  {
    name: 'compare',
    summary: 'run a reference and a candidate build side by side from the same seed; compare every step teacher-forced and free-running',
    load: async () => [(await import('./compare.ts')).registerCompare],
  },
  {
    name: 'diff',
    summary: 'metric table of two .npy files, or of every tensor two trace folders both hold',
    load: async () => [(await import('./diff.ts')).registerDiff],
  },
  {
    name: 'tokenize',
    summary: "print a prompt's CLIP token ids (bos, ids, eos, padding) as a JSON array, exactly as transformers' CLIPTokenizer",
    load: async () => [(await import('./tokenize.ts')).registerTokenize],
  },
  {
    name: 'noise',
    summary: 'write standard-normal noise exactly as torch.randn (CPU generator) or numpy RandomState.randn draws it, as float32 .npy',
    load: async () => [(await import('./noise.ts')).registerNoise],
  },
  {
    name: 'forge',
    summary: 'build Stable Diffusion pipelines as ONNX from seeded weights, and variants of them',
    load: async () => [(await import('./forge.ts')).registerForge, (await import('./forge-variant.ts')).registerForgeVariant],
  },
  {
    name: 'report',
    summary: 're-check a stored report.json against (other) thresholds, rewrite its verdict and re-render report.md/report.html',
    load: async () => [(await import('./report.ts')).registerReport],
  },
  {
    name: 'localize',
    summary: 'find the first node inside one component (unet, text_encoder, vae_decoder) where the candidate diverges from the reference',
    load: async () => [(await import('./localize.ts')).registerLocalize],
  },
  {
    name: 'run',
    summary: 'run a suite: every case (or a shard) compared step by step; reports, index.html, JUnit and a Markdown summary',
    load: async () => [(await import('./run.ts')).registerRun],
  },
  {
    name: 'golden',
    summary: "record, update and check goldens: stored reference traces of a suite's cases",
    load: async () => [(await import('./golden.ts')).registerGolden],
  },
  {
    name: 'export-inputs',
    summary: 'write the exact inputs a reference trace gave each component call, for a runtime Node cannot drive to answer (see docs/other-runtimes.md)',
    load: async () => [(await import('./export-inputs.ts')).registerExportInputs],
  },
  {
    name: 'import-outputs',
    summary: "turn another runtime's answers to export-inputs into a teacher-forced trace that compare accepts as candidate",
    load: async () => [(await import('./import-outputs.ts')).registerImportOutputs],
  },
  {
    name: 'repeat',
    summary: 'run one build N times from scratch and check every per-step tensor and the final image are bitwise identical across runs',
    load: async () => [(await import('./repeat.ts')).registerRepeat],
  },
  {
    name: 'calibrate',
    summary: 'measure the noise floor of a model against itself under harmless backend changes (optimization level, threads) and write thresholds as a multiple of it',
    load: async () => [(await import('./calibrate.ts')).registerCalibrate],
  },
  {
    name: 'schedulers',
    summary: 'list the schedulers --scheduler accepts (web-UI names, short names, diffusers classes) and the options each implements',
    load: async () => [(await import('./schedulers.ts')).registerSchedulers],
  },
];
