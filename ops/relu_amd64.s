//go:build !purego

#include "textflag.h"

// AVX2 twins of reluGo, reluBackwardGo, reluBitsGo and reluMaskBitsGo, on
// whole vectors or mask words. Each gives the Go twin's bits: they only
// compare, select and mask, but for reluBackward's add, which rounds as
// the Go twin's does. Only the sum of two NaNs may differ: which one it
// keeps depends on the operand order, which Go leaves to the compiler.
//
// VCMPPS predicates (Go operand order: $pred, b, a, dst computes a pred b):
// $0x11 is a < b and $0x16 is !(a <= b), both false on NaN before the
// negation, so 0 < y is false for NaN, and !(x <= 0) true.

// RELU: y = x where !(x <= 0), else +0, as reluGo: a NaN kept as it is,
// -0 made +0. VMAXPS alone cannot do both: it returns the same operand for
// a NaN and for two zeros.
#define RELU(off) \
	VMOVUPS off(SI), Y0;          \
	VCMPPS  $0x16, Y15, Y0, Y1;   \
	VANDPS  Y1, Y0, Y0;           \
	VMOVUPS Y0, off(DI)

// func reluAsm(dst, x *float32, n int)
TEXT ·reluAsm(SB), NOSPLIT, $0-24
	MOVQ   dst+0(FP), DI
	MOVQ   x+8(FP), SI
	MOVQ   n+16(FP), CX
	VXORPS Y15, Y15, Y15
	CMPQ   CX, $32
	JLT    vec

	// Four vectors a step: on data in cache (a small layer's output)
	// this doubles the speed of one vector a step.
quad:
	RELU(0)
	RELU(32)
	RELU(64)
	RELU(96)
	ADDQ $128, SI
	ADDQ $128, DI
	SUBQ $32, CX
	CMPQ CX, $32
	JGE  quad

vec:
	TESTQ CX, CX
	JZ    done
	RELU(0)
	ADDQ  $32, SI
	ADDQ  $32, DI
	SUBQ  $8, CX
	JMP   vec

done:
	VZEROUPPER
	RET

// func reluBackwardAsm(dx, dy, y *float32, n int)
//
// dx + dy is taken everywhere and kept where 0 < y: adding a masked dy
// instead would turn dx = -0 into +0 where y <= 0.
TEXT ·reluBackwardAsm(SB), NOSPLIT, $0-32
	MOVQ   dx+0(FP), DI
	MOVQ   dy+8(FP), SI
	MOVQ   y+16(FP), DX
	MOVQ   n+24(FP), CX
	VXORPS Y15, Y15, Y15

loop:
	VMOVUPS   (DI), Y0
	VADDPS    (SI), Y0, Y1
	VCMPPS    $0x11, (DX), Y15, Y2
	VBLENDVPS Y2, Y1, Y0, Y0
	VMOVUPS   Y0, (DI)
	ADDQ      $32, DI
	ADDQ      $32, SI
	ADDQ      $32, DX
	SUBQ      $8, CX
	JNZ       loop

	VZEROUPPER
	RET

// BITS8: the 8 bits of 0 < y for the vector at off, ORed into DX at bit
// shift.
#define BITS8(off, shift) \
	VCMPPS    $0x11, off(SI), Y15, Y0; \
	VMOVMSKPS Y0, AX;                  \
	SHLQ      $shift, AX;              \
	ORQ       AX, DX

// func reluBitsAsm(mask *uint64, y *float32, words int)
TEXT ·reluBitsAsm(SB), NOSPLIT, $0-24
	MOVQ   mask+0(FP), DI
	MOVQ   y+8(FP), SI
	MOVQ   words+16(FP), CX
	VXORPS Y15, Y15, Y15

loop:
	VCMPPS    $0x11, (SI), Y15, Y0
	VMOVMSKPS Y0, DX
	BITS8(32, 8)
	BITS8(64, 16)
	BITS8(96, 24)
	BITS8(128, 32)
	BITS8(160, 40)
	BITS8(192, 48)
	BITS8(224, 56)
	MOVQ      DX, (DI)
	ADDQ      $8, DI
	ADDQ      $256, SI
	DECQ      CX
	JNZ       loop

	VZEROUPPER
	RET

