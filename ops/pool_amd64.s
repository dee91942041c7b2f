//go:build !purego

#include "textflag.h"

// AVX2 twins of maxPool3x3BandGo for stride 1 and 2: one YMM register
// holds one tap of 8 windows side by side.
//
// The maximum y must be Go's max, which, unlike VMAXPS, orders -0 below
// +0. Without NaNs, the signed-integer maximum of the bit patterns is
// that maximum whenever it is not negative (some tap is +0 or above, and
// positive floats order like their bits); otherwise every tap has its
// sign set and VMAXPS gives the maximum, zero ties being all -0. The first
// tap equal to y is then found by blending the tap numbers from the last
// tap to the first.
//
// The windows that the left or right edge clips are done in one block of
// 8 windows at each end of the row, whose loads leave the columns outside
// the input alone (VMASKMOVPS) and read -inf there instead, which is no
// maximum unless the window's maximum is -inf.
//
// NaNs would need Go's rules, and a maximum of -inf in a clipped window
// might be a column outside the input: the function reports either, and
// the caller redoes the band in Go. Every input element is tested for NaN.

// poolTaps<>+32*k holds k in 8 dwords, k = 0..11: tap numbers of windows
// whose first row is tap row 0 or, offset by 3, tap row 1.
#define TAPS(k) \
	DATA poolTaps<>+(32*k)(SB)/8, $(k*0x100000001);    \
	DATA poolTaps<>+(32*k+8)(SB)/8, $(k*0x100000001);  \
	DATA poolTaps<>+(32*k+16)(SB)/8, $(k*0x100000001); \
	DATA poolTaps<>+(32*k+24)(SB)/8, $(k*0x100000001)

TAPS(0)
TAPS(1)
TAPS(2)
TAPS(3)
TAPS(4)
TAPS(5)
TAPS(6)
TAPS(7)
TAPS(8)
TAPS(9)
TAPS(10)
TAPS(11)
GLOBL poolTaps<>(SB), RODATA|NOPTR, $384

DATA poolIota<>+0(SB)/8, $0x0000000100000000
DATA poolIota<>+8(SB)/8, $0x0000000300000002
DATA poolIota<>+16(SB)/8, $0x0000000500000004
DATA poolIota<>+24(SB)/8, $0x0000000700000006
GLOBL poolIota<>(SB), RODATA|NOPTR, $32

DATA poolNegInf<>+0(SB)/4, $0xff800000
GLOBL poolNegInf<>(SB), RODATA|NOPTR, $4

// Registers: DX, R12 and R13 point at the column where window 0 starts
// (left of the input if padded) in the window's three rows, DI and SI at
// the output row of y and arg, AX is the window, R8 the tap numbers, R9
// the row's last block,
// R10 and R11 the row steps of x (bytes) and y (elements), CX the rows
// left. Y12 collects the lanes to redo, Y14 holds -inf.

// FLAG(a, b, pred) ORs the lanes where a pred b into Y12.
#define FLAG(a, b, pred) \
	VCMPPS $pred, b, a, Y11; \
	VORPS  Y11, Y12, Y12

// NAN(a, b) flags the lanes where a or b is NaN.
#define NAN(a, b) FLAG(a, b, 3)

// NANCOLS(off, scale) tests the 8 elements at off(row)(AX*scale) of the
// three rows.
#define NANCOLS(off, scale) \
	VMOVUPS off(DX)(AX*scale), Y11;           \
	VCMPPS  $3, off(R12)(AX*scale), Y11, Y11; \
	VORPS   Y11, Y12, Y12;                    \
	VMOVUPS off(R13)(AX*scale), Y11;          \
	NAN(Y11, Y11)

// NANTAPS tests Y0-Y8.
#define NANTAPS \
	NAN(Y0, Y1); \
	NAN(Y2, Y3); \
	NAN(Y4, Y5); \
	NAN(Y6, Y7); \
	NAN(Y8, Y8)

