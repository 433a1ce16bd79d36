import { checkStackedRun, stackedRuns } from './src/schedulers/testing/stacked-reference.ts';
for (const s of ['euler', 'euler-a', 'lcm']) for (const name of stackedRuns(s)) {
  try {
    let bad = '';
    const w = checkStackedRun(name, (a, b) => { if (JSON.stringify(a) !== JSON.stringify(b)) bad += ` mismatch(${JSON.stringify(a).slice(0, 60)} vs ${JSON.stringify(b).slice(0, 60)})`; });
    console.log(name, w, bad);
  } catch (e) { console.log(name, 'ERR', (e as Error).message.slice(0, 200)); }
}
