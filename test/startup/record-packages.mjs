// Preloaded with `--import`: records every npm package the process resolves, one name a line, in $LOCKSTEP_RECORD_PACKAGES.
import { register } from 'node:module';

register('./record-packages-hooks.mjs', import.meta.url, { data: { file: process.env.LOCKSTEP_RECORD_PACKAGES } });