// MLOAD(e, src, dst) loads dst from src, the 8 elements from column
// Y9+e, where they are inside the input (Y10 = w, the sign bits of the
// mask Y15 select), -inf elsewhere. Uses Y11.
#define MLOAD(e, src, dst) \
	VPADDD     poolTaps<>+(32*e)(SB), Y9, Y15; \
	VPCMPGTD   Y15, Y10, Y11;                  \
	VPANDN     Y11, Y15, Y15;                  \
	VMASKMOVPS src, Y15, dst;                  \
	VBLENDVPS  Y15, dst, Y14, dst

// LOAD1: Y0-Y8 = taps 0-8 of windows AX..AX+7, stride 1; tests columns
// AX..AX+7.
#define LOAD1 \
	VMOVUPS (DX)(AX*4), Y0;   \
	VMOVUPS 4(DX)(AX*4), Y1;  \
	VMOVUPS 8(DX)(AX*4), Y2;  \
	VMOVUPS (R12)(AX*4), Y3;  \
	VMOVUPS 4(R12)(AX*4), Y4; \
	VMOVUPS 8(R12)(AX*4), Y5; \
	VMOVUPS (R13)(AX*4), Y6;  \
	VMOVUPS 4(R13)(AX*4), Y7; \
	VMOVUPS 8(R13)(AX*4), Y8; \
	NAN(Y0, Y3);              \
	NAN(Y6, Y6)

// MLOAD1 is LOAD1 through MLOAD, without the test.
#define MLOAD1 \
	MLOAD(0, (DX)(AX*4), Y0);  \
	MLOAD(0, (R12)(AX*4), Y3); \
	MLOAD(0, (R13)(AX*4), Y6); \
	MLOAD(1, 4(DX)(AX*4), Y1);  \
	MLOAD(1, 4(R12)(AX*4), Y4); \
	MLOAD(1, 4(R13)(AX*4), Y7); \
	MLOAD(2, 8(DX)(AX*4), Y2);  \
	MLOAD(2, 8(R12)(AX*4), Y5); \
	MLOAD(2, 8(R13)(AX*4), Y8)

// SHUF2(t0, t1, t2) makes the taps of one row of windows AX..AX+7, stride
// 2, from the elements at 2*AX (t0), 2*AX+8 (t1), 2*AX+1 (t2) and 2*AX+9
// (Y13), in lane order 0, 1, 4, 5, 2, 3, 6, 7: VSHUFPS picks the even or
// odd elements of two vectors within each 128-bit half.
#define SHUF2(t0, t1, t2) \
	VSHUFPS $0x88, t1, t0, t0;  \
	VSHUFPS $0x88, Y13, t2, t1; \
	VSHUFPS $0xDD, Y13, t2, t2

// LOADROW2 loads and shuffles one row of taps, testing columns 2*AX..
// 2*AX+15.
#define LOADROW2(row, t0, t1, t2) \
	VMOVUPS (row)(AX*8), t0;    \
	VMOVUPS 32(row)(AX*8), t1;  \
	VMOVUPS 4(row)(AX*8), t2;   \
	VMOVUPS 36(row)(AX*8), Y13; \
	NAN(t0, t1);                \
	SHUF2(t0, t1, t2)

#define LOAD2 \
	LOADROW2(DX, Y0, Y1, Y2);  \
	LOADROW2(R12, Y3, Y4, Y5); \
	LOADROW2(R13, Y6, Y7, Y8)

// MLOADROW2 is LOADROW2 through MLOAD, without the test.
#define MLOADROW2(row, t0, t1, t2) \
	MLOAD(0, (row)(AX*8), t0);    \
	MLOAD(8, 32(row)(AX*8), t1);  \
	MLOAD(1, 4(row)(AX*8), t2);   \
	MLOAD(9, 36(row)(AX*8), Y13); \
	SHUF2(t0, t1, t2)

#define MLOAD2 \
	MLOADROW2(DX, Y0, Y1, Y2);  \
	MLOADROW2(R12, Y3, Y4, Y5); \
	MLOADROW2(R13, Y6, Y7, Y8)

