//go:build !purego

#include "textflag.h"

// func gather2AVX(dst, src *float32, blocks int)
// Per block: 16 source floats, the even ones picked by VSHUFPS within
// each 128-bit lane (s0 s2 s8 s10 | s4 s6 s12 s14) and put in order by
// VPERMPD.
TEXT ·gather2AVX(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ blocks+16(FP), CX

gather:
	VMOVUPS 0(SI), Y0
	VMOVUPS 32(SI), Y1
	VSHUFPS $0x88, Y1, Y0, Y2
	VPERMPD $0xD8, Y2, Y2
	VMOVUPS Y2, 0(DI)
	ADDQ    $64, SI
	ADDQ    $32, DI
	DECQ    CX
	JNZ     gather
	VZEROUPPER
	RET

// func scatterAdd2AVX(dst, src *float32, weight float32, blocks int)
// Per block: weight*src interleaved with zeros, added to 16 destination
// floats, whose odd ones are then blended back unchanged (x + 0 would
// turn -0 into +0).
TEXT ·scatterAdd2AVX(SB), NOSPLIT, $0-32
	MOVQ         dst+0(FP), DI
	MOVQ         src+8(FP), SI
	VBROADCASTSS weight+16(FP), Y15
	MOVQ         blocks+24(FP), CX
	VXORPS       Y14, Y14, Y14

scatter:
	VMOVUPS    0(SI), Y0
	VMULPS     Y15, Y0, Y0
	VUNPCKLPS  Y14, Y0, Y1        // w0 0 w1 0 | w4 0 w5 0
	VUNPCKHPS  Y14, Y0, Y2        // w2 0 w3 0 | w6 0 w7 0
	VPERM2F128 $0x20, Y2, Y1, Y3  // w0 0 w1 0 w2 0 w3 0
	VPERM2F128 $0x31, Y2, Y1, Y4  // w4 0 w5 0 w6 0 w7 0
	VMOVUPS    0(DI), Y5
	VMOVUPS    32(DI), Y6
	VADDPS     Y3, Y5, Y7
	VADDPS     Y4, Y6, Y8
	VBLENDPS   $0xAA, Y5, Y7, Y7
	VBLENDPS   $0xAA, Y6, Y8, Y8
	VMOVUPS    Y7, 0(DI)
	VMOVUPS    Y8, 32(DI)
	ADDQ       $32, SI
	ADDQ       $64, DI
	DECQ       CX
	JNZ        scatter
	VZEROUPPER
	RET

// func axpyAVX(dst, src *float32, weight float32, blocks int)
// dst += weight*src, 8 at a time; a multiply then an add, as the Go twin
// rounds.
TEXT ·axpyAVX(SB), NOSPLIT, $0-32
	MOVQ         dst+0(FP), DI
	MOVQ         src+8(FP), SI
	VBROADCASTSS weight+16(FP), Y15
	MOVQ         blocks+24(FP), CX

axpy:
	VMULPS  0(SI), Y15, Y0
	VADDPS  0(DI), Y0, Y0
	VMOVUPS Y0, 0(DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	DECQ    CX
	JNZ     axpy
	VZEROUPPER
	RET
