;; Matrix products for the LSTM engine, in WebAssembly SIMD (f32x4).
;; Matrices are row-major float32 in the imported memory; every address is a byte offset.
;; The vectorised dimension must be a multiple of 4: it is always 4 × hidden (the LSTM's gate width).
(module
  (import "env" "memory" (memory 1))

  ;; C[0..n) += Σ_q a[q] · B_q[0..n), where a[q] sits at $a + q·$astride and row B_q at $b + q·4n.
  ;; The one inner loop of gemm_nn and gemm_tn: 16 columns per pass keep four accumulators in registers.
  (func $rows (param $c i32) (param $a i32) (param $astride i32) (param $b i32) (param $count i32) (param $n i32)
    (local $j i32) (local $q i32) (local $ap i32) (local $bp i32) (local $nb i32) (local $cp i32) (local $av v128)
    (local $c0 v128) (local $c1 v128) (local $c2 v128) (local $c3 v128)
    (local.set $nb (i32.shl (local.get $n) (i32.const 2)))
    (block $wide_done (loop $wide
      (br_if $wide_done (i32.gt_u (i32.add (local.get $j) (i32.const 16)) (local.get $n)))
      (local.set $cp (i32.add (local.get $c) (i32.shl (local.get $j) (i32.const 2))))
      (local.set $c0 (v128.load offset=0 (local.get $cp)))
      (local.set $c1 (v128.load offset=16 (local.get $cp)))
      (local.set $c2 (v128.load offset=32 (local.get $cp)))
      (local.set $c3 (v128.load offset=48 (local.get $cp)))
      (local.set $ap (local.get $a))
      (local.set $bp (i32.add (local.get $b) (i32.shl (local.get $j) (i32.const 2))))
      (local.set $q (i32.const 0))
      (block $q_done (loop $ql
        (br_if $q_done (i32.ge_u (local.get $q) (local.get $count)))
        (local.set $av (f32x4.splat (f32.load (local.get $ap))))
        (local.set $c0 (f32x4.add (local.get $c0) (f32x4.mul (local.get $av) (v128.load offset=0 (local.get $bp)))))
        (local.set $c1 (f32x4.add (local.get $c1) (f32x4.mul (local.get $av) (v128.load offset=16 (local.get $bp)))))
        (local.set $c2 (f32x4.add (local.get $c2) (f32x4.mul (local.get $av) (v128.load offset=32 (local.get $bp)))))
        (local.set $c3 (f32x4.add (local.get $c3) (f32x4.mul (local.get $av) (v128.load offset=48 (local.get $bp)))))
        (local.set $ap (i32.add (local.get $ap) (local.get $astride)))
        (local.set $bp (i32.add (local.get $bp) (local.get $nb)))
        (local.set $q (i32.add (local.get $q) (i32.const 1)))
        (br $ql)))
      (v128.store offset=0 (local.get $cp) (local.get $c0))
      (v128.store offset=16 (local.get $cp) (local.get $c1))
      (v128.store offset=32 (local.get $cp) (local.get $c2))
      (v128.store offset=48 (local.get $cp) (local.get $c3))
      (local.set $j (i32.add (local.get $j) (i32.const 16)))
      (br $wide)))
    ;; the last n mod 16 columns, 4 at a time
    (block $narrow_done (loop $narrow
      (br_if $narrow_done (i32.ge_u (local.get $j) (local.get $n)))
      (local.set $cp (i32.add (local.get $c) (i32.shl (local.get $j) (i32.const 2))))
      (local.set $c0 (v128.load (local.get $cp)))
      (local.set $ap (local.get $a))
      (local.set $bp (i32.add (local.get $b) (i32.shl (local.get $j) (i32.const 2))))
      (local.set $q (i32.const 0))
      (block $q2_done (loop $q2
        (br_if $q2_done (i32.ge_u (local.get $q) (local.get $count)))
        (local.set $c0 (f32x4.add (local.get $c0)
          (f32x4.mul (f32x4.splat (f32.load (local.get $ap))) (v128.load (local.get $bp)))))
        (local.set $ap (i32.add (local.get $ap) (local.get $astride)))
        (local.set $bp (i32.add (local.get $bp) (local.get $nb)))
        (local.set $q (i32.add (local.get $q) (i32.const 1)))
        (br $q2)))
      (v128.store (local.get $cp) (local.get $c0))
      (local.set $j (i32.add (local.get $j) (i32.const 4)))
      (br $narrow))))

  ;; C[m×n] += A[m×k] · B[k×n]; n % 4 = 0.
  (func (export "gemm_nn") (param $a i32) (param $b i32) (param $c i32) (param $m i32) (param $k i32) (param $n i32)
    (local $i i32)
    (block $done (loop $row
      (br_if $done (i32.ge_u (local.get $i) (local.get $m)))
      (call $rows
        (i32.add (local.get $c) (i32.shl (i32.mul (local.get $i) (local.get $n)) (i32.const 2)))
        (i32.add (local.get $a) (i32.shl (i32.mul (local.get $i) (local.get $k)) (i32.const 2)))
        (i32.const 4) (local.get $b) (local.get $k) (local.get $n))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $row))))

  ;; C[k×n] += A[m×k]ᵀ · B[m×n]; n % 4 = 0.
  (func (export "gemm_tn") (param $a i32) (param $b i32) (param $c i32) (param $m i32) (param $k i32) (param $n i32)
    (local $p i32)
    (block $done (loop $row
      (br_if $done (i32.ge_u (local.get $p) (local.get $k)))
      (call $rows
        (i32.add (local.get $c) (i32.shl (i32.mul (local.get $p) (local.get $n)) (i32.const 2)))
        (i32.add (local.get $a) (i32.shl (local.get $p) (i32.const 2)))
        (i32.shl (local.get $k) (i32.const 2)) (local.get $b) (local.get $m) (local.get $n))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br $row))))

  ;; C[m×n] += A[m×k] · B[n×k]ᵀ; k % 4 = 0. Four rows of B per pass share each load of A.
  (func (export "gemm_nt") (param $a i32) (param $b i32) (param $c i32) (param $m i32) (param $k i32) (param $n i32)
    (local $i i32) (local $j i32) (local $p i32) (local $kb i32) (local $arow i32) (local $b0 i32) (local $cp i32)
    (local $av v128) (local $s0 v128) (local $s1 v128) (local $s2 v128) (local $s3 v128)
    (local.set $kb (i32.shl (local.get $k) (i32.const 2)))
    (block $rows_done (loop $rowl
      (br_if $rows_done (i32.ge_u (local.get $i) (local.get $m)))
      (local.set $arow (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $kb))))
      (local.set $j (i32.const 0))
      (block $quad_done (loop $quad
        (br_if $quad_done (i32.gt_u (i32.add (local.get $j) (i32.const 4)) (local.get $n)))
        (local.set $b0 (i32.add (local.get $b) (i32.mul (local.get $j) (local.get $kb))))
        (local.set $s0 (v128.const f32x4 0 0 0 0))
        (local.set $s1 (v128.const f32x4 0 0 0 0))
        (local.set $s2 (v128.const f32x4 0 0 0 0))
        (local.set $s3 (v128.const f32x4 0 0 0 0))
        (local.set $p (i32.const 0))
        (block $p_done (loop $pl
          (br_if $p_done (i32.ge_u (local.get $p) (local.get $kb)))
          (local.set $av (v128.load (i32.add (local.get $arow) (local.get $p))))
          (local.set $s0 (f32x4.add (local.get $s0) (f32x4.mul (local.get $av)
            (v128.load (i32.add (local.get $b0) (local.get $p))))))
          (local.set $s1 (f32x4.add (local.get $s1) (f32x4.mul (local.get $av)
            (v128.load (i32.add (i32.add (local.get $b0) (local.get $kb)) (local.get $p))))))
          (local.set $s2 (f32x4.add (local.get $s2) (f32x4.mul (local.get $av)
            (v128.load (i32.add (i32.add (local.get $b0) (i32.shl (local.get $kb) (i32.const 1))) (local.get $p))))))
          (local.set $s3 (f32x4.add (local.get $s3) (f32x4.mul (local.get $av)
            (v128.load (i32.add (i32.add (local.get $b0) (i32.mul (local.get $kb) (i32.const 3))) (local.get $p))))))
          (local.set $p (i32.add (local.get $p) (i32.const 16)))
          (br $pl)))
        (local.set $cp (i32.add (local.get $c) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $n)) (local.get $j)) (i32.const 2))))
        (f32.store offset=0 (local.get $cp) (f32.add (f32.load offset=0 (local.get $cp)) (call $hsum (local.get $s0))))
        (f32.store offset=4 (local.get $cp) (f32.add (f32.load offset=4 (local.get $cp)) (call $hsum (local.get $s1))))
        (f32.store offset=8 (local.get $cp) (f32.add (f32.load offset=8 (local.get $cp)) (call $hsum (local.get $s2))))
        (f32.store offset=12 (local.get $cp) (f32.add (f32.load offset=12 (local.get $cp)) (call $hsum (local.get $s3))))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $quad)))
      ;; the last n mod 4 rows of B, one at a time
      (block $one_done (loop $one
        (br_if $one_done (i32.ge_u (local.get $j) (local.get $n)))
        (local.set $b0 (i32.add (local.get $b) (i32.mul (local.get $j) (local.get $kb))))
        (local.set $s0 (v128.const f32x4 0 0 0 0))
        (local.set $p (i32.const 0))
        (block $p2_done (loop $p2
          (br_if $p2_done (i32.ge_u (local.get $p) (local.get $kb)))
          (local.set $s0 (f32x4.add (local.get $s0) (f32x4.mul
            (v128.load (i32.add (local.get $arow) (local.get $p)))
            (v128.load (i32.add (local.get $b0) (local.get $p))))))
          (local.set $p (i32.add (local.get $p) (i32.const 16)))
          (br $p2)))
        (local.set $cp (i32.add (local.get $c) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $n)) (local.get $j)) (i32.const 2))))
        (f32.store (local.get $cp) (f32.add (f32.load (local.get $cp)) (call $hsum (local.get $s0))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $one)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $rowl))))

  (func $hsum (param $v v128) (result f32)
    (f32.add
      (f32.add (f32x4.extract_lane 0 (local.get $v)) (f32x4.extract_lane 1 (local.get $v)))
      (f32.add (f32x4.extract_lane 2 (local.get $v)) (f32x4.extract_lane 3 (local.get $v)))))
)
