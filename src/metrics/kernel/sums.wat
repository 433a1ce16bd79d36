;; float32 comparison kernel (WebAssembly SIMD): the sums behind compareTensors.
;;
;; Every value is widened to float64 before any arithmetic: a float32 × float32
;; product is exact in float64, so the only rounding is in the additions, as in
;; the scalar JavaScript path. Σab is not accumulated here: for balanced tensors
;; the caller derives it from Σa², Σb² and Σ(a−b)² (see kernel.ts), and calls
;; `dot` otherwise. The caller copies chunks of both tensors into this memory;
;; `sums` never checks for NaN/Inf (a non-finite Σa² + Σb² tells the caller).
;;
;; Assembled into sums.wasm by `npm run build:wasm`; a test checks the two agree.
(module
  ;; Page 0: results. Pages 1-4: chunk A, pages 5-8: chunk B (256 KiB each, see kernel.ts).
  (memory (export "memory") 9 9)

  ;; Writes Σa², Σb², Σ|a−b|, Σ(a−b)², max|a−b| (float64) at bytes 0, 8, 16, 24, 32
  ;; for the n float32 values at byte offsets $pa and $pb.
  (func (export "sums") (param $pa i32) (param $pb i32) (param $n i32)
    (local $end i32)
    (local $aa v128) (local $bb v128) (local $abs v128) (local $sq v128) (local $mx v128)
    (local $al v128) (local $ah v128) (local $bl v128) (local $bh v128) (local $dl v128) (local $dh v128)
    (local $x f64) (local $y f64) (local $d f64)
    (local $saa f64) (local $sbb f64) (local $sabs f64) (local $ssq f64) (local $smx f64)
    ;; $end: byte offset in A where the 4-wide loop stops.
    (local.set $end (i32.add (local.get $pa) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $simd_done
      (br_if $simd_done (i32.ge_u (local.get $pa) (local.get $end)))
      (loop $simd
        ;; Four elements per side, widened two at a time.
        (local.set $al (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $pa))))
        (local.set $ah (f64x2.promote_low_f32x4 (v128.load64_zero offset=8 (local.get $pa))))
        (local.set $bl (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $pb))))
        (local.set $bh (f64x2.promote_low_f32x4 (v128.load64_zero offset=8 (local.get $pb))))
        (local.set $dl (f64x2.sub (local.get $al) (local.get $bl)))
        (local.set $dh (f64x2.sub (local.get $ah) (local.get $bh)))
        (local.set $aa (f64x2.add (local.get $aa)
          (f64x2.add (f64x2.mul (local.get $al) (local.get $al)) (f64x2.mul (local.get $ah) (local.get $ah)))))
        (local.set $bb (f64x2.add (local.get $bb)
          (f64x2.add (f64x2.mul (local.get $bl) (local.get $bl)) (f64x2.mul (local.get $bh) (local.get $bh)))))
        (local.set $sq (f64x2.add (local.get $sq)
          (f64x2.add (f64x2.mul (local.get $dl) (local.get $dl)) (f64x2.mul (local.get $dh) (local.get $dh)))))
        (local.set $dl (f64x2.abs (local.get $dl)))
        (local.set $dh (f64x2.abs (local.get $dh)))
        (local.set $abs (f64x2.add (local.get $abs) (f64x2.add (local.get $dl) (local.get $dh))))
        ;; pmax is a plain compare-and-select (one instruction); NaN chunks are redone by the caller.
        (local.set $mx (f64x2.pmax (local.get $mx) (f64x2.pmax (local.get $dl) (local.get $dh))))
        (local.set $pa (i32.add (local.get $pa) (i32.const 16)))
        (local.set $pb (i32.add (local.get $pb) (i32.const 16)))
        (br_if $simd (i32.lt_u (local.get $pa) (local.get $end)))))
    (local.set $saa (f64.add (f64x2.extract_lane 0 (local.get $aa)) (f64x2.extract_lane 1 (local.get $aa))))
    (local.set $sbb (f64.add (f64x2.extract_lane 0 (local.get $bb)) (f64x2.extract_lane 1 (local.get $bb))))
    (local.set $sabs (f64.add (f64x2.extract_lane 0 (local.get $abs)) (f64x2.extract_lane 1 (local.get $abs))))
    (local.set $ssq (f64.add (f64x2.extract_lane 0 (local.get $sq)) (f64x2.extract_lane 1 (local.get $sq))))
    (local.set $smx (f64.max (f64x2.extract_lane 0 (local.get $mx)) (f64x2.extract_lane 1 (local.get $mx))))
    ;; The last n mod 4 elements, one at a time.
    (local.set $end (i32.add (local.get $end) (i32.shl (i32.and (local.get $n) (i32.const 3)) (i32.const 2))))
    (block $tail_done
      (br_if $tail_done (i32.ge_u (local.get $pa) (local.get $end)))
      (loop $tail
        (local.set $x (f64.promote_f32 (f32.load (local.get $pa))))
        (local.set $y (f64.promote_f32 (f32.load (local.get $pb))))
        (local.set $d (f64.sub (local.get $x) (local.get $y)))
        (local.set $saa (f64.add (local.get $saa) (f64.mul (local.get $x) (local.get $x))))
        (local.set $sbb (f64.add (local.get $sbb) (f64.mul (local.get $y) (local.get $y))))
        (local.set $ssq (f64.add (local.get $ssq) (f64.mul (local.get $d) (local.get $d))))
        (local.set $d (f64.abs (local.get $d)))
        (local.set $sabs (f64.add (local.get $sabs) (local.get $d)))
        (local.set $smx (f64.max (local.get $smx) (local.get $d)))
        (local.set $pa (i32.add (local.get $pa) (i32.const 4)))
        (local.set $pb (i32.add (local.get $pb) (i32.const 4)))
        (br_if $tail (i32.lt_u (local.get $pa) (local.get $end)))))
    (f64.store offset=0 (i32.const 0) (local.get $saa))
    (f64.store offset=8 (i32.const 0) (local.get $sbb))
    (f64.store offset=16 (i32.const 0) (local.get $sabs))
    (f64.store offset=24 (i32.const 0) (local.get $ssq))
    (f64.store offset=32 (i32.const 0) (local.get $smx)))

  ;; Σab in float64 over the n float32 values at $pa and $pb.
  (func (export "dot") (param $pa i32) (param $pb i32) (param $n i32) (result f64)
    (local $end i32) (local $acc v128) (local $s f64)
    (local.set $end (i32.add (local.get $pa) (i32.shl (i32.and (local.get $n) (i32.const -2)) (i32.const 2))))
    (block $pairs_done
      (br_if $pairs_done (i32.ge_u (local.get $pa) (local.get $end)))
      (loop $pairs
        (local.set $acc (f64x2.add (local.get $acc)
          (f64x2.mul (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $pa)))
                     (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $pb))))))
        (local.set $pa (i32.add (local.get $pa) (i32.const 8)))
        (local.set $pb (i32.add (local.get $pb) (i32.const 8)))
        (br_if $pairs (i32.lt_u (local.get $pa) (local.get $end)))))
    (local.set $s (f64.add (f64x2.extract_lane 0 (local.get $acc)) (f64x2.extract_lane 1 (local.get $acc))))
    (if (i32.and (local.get $n) (i32.const 1))
      (then (local.set $s (f64.add (local.get $s)
        (f64.mul (f64.promote_f32 (f32.load (local.get $pa))) (f64.promote_f32 (f32.load (local.get $pb))))))))
    (local.get $s))

  ;; Index of the first of the n elements with |a − b| = $target (float64), or −1.
  (func (export "firstAbs") (param $pa i32) (param $pb i32) (param $n i32) (param $target f64) (result i32)
    (local $i i32)
    (block $none
      (loop $scan
        (br_if $none (i32.ge_u (local.get $i) (local.get $n)))
        (if (f64.eq (local.get $target)
              (f64.abs (f64.sub (f64.promote_f32 (f32.load (local.get $pa)))
                                (f64.promote_f32 (f32.load (local.get $pb))))))
          (then (return (local.get $i))))
        (local.set $pa (i32.add (local.get $pa) (i32.const 4)))
        (local.set $pb (i32.add (local.get $pb) (i32.const 4)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $scan)))
    (i32.const -1)))
