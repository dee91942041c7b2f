//go:build !purego

#include "textflag.h"

// Micro-kernels with the contract of kernelGeneric (see kernelFunc):
// C[mr x nr] = A panel (k x mr) * B panel (k x nr) [+ beta*C].
// Accumulators stay in registers for the whole k loop; each k step loads
// one row of the B panel as vectors and broadcasts the mr values of the
// A panel.

// AVX-512: 8 x 48 tile. Z0-Z23 accumulate rows 0-7 (three ZMM per row),
// Z24-Z26 hold a row of B, Z27-Z31 take the broadcast A values in turn.
// It has the structure of the AVX2 kernel below, with wider registers.
#define ROW512(off, t, c0, c1, c2) \
	VBROADCASTSS off(SI), t; \
	VFMADD231PS  Z24, t, c0; \
	VFMADD231PS  Z25, t, c1; \
	VFMADD231PS  Z26, t, c2

#define STORE512(c0, c1, c2) \
	VMOVUPS c0, (DX);    \
	VMOVUPS c1, 64(DX);  \
	VMOVUPS c2, 128(DX); \
	ADDQ    R8, DX

// PREFETCH512 pulls one 192-byte row of the C tile toward L1 while the
// k loop runs, hiding the miss on the C update at the end.
#define PREFETCH512 \
	PREFETCHT0 (R9);     \
	PREFETCHT0 64(R9);   \
	PREFETCHT0 128(R9);  \
	PREFETCHT0 191(R9);  \
	ADDQ       R8, R9

#define UPDATE512(c0, c1, c2) \
	VFMADD231PS (DX), Z24, c0;    \
	VFMADD231PS 64(DX), Z24, c1;  \
	VFMADD231PS 128(DX), Z24, c2; \
	STORE512(c0, c1, c2)

// func kernelAVX512(k int, a []float32, b []float32, c []float32, ldc int, beta float32)
TEXT ·kernelAVX512(SB), NOSPLIT, $0-92
	MOVQ k+0(FP), CX
	MOVQ a_base+8(FP), SI
	MOVQ b_base+32(FP), DI
	MOVQ c_base+56(FP), DX
	MOVQ ldc+80(FP), R8
	SHLQ $2, R8

	MOVQ DX, R9
	PREFETCH512
	PREFETCH512
	PREFETCH512
	PREFETCH512
	PREFETCH512
	PREFETCH512
	PREFETCH512
	PREFETCH512

	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11
	VPXORD Z12, Z12, Z12
	VPXORD Z13, Z13, Z13
	VPXORD Z14, Z14, Z14
	VPXORD Z15, Z15, Z15
	VPXORD Z16, Z16, Z16
	VPXORD Z17, Z17, Z17
	VPXORD Z18, Z18, Z18
	VPXORD Z19, Z19, Z19
	VPXORD Z20, Z20, Z20
	VPXORD Z21, Z21, Z21
	VPXORD Z22, Z22, Z22
	VPXORD Z23, Z23, Z23

	TESTQ CX, CX
	JZ    store512

loop512:
	VMOVUPS (DI), Z24
	VMOVUPS 64(DI), Z25
	VMOVUPS 128(DI), Z26
	ROW512(0, Z27, Z0, Z1, Z2)
	ROW512(4, Z28, Z3, Z4, Z5)
	ROW512(8, Z29, Z6, Z7, Z8)
	ROW512(12, Z30, Z9, Z10, Z11)
	ROW512(16, Z31, Z12, Z13, Z14)
	ROW512(20, Z27, Z15, Z16, Z17)
	ROW512(24, Z28, Z18, Z19, Z20)
	ROW512(28, Z29, Z21, Z22, Z23)
	ADDQ $32, SI
	ADDQ $192, DI
	DECQ CX
	JNZ  loop512

store512:
	MOVL  beta+88(FP), AX
	TESTL AX, AX
	JNZ   update512
	STORE512(Z0, Z1, Z2)
	STORE512(Z3, Z4, Z5)
	STORE512(Z6, Z7, Z8)
	STORE512(Z9, Z10, Z11)
	STORE512(Z12, Z13, Z14)
	STORE512(Z15, Z16, Z17)
	STORE512(Z18, Z19, Z20)
	STORE512(Z21, Z22, Z23)
	VZEROUPPER
	RET