// REDUCE: Y9 = the maximum of Y0-Y8, Y10 = the tap number of the first
// tap equal to it. Uses Y11.
#define REDUCE \
	VMAXPS    Y1, Y0, Y9;             \
	VPMAXSD   Y1, Y0, Y10;            \
	VMAXPS    Y2, Y9, Y9;             \
	VPMAXSD   Y2, Y10, Y10;           \
	VMAXPS    Y3, Y9, Y9;             \
	VPMAXSD   Y3, Y10, Y10;           \
	VMAXPS    Y4, Y9, Y9;             \
	VPMAXSD   Y4, Y10, Y10;           \
	VMAXPS    Y5, Y9, Y9;             \
	VPMAXSD   Y5, Y10, Y10;           \
	VMAXPS    Y6, Y9, Y9;             \
	VPMAXSD   Y6, Y10, Y10;           \
	VMAXPS    Y7, Y9, Y9;             \
	VPMAXSD   Y7, Y10, Y10;           \
	VMAXPS    Y8, Y9, Y9;             \
	VPMAXSD   Y8, Y10, Y10;           \
	VBLENDVPS Y10, Y9, Y10, Y9;       \
	VMOVUPS   256(R8), Y10;           \
	VCMPPS    $0, Y9, Y7, Y11;        \
	VBLENDVPS Y11, 224(R8), Y10, Y10; \
	VCMPPS    $0, Y9, Y6, Y11;        \
	VBLENDVPS Y11, 192(R8), Y10, Y10; \
	VCMPPS    $0, Y9, Y5, Y11;        \
	VBLENDVPS Y11, 160(R8), Y10, Y10; \
	VCMPPS    $0, Y9, Y4, Y11;        \
	VBLENDVPS Y11, 128(R8), Y10, Y10; \
	VCMPPS    $0, Y9, Y3, Y11;        \
	VBLENDVPS Y11, 96(R8), Y10, Y10;  \
	VCMPPS    $0, Y9, Y2, Y11;        \
	VBLENDVPS Y11, 64(R8), Y10, Y10;  \
	VCMPPS    $0, Y9, Y1, Y11;        \
	VBLENDVPS Y11, 32(R8), Y10, Y10;  \
	VCMPPS    $0, Y9, Y0, Y11;        \
	VBLENDVPS Y11, (R8), Y10, Y10

// STORE writes Y9 to y and the low bytes of Y10 to arg at window AX.
#define STORE \
	VMOVUPS      Y9, (DI)(AX*4); \
	VEXTRACTI128 $1, Y10, X11;   \
	VPACKUSDW    X11, X10, X10;  \
	VPACKUSWB    X10, X10, X10;  \
	VMOVQ        X10, (SI)(AX*1)

// EDGE(SW, MLOADS, UNPERMUTE) does the 8 windows from AX, stride SW,
// through MLOAD, flagging a maximum of -inf.
#define EDGE(SW, MLOADS, UNPERMUTE) \
	MOVQ         c0+64(FP), BX;         \
	LEAQ         (BX)(AX*SW), BX;       \
	VMOVD        BX, X9;                \
	VPBROADCASTD X9, Y9;                \
	VPADDD       poolIota<>(SB), Y9, Y9; \
	VPBROADCASTD w+24(FP), Y10;         \
	MLOADS;                             \
	NANTAPS;                            \
	REDUCE;                             \
	FLAG(Y9, Y14, 0);                   \
	UNPERMUTE;                          \
	STORE

// ROWS runs the band in blocks of 8 windows: the first block (through
// EDGE if lo > 0), the next ones, and the last one, ending at the row's
// last window and overlapping the one before when 8 does not divide
// ystep (through EDGE if hi < ystep, else NANEND tests the input columns
// right of its first tap column).
#define ROWS(SW, LOAD, MLOADS, UNPERMUTE, NANEND) \
	MOVQ   y+0(FP), DI;                   \
	MOVQ   arg+8(FP), SI;                 \
	MOVQ   c0+64(FP), DX;                 \
	SHLQ   $2, DX;                        \
	ADDQ   x+16(FP), DX;                  \
	MOVQ   xstep+40(FP), R10;             \
	SHLQ   $2, R10;                       \
	MOVQ   ystep+48(FP), R11;             \
	MOVQ   rows+56(FP), CX;               \
	LEAQ   -8(R11), R9;                   \
	MOVQ   tapOffset+88(FP), R8;          \
	SHLQ   $5, R8;                        \
	LEAQ   poolTaps<>(SB), AX;            \
	ADDQ   AX, R8;                        \
	VBROADCASTSS poolNegInf<>(SB), Y14;   \
	VXORPS Y12, Y12, Y12;                 \