// reluMaskShifts: lane j of vector g moves bit 8g+j of a 32-bit half
// mask word to its sign bit.
DATA reluMaskShifts<>+0x00(SB)/4, $31
DATA reluMaskShifts<>+0x04(SB)/4, $30
DATA reluMaskShifts<>+0x08(SB)/4, $29
DATA reluMaskShifts<>+0x0c(SB)/4, $28
DATA reluMaskShifts<>+0x10(SB)/4, $27
DATA reluMaskShifts<>+0x14(SB)/4, $26
DATA reluMaskShifts<>+0x18(SB)/4, $25
DATA reluMaskShifts<>+0x1c(SB)/4, $24
DATA reluMaskShifts<>+0x20(SB)/4, $23
DATA reluMaskShifts<>+0x24(SB)/4, $22
DATA reluMaskShifts<>+0x28(SB)/4, $21
DATA reluMaskShifts<>+0x2c(SB)/4, $20
DATA reluMaskShifts<>+0x30(SB)/4, $19
DATA reluMaskShifts<>+0x34(SB)/4, $18
DATA reluMaskShifts<>+0x38(SB)/4, $17
DATA reluMaskShifts<>+0x3c(SB)/4, $16
DATA reluMaskShifts<>+0x40(SB)/4, $15
DATA reluMaskShifts<>+0x44(SB)/4, $14
DATA reluMaskShifts<>+0x48(SB)/4, $13
DATA reluMaskShifts<>+0x4c(SB)/4, $12
DATA reluMaskShifts<>+0x50(SB)/4, $11
DATA reluMaskShifts<>+0x54(SB)/4, $10
DATA reluMaskShifts<>+0x58(SB)/4, $9
DATA reluMaskShifts<>+0x5c(SB)/4, $8
DATA reluMaskShifts<>+0x60(SB)/4, $7
DATA reluMaskShifts<>+0x64(SB)/4, $6
DATA reluMaskShifts<>+0x68(SB)/4, $5
DATA reluMaskShifts<>+0x6c(SB)/4, $4
DATA reluMaskShifts<>+0x70(SB)/4, $3
DATA reluMaskShifts<>+0x74(SB)/4, $2
DATA reluMaskShifts<>+0x78(SB)/4, $1
DATA reluMaskShifts<>+0x7c(SB)/4, $0
GLOBL reluMaskShifts<>(SB), RODATA|NOPTR, $128

// MASK8: dy at off ANDed with all ones in the lanes whose bit, brought to
// the sign by shifts, is set.
#define MASK8(bits, shifts, off) \
	VPSLLVD shifts, bits, Y0; \
	VPSRAD  $31, Y0, Y0;      \
	VANDPS  off(DI), Y0, Y0;  \
	VMOVUPS Y0, off(DI)

// func reluMaskBitsAsm(dy *float32, mask *uint64, words int)
TEXT ·reluMaskBitsAsm(SB), NOSPLIT, $0-24
	MOVQ    dy+0(FP), DI
	MOVQ    mask+8(FP), SI
	MOVQ    words+16(FP), CX
	LEAQ    reluMaskShifts<>(SB), AX
	VMOVDQU 0(AX), Y12
	VMOVDQU 32(AX), Y13
	VMOVDQU 64(AX), Y14
	VMOVDQU 96(AX), Y15

loop:
	VPBROADCASTD (SI), Y8
	VPBROADCASTD 4(SI), Y9
	MASK8(Y8, Y12, 0)
	MASK8(Y8, Y13, 32)
	MASK8(Y8, Y14, 64)
	MASK8(Y8, Y15, 96)
	MASK8(Y9, Y12, 128)
	MASK8(Y9, Y13, 160)
	MASK8(Y9, Y14, 192)
	MASK8(Y9, Y15, 224)
	ADDQ         $8, SI
	ADDQ         $256, DI
	DECQ         CX
	JNZ          loop

	VZEROUPPER
	RET
