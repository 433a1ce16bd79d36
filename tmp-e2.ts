import { numpyLogF32 } from './src/schedulers/numpy-log.ts';
const f = Math.fround;
const x = f(12.228765);
console.log(x, numpyLogF32(x), f(Math.log(x)));