row:                                      \
	MOVQ   w+24(FP), R12;                 \
	LEAQ   (DX)(R12*4), R12;              \
	MOVQ   d2+32(FP), R13;                \
	LEAQ   (DX)(R13*4), R13;              \
	XORQ   AX, AX;                        \
	CMPQ   AX, lo+72(FP);                 \
	JEQ    test;                          \
	EDGE(SW, MLOADS, UNPERMUTE);          \
	MOVQ   $8, AX;                        \
	JMP    test;                          \
block:                                    \
	LOAD;                                 \
	REDUCE;                               \
	UNPERMUTE;                            \
	STORE;                                \
	ADDQ   $8, AX;                        \
test:                                     \
	CMPQ   AX, R9;                        \
	JLT    block;                         \
	MOVQ   R9, AX;                        \
	CMPQ   R11, hi+80(FP);                \
	JNE    right;                         \
	LOAD;                                 \
	NANEND;                               \
	REDUCE;                               \
	UNPERMUTE;                            \
	STORE;                                \
	JMP    next;                          \
right:                                    \
	EDGE(SW, MLOADS, UNPERMUTE);          \
next:                                     \
	ADDQ   R10, DX;                       \
	LEAQ   (DI)(R11*4), DI;               \
	ADDQ   R11, SI;                       \
	DECQ   CX;                            \
	JNZ    row;                           \
	VMOVMSKPS Y12, AX;                    \
	TESTL  AX, AX;                        \
	SETNE  redo+96(FP);                   \
	VZEROUPPER;                           \
	RET

#define NOUNPERMUTE

#define NANEND1 NANCOLS(8, 4)

// UNPERMUTE2 restores the window order of SHUF2's lanes.
#define UNPERMUTE2 \
	VPERMPD $0xD8, Y9, Y9; \
	VPERMQ  $0xD8, Y10, Y10

#define NANEND2 NANCOLS(36, 8)

// func maxPool3x3S1AVX2(y *float32, arg *uint8, x *float32, w, d2, xstep, ystep, rows, c0, lo, hi, tapOffset int) (redo bool)
TEXT ·maxPool3x3S1AVX2(SB), NOSPLIT, $0-97
	ROWS(1, LOAD1, MLOAD1, NOUNPERMUTE, NANEND1)

// func maxPool3x3S2AVX2(y *float32, arg *uint8, x *float32, w, d2, xstep, ystep, rows, c0, lo, hi, tapOffset int) (redo bool)
TEXT ·maxPool3x3S2AVX2(SB), NOSPLIT, $0-97
	ROWS(2, LOAD2, MLOAD2, UNPERMUTE2, NANEND2)

// MaxPoolBackward's gradient routing for 3x3 windows of stride 1 and 2:
// maxPool3x3BackwardPlane's assembly. Each dx element adds, in the
// windows' row-major order like the scattering Go code, the dy of the
// windows whose stored tap is that element, and -0, which changes no sum,
// for the others; so both give the same bits. The windows of each output
// row, for each of its tap rows ky, add to the input row they cover, 8
// columns (stride 1) or 8 windows (stride 2, the even and odd columns
// apart) at a time.

DATA poolNegZero<>+0(SB)/4, $0x80000000
GLOBL poolNegZero<>(SB), RODATA|NOPTR, $4

// Registers: DI is dx, R11 the input row, SI and DX the output row of dy
// and arg, AX the column (stride 1) or window (stride 2), R8 the tap
// numbers of row ky, R9 the input row of ky = 0, R12 the input row pitch
// in bytes, R13 the last block, BX is ky, CX the output rows left, Y13
// holds -0. R10 and Y1-Y3 are temporaries.

// GRAD(acc, aoff, doff, tap) adds to acc the dy at doff(SI)(AX*4) of the
// 8 windows whose arg at aoff(DX)(AX*1) is the tap at tap(R8), -0 for the
// others.
#define GRAD(acc, aoff, doff, tap) \
	VPMOVZXBD aoff(DX)(AX*1), Y1;         \
	VPCMPEQD  tap(R8), Y1, Y1;            \
	VBLENDVPS Y1, doff(SI)(AX*4), Y13, Y2; \
	VADDPS    Y2, acc, acc