update512:
	VBROADCASTSS beta+88(FP), Z24
	UPDATE512(Z0, Z1, Z2)
	UPDATE512(Z3, Z4, Z5)
	UPDATE512(Z6, Z7, Z8)
	UPDATE512(Z9, Z10, Z11)
	UPDATE512(Z12, Z13, Z14)
	UPDATE512(Z15, Z16, Z17)
	UPDATE512(Z18, Z19, Z20)
	UPDATE512(Z21, Z22, Z23)
	VZEROUPPER
	RET

// AVX2+FMA: 6 x 16 tile. Y0-Y11 accumulate rows 0-5 (two YMM per row),
// Y12-Y13 hold a row of B, Y14-Y15 take the broadcast A values in turn.
#define ROW256(off, t, c0, c1) \
	VBROADCASTSS off(SI), t; \
	VFMADD231PS  Y12, t, c0; \
	VFMADD231PS  Y13, t, c1

#define STORE256(c0, c1) \
	VMOVUPS c0, (DX);   \
	VMOVUPS c1, 32(DX); \
	ADDQ    R8, DX

// PREFETCH256 pulls one 64-byte row of the C tile toward L1.
#define PREFETCH256 \
	PREFETCHT0 (R9);   \
	PREFETCHT0 63(R9); \
	ADDQ       R8, R9

#define UPDATE256(c0, c1) \
	VFMADD231PS (DX), Y14, c0;   \
	VFMADD231PS 32(DX), Y14, c1; \
	STORE256(c0, c1)

// KERNEL256(ZERO, PREFETCH, FMAS, STORES, UPDATES, loop, store, update)
// is the body of the AVX2 kernels: its arguments name the rows' macros
// (all 6 rows, or the first 4 or 2) and the function's labels.
#define KERNEL256(ZERO, PREFETCH, FMAS, STORES, UPDATES, loop, store, update) \
	MOVQ k+0(FP), CX;             \
	MOVQ a_base+8(FP), SI;        \
	MOVQ b_base+32(FP), DI;       \
	MOVQ c_base+56(FP), DX;       \
	MOVQ ldc+80(FP), R8;          \
	SHLQ $2, R8;                  \
	MOVQ DX, R9;                  \
	PREFETCH;                     \
	ZERO;                         \
	TESTQ CX, CX;                 \
	JZ    store;                  \
loop:                             \
	VMOVUPS (DI), Y12;            \
	VMOVUPS 32(DI), Y13;          \
	FMAS;                         \
	ADDQ $24, SI;                 \
	ADDQ $64, DI;                 \
	DECQ CX;                      \
	JNZ  loop;                    \
store:                            \
	MOVL  beta+88(FP), AX;        \
	TESTL AX, AX;                 \
	JNZ   update;                 \
	STORES;                       \
	VZEROUPPER;                   \
	RET;                          \
update:                           \
	VBROADCASTSS beta+88(FP), Y14; \
	UPDATES;                      \
	VZEROUPPER;                   \
	RET

// The rows' macros: rows 0-1, 2-3 and 4-5 accumulate in Y0-Y3, Y4-Y7 and
// Y8-Y11.
#define ZERO2 \
	VXORPS Y0, Y0, Y0; \
	VXORPS Y1, Y1, Y1; \
	VXORPS Y2, Y2, Y2; \
	VXORPS Y3, Y3, Y3
#define ZERO4 \
	ZERO2;             \
	VXORPS Y4, Y4, Y4; \
	VXORPS Y5, Y5, Y5; \
	VXORPS Y6, Y6, Y6; \
	VXORPS Y7, Y7, Y7
#define ZERO6 \
	ZERO4;               \
	VXORPS Y8, Y8, Y8;   \
	VXORPS Y9, Y9, Y9;   \
	VXORPS Y10, Y10, Y10; \
	VXORPS Y11, Y11, Y11

#define PREFETCH2 PREFETCH256; PREFETCH256
#define PREFETCH4 PREFETCH2; PREFETCH2
#define PREFETCH6 PREFETCH4; PREFETCH2

#define FMAS2 \
	ROW256(0, Y14, Y0, Y1); \
	ROW256(4, Y15, Y2, Y3)
