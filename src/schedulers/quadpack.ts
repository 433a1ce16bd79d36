/**
 * `scipy.integrate.quad(f, a, b, epsrel=…)` for the smooth integrands of the
 * LMS scheduler: QUADPACK's QAGS starts with one 21-point Gauss–Kronrod rule
 * on [a, b] (dqk21) and returns it when its error estimate meets the
 * tolerance. Written here from the published algorithm (Piessens et al.,
 * QUADPACK, 1983) with its constants and summation order, so the result
 * matches scipy's to the last bits. Integrands needing QAGS' subdivision are
 * refused rather than integrated differently.
 */

/** Kronrod abscissae on [-1, 1], positive half; xgk[1], xgk[3], … are the 10-point Gauss nodes; xgk[10] = 0. */
const XGK = [
  0.995657163025808080735527280689003, 0.973906528517171720077964012084452, 0.930157491355708226001207180059508,
  0.865063366688984510732096688423493, 0.780817726586416897063717578345042, 0.679409568299024406234327365114874,
  0.562757134668604683339000099272694, 0.433395394129247190799265943165784, 0.294392862701460198131126603103866,
  0.148874338981631210884826001129720, 0,
];
const WGK = [
  0.011694638867371874278064396062192, 0.032558162307964727478818972459390, 0.054755896574351996031381300244580,
  0.075039674810919952767043140916190, 0.093125454583697605535065465083366, 0.109387158802297641899210590325805,
  0.123491976262065851077958109831074, 0.134709217311473325928054001771707, 0.142775938577060080797094273138717,
  0.147739104901338491374841515972068, 0.149445554002916905664936468389821,
];
const WG = [
  0.066671344308688137593568809893332, 0.149451349150580593145776339657697, 0.219086362515982043995534934228163,
  0.269266719309996355091226921569469, 0.295524224714752870173892994651338,
];
const EPMACH = 2.220446049250313e-16;
const UFLOW = 2.2250738585072014e-308;

export interface Qk21Result {
  result: number;
  abserr: number;
  resabs: number;
  resasc: number;
}

/** dqk21: the 21-point Kronrod estimate of ∫_a^b f and QUADPACK's error estimate. */
export function qk21(fn: (x: number) => number, a: number, b: number): Qk21Result {
  const centr = 0.5 * (a + b);
  const hlgth = 0.5 * (b - a);
  const dhlgth = Math.abs(hlgth);
  const fv1 = new Array<number>(10);
  const fv2 = new Array<number>(10);
  let resg = 0;
  const fc = fn(centr);
  let resk = WGK[10] * fc;
  let resabs = Math.abs(resk);
  // Gauss nodes first (Fortran j = 1..5, jtw = 2j), then the Kronrod-only ones (jtwm1 = 2j − 1).
  for (let j = 0; j < 5; j++) {
    const jtw = 2 * j + 1;
    const absc = hlgth * XGK[jtw];
    const fval1 = fn(centr - absc);
    const fval2 = fn(centr + absc);
    fv1[jtw] = fval1;
    fv2[jtw] = fval2;
    const fsum = fval1 + fval2;
    resg = resg + WG[j] * fsum;
    resk = resk + WGK[jtw] * fsum;
    resabs = resabs + WGK[jtw] * (Math.abs(fval1) + Math.abs(fval2));
  }
  for (let j = 0; j < 5; j++) {
    const jtwm1 = 2 * j;
    const absc = hlgth * XGK[jtwm1];
    const fval1 = fn(centr - absc);
    const fval2 = fn(centr + absc);
    fv1[jtwm1] = fval1;
    fv2[jtwm1] = fval2;
    const fsum = fval1 + fval2;
    resk = resk + WGK[jtwm1] * fsum;
    resabs = resabs + WGK[jtwm1] * (Math.abs(fval1) + Math.abs(fval2));
  }
  const reskh = resk * 0.5;
  let resasc = WGK[10] * Math.abs(fc - reskh);
  for (let j = 0; j < 10; j++) resasc = resasc + WGK[j] * (Math.abs(fv1[j] - reskh) + Math.abs(fv2[j] - reskh));
  const result = resk * hlgth;
  resabs = resabs * dhlgth;
  resasc = resasc * dhlgth;
  let abserr = Math.abs((resk - resg) * hlgth);
  if (resasc !== 0 && abserr !== 0) abserr = resasc * Math.min(1, (200 * abserr / resasc) ** 1.5);
  if (resabs > UFLOW / (50 * EPMACH)) abserr = Math.max(EPMACH * 50 * resabs, abserr);
  return { result, abserr, resabs, resasc };
}

/**
 * quad(fn, a, b, epsabs=1.49e-8, epsrel) where QAGS stops after its first
 * rule (ier 0, or ier 2 "roundoff" which also returns that result). Throws
 * when QAGS would go on to subdivide.
 */
export function quadFirstRule(fn: (x: number) => number, a: number, b: number, epsrel: number, epsabs = 1.49e-8): number {
  if (a === b) return 0;
  // dqagse names qk21's resabs "defabs" and its resasc "resabs"; the tests below are dqagse's.
  const { result, abserr, resabs: defabs, resasc } = qk21(fn, a, b);
  const errbnd = Math.max(epsabs, epsrel * Math.abs(result));
  const roundoff = abserr <= 100 * EPMACH * defabs && abserr > errbnd;
  if (roundoff || (abserr <= errbnd && abserr !== resasc) || abserr === 0) return result;
  throw new Error(`quad on [${a}, ${b}] needs adaptive subdivision (error estimate ${abserr} > ${errbnd}); not implemented`);
}
