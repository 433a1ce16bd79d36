/** `lockstep golden record|update|check SUITE`: goldens under golden/<suite>/<case>/. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { UsageError } from '../../errors.ts';
import type { Storage } from '../../golden/compact.ts';
import { recordGolden } from '../../golden/golden.ts';
import { goldenCaseDir } from '../../golden/store.ts';
import { loadSuite } from '../../suite/load.ts';
import { selectCases } from '../../suite/select.ts';
import { setExitCode } from '../exit.ts';
import { type SuiteRunFlags, addSuiteRunFlags, runSuiteCommand } from './run.ts';

interface RecordFlags {
  case?: string[];
  storage: Storage;
  goldenDir: string;
  quiet?: boolean;
}

export function registerGolden(program: Command): void {
  const golden = program.command('golden').description('record, update and check goldens: stored reference traces of a suite\'s cases');
  recordCommand(golden, 'record', 'record the reference build of each case (refuses to overwrite; use update)');
  recordCommand(golden, 'update', 're-record the named cases, atomically replacing their goldens');
  const check = golden
    .command('check')
    .description('compare the suite\'s candidate against the stored goldens; a golden whose model or settings changed is stale (exit 2)')
    .argument('<suite>', 'suite file');
  addSuiteRunFlags(check);
  check.action(async (file: string, flags: SuiteRunFlags) => setExitCode(check, await runSuiteCommand(file, flags, true)));
}

function recordCommand(parent: Command, name: 'record' | 'update', description: string): void {
  const cmd = parent
    .command(name)
    .description(description)
    .argument('<suite>', 'suite file')
    .option('--case <name>', `${name === 'update' ? 'required: ' : ''}only this case (repeatable)`, (v: string, prev: string[] = []) => [...prev, v])
    .addOption(new Option('--storage <dtype>', 'tensor storage; float16 states its rounding error in the manifest').choices(['float32', 'float16']).default('float32'))
    .option('--golden-dir <dir>', 'where goldens live (<dir>/<suite>/<case>/)', 'golden')
    .option('--quiet', 'no progress lines');
  cmd.action(async (file: string, flags: RecordFlags) => {
    if (name === 'update' && !flags.case?.length) throw new UsageError('golden update: name the cases to re-record with --case NAME (goldens are only replaced when asked)');
    const suite = loadSuite(file);
    const cases = selectCases(suite, flags.case);
    if (name === 'record') refuseExisting(flags.goldenDir, suite.name, cases.map((c) => c.name), file);
    for (const c of cases) {
      const dir = await recordGolden(suite, c, { root: flags.goldenDir, storage: flags.storage, mode: name });
      if (!flags.quiet) process.stderr.write(`${name === 'record' ? 'recorded' : 'updated'} ${dir}\n`);
    }
    setExitCode(cmd, 0);
  });
}

function refuseExisting(root: string, suite: string, names: string[], file: string): void {
  const existing = names.filter((n) => existsSync(join(goldenCaseDir(root, suite, n), 'manifest.json')));
  if (existing.length) {
    const dirs = existing.map((n) => join(root, suite, n)).join(', ');
    throw new UsageError(`${dirs}: golden already recorded; replace it with: lockstep golden update ${file} ${existing.map((n) => `--case ${n}`).join(' ')}`);
  }
}