#define FMAS4 \
	FMAS2;                   \
	ROW256(8, Y14, Y4, Y5);  \
	ROW256(12, Y15, Y6, Y7)
#define FMAS6 \
	FMAS4;                    \
	ROW256(16, Y14, Y8, Y9);  \
	ROW256(20, Y15, Y10, Y11)

#define STORES2 STORE256(Y0, Y1); STORE256(Y2, Y3)
#define STORES4 STORES2; STORE256(Y4, Y5); STORE256(Y6, Y7)
#define STORES6 STORES4; STORE256(Y8, Y9); STORE256(Y10, Y11)

#define UPDATES2 UPDATE256(Y0, Y1); UPDATE256(Y2, Y3)
#define UPDATES4 UPDATES2; UPDATE256(Y4, Y5); UPDATE256(Y6, Y7)
#define UPDATES6 UPDATES4; UPDATE256(Y8, Y9); UPDATE256(Y10, Y11)

// func kernelAVX2(k int, a []float32, b []float32, c []float32, ldc int, beta float32)
TEXT ·kernelAVX2(SB), NOSPLIT, $0-92
	KERNEL256(ZERO6, PREFETCH6, FMAS6, STORES6, UPDATES6, loop256, store256, update256)

// kernelAVX2R4 and kernelAVX2R2 are kernelAVX2 for the first 4 or 2 rows
// of a 6 x 16 tile only (the A panel still 6 wide): the rows of C left
// when M is not a multiple of 6, written straight into C instead of
// through a whole tile and a copy, with a third or two thirds fewer FMAs.

// func kernelAVX2R4(k int, a []float32, b []float32, c []float32, ldc int, beta float32)
TEXT ·kernelAVX2R4(SB), NOSPLIT, $0-92
	KERNEL256(ZERO4, PREFETCH4, FMAS4, STORES4, UPDATES4, loop4, store4, update4)

// func kernelAVX2R2(k int, a []float32, b []float32, c []float32, ldc int, beta float32)
TEXT ·kernelAVX2R2(SB), NOSPLIT, $0-92
	KERNEL256(ZERO2, PREFETCH2, FMAS2, STORES2, UPDATES2, loop2, store2, update2)

// func copyPanelsAVX2(dst []float32, src []float32, pf []float32, panels int, nr int, ps int)
// For each j < panels it copies the nr floats src[j*nr:] to dst[j*ps:]
// (nr a multiple of 8), and prefetches the same span of pf, the row packB
// copies a few rows later, whose misses would otherwise stall it.
TEXT ·copyPanelsAVX2(SB), NOSPLIT, $0-96
	MOVQ dst_base+0(FP), DI
	MOVQ src_base+24(FP), SI
	MOVQ pf_base+48(FP), R8
	MOVQ panels+72(FP), CX
	MOVQ nr+80(FP), R11
	SHLQ $2, R11
	MOVQ ps+88(FP), R10
	SHLQ $2, R10
	TESTQ CX, CX
	JZ    done

panel:
	XORQ AX, AX

chunk:
	PREFETCHT0 (R8)(AX*1)
	VMOVUPS    (SI)(AX*1), Y0
	VMOVUPS    Y0, (DI)(AX*1)
	ADDQ       $32, AX
	CMPQ       AX, R11
	JLT        chunk
	ADDQ       R11, SI
	ADDQ       R11, R8
	ADDQ       R10, DI
	DECQ       CX
	JNZ        panel

done:
	VZEROUPPER
	RET

// func addScalarAVX(x []float32, s float32)
// x[i] += s, eight at a time, then one at a time; each sum rounds once,
// as addScalarGo's do.
TEXT ·addScalarAVX(SB), NOSPLIT, $0-28
	MOVQ         x_base+0(FP), DI
	MOVQ         x_len+8(FP), CX
	VBROADCASTSS s+24(FP), Y0

add8:
	CMPQ    CX, $8
	JLT     add1
	VADDPS  (DI), Y0, Y1
	VMOVUPS Y1, (DI)
	ADDQ    $32, DI
	SUBQ    $8, CX
	JMP     add8

add1:
	TESTQ  CX, CX
	JZ     adddone
	VADDSS (DI), X0, X1
	VMOVSS X1, (DI)
	ADDQ   $4, DI
	DECQ   CX
	JMP    add1

adddone:
	VZEROUPPER
	RET
