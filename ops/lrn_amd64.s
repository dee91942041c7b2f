//go:build !purego

#include "textflag.h"

// AVX twins of lrnForwardRowGo (for beta = 0.75), lrnRingRowGo and
// lrnGradRowGo, 8 pixels to a YMM register. They use no fused
// multiply-adds and keep the Go code's order of operations; VSQRTPS and
// VDIVPS round correctly, as the scalar square roots and divisions do, so
// both give the same bits.

DATA lrnOne<>+0(SB)/4, $0x3f800000
GLOBL lrnOne<>(SB), RODATA|NOPTR, $4

// SUMSQ: Y0 = sum of the squares of x0 .. x4 at index AX, from left to
// right; Y2 = x2. Uses Y1.
#define SUMSQ(x0, x1, x2, x3, x4) \
	VMOVUPS (x0)(AX*4), Y0; \
	VMULPS  Y0, Y0, Y0;     \
	VMOVUPS (x1)(AX*4), Y1; \
	VMULPS  Y1, Y1, Y1;     \
	VADDPS  Y1, Y0, Y0;     \
	VMOVUPS (x2)(AX*4), Y2; \
	VMULPS  Y2, Y2, Y1;     \
	VADDPS  Y1, Y0, Y0;     \
	VMOVUPS (x3)(AX*4), Y1; \
	VMULPS  Y1, Y1, Y1;     \
	VADDPS  Y1, Y0, Y0;     \
	VMOVUPS (x4)(AX*4), Y1; \
	VMULPS  Y1, Y1, Y1;     \
	VADDPS  Y1, Y0, Y0

// func lrnForwardRowAVX(y, f, x0, x1, x2, x3, x4 *float32, n int, k, bias float32)
TEXT ·lrnForwardRowAVX(SB), NOSPLIT, $0-72
	MOVQ         y+0(FP), DI
	MOVQ         f+8(FP), SI
	MOVQ         x0+16(FP), R8
	MOVQ         x1+24(FP), R9
	MOVQ         x2+32(FP), R10
	MOVQ         x3+40(FP), R11
	MOVQ         x4+48(FP), R12
	MOVQ         n+56(FP), CX
	VBROADCASTSS k+64(FP), Y14
	VBROADCASTSS bias+68(FP), Y15
	VBROADCASTSS lrnOne<>(SB), Y13
	XORQ         AX, AX

forward:
	SUMSQ(R8, R9, R10, R11, R12)
	VMULPS  Y14, Y0, Y0 // bias + k*s
	VADDPS  Y15, Y0, Y0
	VSQRTPS Y0, Y0      // r
	VSQRTPS Y0, Y1
	VMULPS  Y1, Y0, Y0
	VDIVPS  Y0, Y13, Y0 // f = 1 / (r*sqrt(r))
	VMOVUPS Y0, (SI)(AX*4)
	VMULPS  Y0, Y2, Y2
	VMOVUPS Y2, (DI)(AX*4)
	ADDQ    $8, AX
	CMPQ    AX, CX
	JB      forward
	VZEROUPPER
	RET

// func lrnFactorRingRowAVX(w, f, dy, x0, x1, x2, x3, x4 *float32, n int, k, bias float32)
// lrnForwardRowAVX's factor and the backward term dy*y/s from one window sum.
TEXT ·lrnFactorRingRowAVX(SB), NOSPLIT, $0-80
	MOVQ         w+0(FP), DI
	MOVQ         f+8(FP), SI
	MOVQ         dy+16(FP), DX
	MOVQ         x0+24(FP), R8
	MOVQ         x1+32(FP), R9
	MOVQ         x2+40(FP), R10
	MOVQ         x3+48(FP), R11
	MOVQ         x4+56(FP), R12
	MOVQ         n+64(FP), CX
	VBROADCASTSS k+72(FP), Y14
	VBROADCASTSS bias+76(FP), Y15
	VBROADCASTSS lrnOne<>(SB), Y13
	XORQ         AX, AX

factorring:
	SUMSQ(R8, R9, R10, R11, R12)
	VMULPS  Y14, Y0, Y0 // t = bias + k*s
	VADDPS  Y15, Y0, Y0
	VSQRTPS Y0, Y3      // r
	VSQRTPS Y3, Y1
	VMULPS  Y1, Y3, Y3
	VDIVPS  Y3, Y13, Y3 // f = 1 / (r*sqrt(r))
	VMOVUPS Y3, (SI)(AX*4)
	VMULPS  Y3, Y2, Y2  // dy * (x2*f) / t
	VMULPS  (DX)(AX*4), Y2, Y2
	VDIVPS  Y0, Y2, Y2
	VMOVUPS Y2, (DI)(AX*4)
	ADDQ    $8, AX
	CMPQ    AX, CX
	JB      factorring
	VZEROUPPER
	RET

// func lrnGradRowAVX(dx, dy, x, f, w0, w1, w2, w3, w4 *float32, n int, k2 float32, set, relu bool)
TEXT ·lrnGradRowAVX(SB), NOSPLIT, $0-86
	MOVQ         dx+0(FP), DI
	MOVQ         dy+8(FP), SI
	MOVQ         x+16(FP), DX
	MOVQ         f+24(FP), BX
	MOVQ         w0+32(FP), R8
	MOVQ         w1+40(FP), R9
	MOVQ         w2+48(FP), R10
	MOVQ         w3+56(FP), R11
	MOVQ         w4+64(FP), R12
	MOVQ         n+72(FP), CX
	VBROADCASTSS k2+80(FP), Y15
	MOVBQZX      relu+85(FP), R13
	VXORPS       Y14, Y14, Y14
	XORQ         AX, AX
	CMPB         set+84(FP), $0
	JNE          setgrad

// GRAD8 sets Y2 to the gradient of the 8 elements at AX: dy*f less
// k2*x * (w0 + w1 + w2 + w3 + w4), and with relu (R13) 0 where x is not
// > 0 (GT_OQ: NaN is not).
#define GRAD8 \
	VMOVUPS (R8)(AX*4), Y0        \
	VADDPS  (R9)(AX*4), Y0, Y0    \
	VADDPS  (R10)(AX*4), Y0, Y0   \
	VADDPS  (R11)(AX*4), Y0, Y0   \
	VADDPS  (R12)(AX*4), Y0, Y0   \
	VMULPS  (DX)(AX*4), Y15, Y1   \
	VMULPS  Y0, Y1, Y1            \
	VMOVUPS (SI)(AX*4), Y2        \
	VMULPS  (BX)(AX*4), Y2, Y2    \
	VSUBPS  Y1, Y2, Y2            \
	TESTQ   R13, R13              \
	JZ      4(PC)                 \
	VMOVUPS (DX)(AX*4), Y3        \
	VCMPPS  $0x1E, Y14, Y3, Y3    \
	VANDPS  Y3, Y2, Y2

grad:
	GRAD8
	VADDPS  (DI)(AX*4), Y2, Y2
	VMOVUPS Y2, (DI)(AX*4)
	ADDQ    $8, AX
	CMPQ    AX, CX
	JB      grad
	VZEROUPPER
	RET

setgrad: // dx is set, not added to
	GRAD8
	VMOVUPS Y2, (DI)(AX*4)
	ADDQ    $8, AX
	CMPQ    AX, CX
	JB      setgrad
	VZEROUPPER
	RET