// GRAD1(acc) is dx columns AX..AX+7 plus the gradient of their three
// windows, at AX-2, AX-1 and AX relative to SI and DX.
#define GRAD1(acc) \
	VMOVUPS (R11)(AX*4), acc; \
	TAPS1(acc)

#define STORE1(acc) VMOVUPS acc, (R11)(AX*4)

// GRAD1Z(acc) is GRAD1 for a dx row not yet written (set): +0 plus the
// gradient, as if the row had been cleared.
#define GRAD1Z(acc) \
	VXORPS acc, acc, acc; \
	TAPS1(acc)

// TAPS1(acc) adds the gradient of the three windows of columns AX..AX+7.
#define TAPS1(acc) \
	GRAD(acc, -2, -8, 64); \
	GRAD(acc, -1, -4, 32); \
	GRAD(acc, 0, 0, 0)

// GRAD2(e, o) is dx columns 2*AX..2*AX+15 (relative to R11) plus the
// gradient of windows AX..AX+7: an even column takes tap 2 of the window
// before and tap 0 of its own, an odd one tap 1.
#define GRAD2(e, o) \
	VMOVUPS    (R11)(AX*8), e;   \
	VMOVUPS    32(R11)(AX*8), o; \
	VSHUFPS    $0x88, o, e, Y3;  \
	VSHUFPS    $0xDD, o, e, o;   \
	VPERMPD    $0xD8, Y3, e;     \
	VPERMPD    $0xD8, o, o;      \
	TAPS2(e, o)

// GRAD2Z(e, o) is GRAD2 for a dx row not yet written (set).
#define GRAD2Z(e, o) \
	VXORPS e, e, e; \
	VXORPS o, o, o; \
	TAPS2(e, o)

// TAPS2(e, o) adds the gradient of windows AX..AX+7 to the even (e) and
// odd (o) columns, and interleaves them back into column order.
#define TAPS2(e, o) \
	GRAD(e, -1, -4, 64);        \
	GRAD(e, 0, 0, 0);           \
	GRAD(o, 0, 0, 32);          \
	VUNPCKLPS  o, e, Y3;        \
	VUNPCKHPS  o, e, o;         \
	VPERM2F128 $0x20, o, Y3, e; \
	VPERM2F128 $0x31, o, Y3, o

#define STORE2(e, o) \
	VMOVUPS e, (R11)(AX*8); \
	VMOVUPS o, 32(R11)(AX*8)

// BLOCKS(BLOCK, STORE, ta, tb, blk, tst) runs BLOCK over one tap row's
// blocks of [lo, hi): the last one, at R13, into ta and tb (stored by the
// caller, last), then the others from lo, stored; blk and tst are the
// loop's labels.
#define BLOCKS(BLOCK, STORE, ta, tb, blk, tst) \
	MOVQ R13, AX;       \
	BLOCK(ta, tb);      \
	MOVQ lo+80(FP), AX; \
	JMP  tst;           \
blk:                    \
	BLOCK(Y0, Y4);      \
	STORE(Y0, Y4);      \
	ADDQ $8, AX;        \
tst:                    \
	CMPQ AX, R13;       \
	JLT  blk

// GRADROWS(BLOCK, BLOCKZ, STORE, ta, tb) runs the output rows: for each
// tap row inside the input the blocks of [lo, hi), the last one, ending
// at hi, computed first (into ta, tb) and stored last, as it may overlap
// the others. With set, a tap row that no earlier output row covered
// (the first output row's, or ky + sh > 2) is not read: BLOCKZ starts
// from +0, which is what adding to a cleared row gives.
#define GRADROWS(BLOCK, BLOCKZ, STORE, ta, tb) \
	MOVQ  w+24(FP), R12;               \
	SHLQ  $2, R12;                     \
	MOVQ  hi+88(FP), R13;              \
	SUBQ  $8, R13;                     \
	MOVQ  outH+48(FP), CX;             \
	MOVQ  pt+64(FP), R9;               \
	NEGQ  R9;                          \
	VBROADCASTSS poolNegZero<>(SB), Y13; \
orow:                                  \
	LEAQ  poolTaps<>(SB), R8;          \
	XORQ  BX, BX;                      \
tap:                                   \
	LEAQ  (R9)(BX*1), R11;             \
	CMPQ  R11, h+32(FP);               \
	JAE   skip;                        \
	IMULQ R12, R11;                    \
	ADDQ  DI, R11;                     \
	CMPB  set+96(FP), $0;              \
	JEQ   load;                        \
	CMPQ  CX, outH+48(FP);             \
	JEQ   zero;                        \
	MOVQ  sh+56(FP), R10;              \
	ADDQ  BX, R10;                     \
	CMPQ  R10, $2;                     \
	JGT   zero;                        \
load:                                  \
	BLOCKS(BLOCK, STORE, ta, tb, block, test); \
	JMP   last;                        \
zero:                                  \
	BLOCKS(BLOCKZ, STORE, ta, tb, blockz, testz); \
last:                                  \
	MOVQ  R13, AX;                     \
	STORE(ta, tb);                     \
skip:                                  \
	ADDQ  $96, R8;                     \
	INCQ  BX;                          \
	CMPQ  BX, $3;                      \
	JLT   tap;                         \
	ADDQ  sh+56(FP), R9;               \
	MOVQ  outW+40(FP), R11;            \
	LEAQ  (SI)(R11*4), SI;             \
	ADDQ  R11, DX;                     \
	DECQ  CX;                          \
	JNZ   orow;                        \
	VZEROUPPER;                        \
	RET

// The one-register blocks of stride 1 ignore their second register.
#define GRAD1X(acc, unused) GRAD1(acc)
#define GRAD1ZX(acc, unused) GRAD1Z(acc)
#define STORE1X(acc, unused) STORE1(acc)

// func maxPool3x3GradS1AVX2(dx, dy *float32, arg *uint8, w, h, outW, outH, sh, pt, pl, lo, hi int, set bool)
TEXT ·maxPool3x3GradS1AVX2(SB), NOSPLIT, $0-97
	MOVQ dx+0(FP), DI
	MOVQ dy+8(FP), SI
	MOVQ arg+16(FP), DX
	MOVQ pl+72(FP), AX
	LEAQ (SI)(AX*4), SI
	ADDQ AX, DX
	GRADROWS(GRAD1X, GRAD1ZX, STORE1X, Y15, Y14)

// func maxPool3x3GradS2AVX2(dx, dy *float32, arg *uint8, w, h, outW, outH, sh, pt, pl, lo, hi int, set bool)
TEXT ·maxPool3x3GradS2AVX2(SB), NOSPLIT, $0-97
	MOVQ dx+0(FP), DI
	MOVQ dy+8(FP), SI
	MOVQ arg+16(FP), DX
	MOVQ pl+72(FP), AX
	SHLQ $2, AX
	SUBQ AX, DI
	GRADROWS(GRAD2, GRAD2Z, STORE2, Y15, Y14)

// func noTapUnlessPositiveAVX2(y *float32, arg *uint8, n int)
// ORs 0xFF (noTap) into the arg bytes whose y is not > 0: the dword masks
// of VCMPPS (not greater than, true for NaN) packed to bytes.
TEXT ·noTapUnlessPositiveAVX2(SB), NOSPLIT, $0-24
	MOVQ   y+0(FP), SI
	MOVQ   arg+8(FP), DI
	MOVQ   n+16(FP), CX
	XORQ   AX, AX
	VXORPS Y1, Y1, Y1

positive:
	VMOVUPS      (SI)(AX*4), Y0
	VCMPPS       $0x0A, Y1, Y0, Y0 // y NGT_UQ 0
	VEXTRACTF128 $1, Y0, X2
	VPACKSSDW    X2, X0, X0
	VPACKSSWB    X0, X0, X0
	VMOVQ        (DI)(AX*1), X2
	VPOR         X2, X0, X0
	VMOVQ        X0, (DI)(AX*1)
	ADDQ         $8, AX
	CMPQ         AX, CX
	JB           positive
	VZEROUPPER
	RET
