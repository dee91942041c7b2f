//go:build !purego

#include "textflag.h"

// AVX twins of winoInputLanesGo and winoOutputLanesGo: one YMM register
// holds one value of wgLanes = 8 tiles, so each transform is the scalar
// one on vectors. Multiplications by 2, 4 and 8 are done as doublings and
// 5x as 4x + x, which round exactly like the Go code's products, so both
// give the same bits.

// BT: Y0-Y5 = d0-d5 -> t0-t5 (B^T of winoBT), stored at s0-s5. Uses Y6-Y13.
#define BT(s0, s1, s2, s3, s4, s5) \
	VADDPS  Y2, Y2, Y6;   \
	VADDPS  Y6, Y6, Y6;   \
	VADDPS  Y1, Y1, Y7;   \
	VADDPS  Y7, Y7, Y7;   \
	VADDPS  Y0, Y0, Y8;   \
	VADDPS  Y8, Y8, Y8;   \
	VADDPS  Y2, Y6, Y9;   \
	VSUBPS  Y9, Y8, Y8;   \
	VADDPS  Y4, Y8, Y8;   \
	VMOVUPS Y8, s0;       \
	VSUBPS  Y6, Y4, Y10;  \
	VSUBPS  Y7, Y3, Y11;  \
	VADDPS  Y11, Y10, Y8; \
	VMOVUPS Y8, s1;       \
	VSUBPS  Y11, Y10, Y8; \
	VMOVUPS Y8, s2;       \
	VSUBPS  Y2, Y4, Y12;  \
	VSUBPS  Y1, Y3, Y13;  \
	VADDPS  Y13, Y13, Y13; \
	VADDPS  Y13, Y12, Y8; \
	VMOVUPS Y8, s3;       \
	VSUBPS  Y13, Y12, Y8; \
	VMOVUPS Y8, s4;       \
	VADDPS  Y3, Y3, Y9;   \
	VADDPS  Y9, Y9, Y9;   \
	VADDPS  Y3, Y9, Y9;   \
	VSUBPS  Y9, Y7, Y8;   \
	VADDPS  Y5, Y8, Y8;   \
	VMOVUPS Y8, s5

// The A^T of winoAT, winoAT3 and winoAT2 on Y0-Y5 = m0-m5, with a = m1+m2,
// b = m3+m4, c = m1-m2, d = m3-m4 (Y6-Y9) and each output formed in Y10.
// ATHEAD stores o0 = m0 + a + b at s0; the rest of each matrix's rows
// follow from the C2D, A4B, C8D and ADDM5 steps.
#define ATHEAD(s0) \
	VADDPS  Y2, Y1, Y6;   \
	VADDPS  Y4, Y3, Y7;   \
	VSUBPS  Y2, Y1, Y8;   \
	VSUBPS  Y4, Y3, Y9;   \
	VADDPS  Y6, Y0, Y10;  \
	VADDPS  Y7, Y10, Y10; \
	VMOVUPS Y10, s0

// Y10 = c + 2d
#define C2D \
	VADDPS Y9, Y9, Y10; \
	VADDPS Y10, Y8, Y10

// Y10 = a + 4b
#define A4B \
	VADDPS Y7, Y7, Y10;   \
	VADDPS Y10, Y10, Y10; \
	VADDPS Y10, Y6, Y10

// Y10 = c + 8d
#define C8D \
	VADDPS Y9, Y9, Y10;   \
	VADDPS Y10, Y10, Y10; \
	VADDPS Y10, Y10, Y10; \
	VADDPS Y10, Y8, Y10

// Y10 += m5
#define ADDM5 VADDPS Y5, Y10, Y10

// AT: F(4x4, 3x3)'s rows [1 1 1 1 1 0] [0 1 -1 2 -2 0] [0 1 1 4 4 0]
// [0 1 -1 8 -8 1], stored at s0-s3.
#define AT(s0, s1, s2, s3) \
	ATHEAD(s0);       \
	C2D;              \
	VMOVUPS Y10, s1;  \
	A4B;              \
	VMOVUPS Y10, s2;  \
	C8D;              \
	ADDM5;            \
	VMOVUPS Y10, s3

// AT3: F(3x3, 4x4)'s rows [1 1 1 1 1 0] [0 1 -1 2 -2 0] [0 1 1 4 4 1].
#define AT3(s0, s1, s2) \
	ATHEAD(s0);       \
	C2D;              \
	VMOVUPS Y10, s1;  \
	A4B;              \
	ADDM5;            \
	VMOVUPS Y10, s2

// AT2: F(2x2, 5x5)'s rows [1 1 1 1 1 0] [0 1 -1 2 -2 1].
#define AT2(s0, s1) \
	ATHEAD(s0);       \
	C2D;              \
	ADDM5;            \
	VMOVUPS Y10, s1

// STOREHEAD loads the arguments of the winoStoreRows kernels (all
// func(y *float32, ow int, o *[16][8]float32, bias float32, mode int)):
// DI = y, DX = ow in bytes (the row stride), SI = o, Y15 = bias broadcast,
// R8 = mode, Y14 = 0.
#define STOREHEAD \
	MOVQ         y+0(FP), DI;     \
	MOVQ         ow+8(FP), DX;    \
	SHLQ         $2, DX;          \
	MOVQ         o+16(FP), SI;    \
	VBROADCASTSS bias+24(FP), Y15; \
	MOVQ         mode+32(FP), R8; \
	VXORPS       Y14, Y14, Y14

// The store modes on a vector r of outputs: BIASED adds the bias; RELU
// rectifies as Go's max(r, 0) does (VMAXPS with r as the operand it
// returns for NaN, then + 0 to make -0 into +0); ADDY adds y at off.
#define BIASED(r) VADDPS Y15, r, r
#define RELU(r) VMAXPS r, Y14, r; VADDPS Y14, r, r
#define ADDY(r, off) VADDPS off(DI), r, r

// func winoInputAVX(v *float32, stride int, d, s *[36][8]float32)
TEXT ·winoInputAVX(SB), NOSPLIT, $0-32
	MOVQ v+0(FP), DI
	MOVQ stride+8(FP), DX
	SHLQ $2, DX            // plane stride in bytes
	MOVQ d+16(FP), SI
	MOVQ s+24(FP), R11

	// s = B^T d by columns: column j is d[j], d[6+j], ..., d[30+j].
	MOVQ $6, CX
incol:
	VMOVUPS 0(SI), Y0
	VMOVUPS 192(SI), Y1
	VMOVUPS 384(SI), Y2
	VMOVUPS 576(SI), Y3
	VMOVUPS 768(SI), Y4
	VMOVUPS 960(SI), Y5
	BT(0(R11), 192(R11), 384(R11), 576(R11), 768(R11), 960(R11))
	ADDQ $32, SI
	ADDQ $32, R11
	DECQ CX
	JNZ  incol

	// V = s B by rows: row i is s[6i..6i+5], into planes 6i..6i+5.
	SUBQ $192, R11
	LEAQ (DX)(DX*2), R10   // 3 planes
	MOVQ $6, CX
inrow:
	VMOVUPS 0(R11), Y0
	VMOVUPS 32(R11), Y1
	VMOVUPS 64(R11), Y2
	VMOVUPS 96(R11), Y3
	VMOVUPS 128(R11), Y4
	VMOVUPS 160(R11), Y5
	LEAQ (DI)(R10*1), R9
	BT((DI), (DI)(DX*1), (DI)(DX*2), (R9), (R9)(DX*1), (R9)(DX*2))
	LEAQ (R9)(R10*1), DI
	ADDQ $192, R11
	DECQ CX
	JNZ  inrow
	VZEROUPPER
	RET

// winoOutputAVX: winoOutputLanesGo for out = 4, 3 or 2.
// func winoOutputAVX(o *[16][8]float32, s *[24][8]float32, z *float32, stride int, out int)
TEXT ·winoOutputAVX(SB), NOSPLIT, $0-40
	MOVQ o+0(FP), DI
	MOVQ s+8(FP), R11
	MOVQ z+16(FP), SI
	MOVQ stride+24(FP), DX
	MOVQ out+32(FP), BX
	SHLQ $2, DX            // plane stride in bytes
	LEAQ (DX)(DX*2), R10
	SHLQ $1, R10           // 6 planes

	// s = A^T Z by columns: column j is planes j, 6+j, ..., 30+j, and
	// goes to s[j], s[6+j], ...
	MOVQ $6, CX
outcol:
	LEAQ (SI)(R10*2), R9
	LEAQ (R9)(R10*1), R9   // plane 18+j
	VMOVUPS (SI), Y0
	VMOVUPS (SI)(R10*1), Y1
	VMOVUPS (SI)(R10*2), Y2
	VMOVUPS (R9), Y3
	VMOVUPS (R9)(R10*1), Y4
	VMOVUPS (R9)(R10*2), Y5
	CMPQ BX, $3
	JEQ  col3
	JLT  col2
	AT(0(R11), 192(R11), 384(R11), 576(R11))
	JMP  colnext
col3:
	AT3(0(R11), 192(R11), 384(R11))
	JMP  colnext
col2:
	AT2(0(R11), 192(R11))
colnext:
	ADDQ DX, SI
	ADDQ $32, R11
	DECQ CX
	JNZ  outcol

	// o = s A by rows: row i is s[6i..6i+5], into o[out*i ..].
	SUBQ $192, R11
	MOVQ BX, R12
	SHLQ $5, R12           // a row of o in bytes
	MOVQ BX, CX
outrow:
	VMOVUPS 0(R11), Y0
	VMOVUPS 32(R11), Y1
	VMOVUPS 64(R11), Y2
	VMOVUPS 96(R11), Y3
	VMOVUPS 128(R11), Y4
	VMOVUPS 160(R11), Y5
	CMPQ BX, $3
	JEQ  row3
	JLT  row2
	AT(0(DI), 32(DI), 64(DI), 96(DI))
	JMP  rownext
row3:
	AT3(0(DI), 32(DI), 64(DI))
	JMP  rownext
row2:
	AT2(0(DI), 32(DI))
rownext:
	ADDQ R12, DI
	ADDQ $192, R11
	DECQ CX
	JNZ  outrow
	VZEROUPPER
	RET

// winoStoreRowsAVX: winoStoreRowsGo. Row i of o holds outputs j = 0..3 of
// the 8 tiles, one vector per j; a 4x8 transposition turns it into the
// 32 values of the image row, tile after tile, then the mode (BIASED,
// RELU or ADDY).
// func winoStoreRowsAVX(y *float32, ow int, o *[16][8]float32, bias float32, mode int)
TEXT ·winoStoreRowsAVX(SB), NOSPLIT, $0-40
	STOREHEAD
	MOVQ         $4, CX

storerow:
	VMOVUPS    0(SI), Y0                // j = 0 of tiles 0..7: a0..a7
	VMOVUPS    32(SI), Y1               // b0..b7
	VMOVUPS    64(SI), Y2               // c0..c7
	VMOVUPS    96(SI), Y3               // d0..d7
	VUNPCKLPS  Y1, Y0, Y4               // a0 b0 a1 b1 | a4 b4 a5 b5
	VUNPCKHPS  Y1, Y0, Y5               // a2 b2 a3 b3 | a6 b6 a7 b7
	VUNPCKLPS  Y3, Y2, Y6               // c0 d0 c1 d1 | c4 d4 c5 d5
	VUNPCKHPS  Y3, Y2, Y7               // c2 d2 c3 d3 | c6 d6 c7 d7
	VUNPCKLPD  Y6, Y4, Y0               // tile 0 | tile 4
	VUNPCKHPD  Y6, Y4, Y1               // tile 1 | tile 5
	VUNPCKLPD  Y7, Y5, Y2               // tile 2 | tile 6
	VUNPCKHPD  Y7, Y5, Y3               // tile 3 | tile 7
	VPERM2F128 $0x20, Y1, Y0, Y4        // tiles 0, 1
	VPERM2F128 $0x20, Y3, Y2, Y5        // tiles 2, 3
	VPERM2F128 $0x31, Y1, Y0, Y6        // tiles 4, 5
	VPERM2F128 $0x31, Y3, Y2, Y7        // tiles 6, 7
	CMPQ       R8, $2
	JEQ        accumulate
	BIASED(Y4)
	BIASED(Y5)
	BIASED(Y6)
	BIASED(Y7)
	CMPQ       R8, $1
	JNE        store
	RELU(Y4)
	RELU(Y5)
	RELU(Y6)
	RELU(Y7)
	JMP        store

accumulate:
	ADDY(Y4, 0)
	ADDY(Y5, 32)
	ADDY(Y6, 64)
	ADDY(Y7, 96)

store:
	VMOVUPS Y4, 0(DI)
	VMOVUPS Y5, 32(DI)
	VMOVUPS Y6, 64(DI)
	VMOVUPS Y7, 96(DI)
	ADDQ    $128, SI
	ADDQ    DX, DI
	DECQ    CX
	JNZ     storerow
	VZEROUPPER
	RET

// winoGatherAVX: winoGatherGo. Each row of the 6x6 input tiles of 8
// tiles side by side reads 34 floats: groups of 4 for values j = 0..3 of
// tiles 0..7, and the same groups one tile on for j = 4, 5; an 8x4
// transposition turns each into vectors of 8 tiles.
// func winoGatherAVX(d *[36][8]float32, x *float32, w int)
TEXT ·winoGatherAVX(SB), NOSPLIT, $0-24
	MOVQ d+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ w+16(FP), DX
	SHLQ $2, DX      // row stride in bytes
	MOVQ $6, CX

gatherrow:
	VMOVUPS    0(SI), Y0         // tiles 0, 1: j = 0..3
	VMOVUPS    32(SI), Y1        // tiles 2, 3
	VMOVUPS    64(SI), Y2        // tiles 4, 5
	VMOVUPS    96(SI), Y3        // tiles 6, 7
	VPERM2F128 $0x20, Y2, Y0, Y4 // tiles 0 | 4
	VPERM2F128 $0x31, Y2, Y0, Y5 // tiles 1 | 5
	VPERM2F128 $0x20, Y3, Y1, Y6 // tiles 2 | 6
	VPERM2F128 $0x31, Y3, Y1, Y7 // tiles 3 | 7
	VUNPCKLPS  Y5, Y4, Y8        // t0j0 t1j0 t0j1 t1j1 | t4 t5
	VUNPCKHPS  Y5, Y4, Y9        // t0j2 t1j2 t0j3 t1j3 | t4 t5
	VUNPCKLPS  Y7, Y6, Y10       // t2j0 t3j0 t2j1 t3j1 | t6 t7
	VUNPCKHPS  Y7, Y6, Y11       // t2j2 t3j2 t2j3 t3j3 | t6 t7
	VUNPCKLPD  Y10, Y8, Y0       // j = 0
	VUNPCKHPD  Y10, Y8, Y1       // j = 1
	VUNPCKLPD  Y11, Y9, Y2       // j = 2
	VUNPCKHPD  Y11, Y9, Y3       // j = 3
	VMOVUPS    Y0, 0(DI)
	VMOVUPS    Y1, 32(DI)
	VMOVUPS    Y2, 64(DI)
	VMOVUPS    Y3, 96(DI)

	// j = 4, 5 are j = 0, 1 of the groups one tile on.
	VMOVUPS    16(SI), Y0
	VMOVUPS    48(SI), Y1
	VMOVUPS    80(SI), Y2
	VMOVUPS    112(SI), Y3
	VPERM2F128 $0x20, Y2, Y0, Y4
	VPERM2F128 $0x31, Y2, Y0, Y5
	VPERM2F128 $0x20, Y3, Y1, Y6
	VPERM2F128 $0x31, Y3, Y1, Y7
	VUNPCKLPS  Y5, Y4, Y8
	VUNPCKLPS  Y7, Y6, Y10
	VUNPCKLPD  Y10, Y8, Y0
	VUNPCKHPD  Y10, Y8, Y1
	VMOVUPS    Y0, 128(DI)
	VMOVUPS    Y1, 160(DI)

	ADDQ $192, DI
	ADDQ DX, SI
	DECQ CX
	JNZ  gatherrow
	VZEROUPPER
	RET

// winoStoreRows2AVX: winoStoreRows2Go. Row i of o holds outputs j = 0, 1
// of the 8 tiles; interleaving the two vectors gives the 16 values of the
// image row, tile after tile. Modes as in winoStoreRowsAVX.
// func winoStoreRows2AVX(y *float32, ow int, o *[16][8]float32, bias float32, mode int)
TEXT ·winoStoreRows2AVX(SB), NOSPLIT, $0-40
	STOREHEAD
	MOVQ         $2, CX

store2row:
	VMOVUPS    0(SI), Y0                // j = 0 of tiles 0..7: a0..a7
	VMOVUPS    32(SI), Y1               // b0..b7
	VUNPCKLPS  Y1, Y0, Y2               // a0 b0 a1 b1 | a4 b4 a5 b5
	VUNPCKHPS  Y1, Y0, Y3               // a2 b2 a3 b3 | a6 b6 a7 b7
	VPERM2F128 $0x20, Y3, Y2, Y4        // tiles 0..3
	VPERM2F128 $0x31, Y3, Y2, Y5        // tiles 4..7
	CMPQ       R8, $2
	JEQ        accumulate2
	BIASED(Y4)
	BIASED(Y5)
	CMPQ       R8, $1
	JNE        store2
	RELU(Y4)
	RELU(Y5)
	JMP        store2

accumulate2:
	ADDY(Y4, 0)
	ADDY(Y5, 32)

store2:
	VMOVUPS Y4, 0(DI)
	VMOVUPS Y5, 32(DI)
	ADDQ    $64, SI
	ADDQ    DX, DI
	DECQ    CX
	JNZ     store2row
	VZEROUPPER
	RET

// GATHER2: values j and j+1 of the 8 tiles of one row, tiles 2 apart, are
// the even and odd elements of the 16 floats from x[j]: lo(SI) and hi(SI)
// are x[j:j+8] and x[j+8:j+16]; swapping their middle halves and picking
// elements 0, 2 (or 1, 3) of each half of both gives them in order.
#define GATHER2(lo, hi, dj0, dj1) \
	VMOVUPS    lo(SI), Y0;       \
	VMOVUPS    hi(SI), Y1;       \
	VPERM2F128 $0x20, Y1, Y0, Y2; \
	VPERM2F128 $0x31, Y1, Y0, Y3; \
	VSHUFPS    $0x88, Y3, Y2, Y4; \
	VSHUFPS    $0xDD, Y3, Y2, Y5; \
	VMOVUPS    Y4, dj0;          \
	VMOVUPS    Y5, dj1

// winoGather2AVX: winoGather2Go. It reads x[i*w : i*w+20] of each row i.
// func winoGather2AVX(d *[36][8]float32, x *float32, w int)
TEXT ·winoGather2AVX(SB), NOSPLIT, $0-24
	MOVQ d+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ w+16(FP), DX
	SHLQ $2, DX      // row stride in bytes
	MOVQ $6, CX

gather2row:
	GATHER2(0, 32, 0(DI), 32(DI))
	GATHER2(8, 40, 64(DI), 96(DI))
	GATHER2(16, 48, 128(DI), 160(DI))
	ADDQ $192, DI
	ADDQ DX, SI
	DECQ CX
	JNZ  gather2row
	VZEROUPPER
	RET

// VPERMPS index vectors (only their low 3 bits count). gather3idx<> holds,
// for j = 0..2, 3*l + j for the 8 lanes l: the position of value j of tile
// l in a row of tiles 3 apart. store3idx<> holds, for the 3 vectors of a
// row of 3-wide tiles, the tile q/3 of each of their positions q.
DATA gather3idx<>+0(SB)/4, $0
DATA gather3idx<>+4(SB)/4, $3
DATA gather3idx<>+8(SB)/4, $6
DATA gather3idx<>+12(SB)/4, $9
DATA gather3idx<>+16(SB)/4, $12
DATA gather3idx<>+20(SB)/4, $15
DATA gather3idx<>+24(SB)/4, $18
DATA gather3idx<>+28(SB)/4, $21
DATA gather3idx<>+32(SB)/4, $1
DATA gather3idx<>+36(SB)/4, $4
DATA gather3idx<>+40(SB)/4, $7
DATA gather3idx<>+44(SB)/4, $10
DATA gather3idx<>+48(SB)/4, $13
DATA gather3idx<>+52(SB)/4, $16
DATA gather3idx<>+56(SB)/4, $19
DATA gather3idx<>+60(SB)/4, $22
DATA gather3idx<>+64(SB)/4, $2
DATA gather3idx<>+68(SB)/4, $5
DATA gather3idx<>+72(SB)/4, $8
DATA gather3idx<>+76(SB)/4, $11
DATA gather3idx<>+80(SB)/4, $14
DATA gather3idx<>+84(SB)/4, $17
DATA gather3idx<>+88(SB)/4, $20
DATA gather3idx<>+92(SB)/4, $23
GLOBL gather3idx<>(SB), RODATA|NOPTR, $96

DATA store3idx<>+0(SB)/4, $0
DATA store3idx<>+4(SB)/4, $0
DATA store3idx<>+8(SB)/4, $0
DATA store3idx<>+12(SB)/4, $1
DATA store3idx<>+16(SB)/4, $1
DATA store3idx<>+20(SB)/4, $1
DATA store3idx<>+24(SB)/4, $2
DATA store3idx<>+28(SB)/4, $2
DATA store3idx<>+32(SB)/4, $2
DATA store3idx<>+36(SB)/4, $3
DATA store3idx<>+40(SB)/4, $3
DATA store3idx<>+44(SB)/4, $3
DATA store3idx<>+48(SB)/4, $4
DATA store3idx<>+52(SB)/4, $4
DATA store3idx<>+56(SB)/4, $4
DATA store3idx<>+60(SB)/4, $5
DATA store3idx<>+64(SB)/4, $5
DATA store3idx<>+68(SB)/4, $5
DATA store3idx<>+72(SB)/4, $6
DATA store3idx<>+76(SB)/4, $6
DATA store3idx<>+80(SB)/4, $6
DATA store3idx<>+84(SB)/4, $7
DATA store3idx<>+88(SB)/4, $7
DATA store3idx<>+92(SB)/4, $7
GLOBL store3idx<>(SB), RODATA|NOPTR, $96

// PICK3: r = Y0, Y1 and Y2 each permuted by idx, then blended: the lanes
// of m1 from Y1's, of m2 from Y2's (t1, t2 are scratch).
#define PICK3(idx, m1, m2, r, t1, t2) \
	VPERMPS  Y0, idx, r;      \
	VPERMPS  Y1, idx, t1;     \
	VPERMPS  Y2, idx, t2;     \
	VBLENDPS $m1, t1, r, r;   \
	VBLENDPS $m2, t2, r, r

// GATHER3(idx, m1, m2, dst): value j of the 8 tiles of a row, tiles 3
// apart, from Y0-Y2 = x[k:k+8], x[k+8:k+16], x[k+16:k+24]: each source
// permuted by idx (3l + j - k), then blended where the lanes' positions
// fall in it (masks m1, m2).
#define GATHER3(idx, m1, m2, dst) \
	PICK3(idx, m1, m2, Y4, Y5, Y6); \
	VMOVUPS Y4, dst

// winoGather3AVX2: winoGatherStepGo with step 3. Values j = 3..5 are
// values 0..2 of the same tiles seen from x[3:], so each row is loaded
// twice, from x[0:24] and x[3:27].
// func winoGather3AVX2(d *[36][8]float32, x *float32, w int)
TEXT ·winoGather3AVX2(SB), NOSPLIT, $0-24
	MOVQ    d+0(FP), DI
	MOVQ    x+8(FP), SI
	MOVQ    w+16(FP), DX
	SHLQ    $2, DX      // row stride in bytes
	LEAQ    gather3idx<>(SB), AX
	VMOVUPS 0(AX), Y8
	VMOVUPS 32(AX), Y9
	VMOVUPS 64(AX), Y10
	MOVQ    $6, CX

gather3row:
	VMOVUPS 0(SI), Y0
	VMOVUPS 32(SI), Y1
	VMOVUPS 64(SI), Y2
	GATHER3(Y8, 0x38, 0xC0, 0(DI))
	GATHER3(Y9, 0x18, 0xE0, 32(DI))
	GATHER3(Y10, 0x1C, 0xE0, 64(DI))
	VMOVUPS 12(SI), Y0
	VMOVUPS 44(SI), Y1
	VMOVUPS 76(SI), Y2
	GATHER3(Y8, 0x38, 0xC0, 96(DI))
	GATHER3(Y9, 0x18, 0xE0, 128(DI))
	GATHER3(Y10, 0x1C, 0xE0, 160(DI))
	ADDQ $192, DI
	ADDQ DX, SI
	DECQ CX
	JNZ  gather3row
	VZEROUPPER
	RET

// STORE3MODE applies the store mode (R8) to Y4-Y6 and writes them to
// 0-95(DI): + bias (Y15), then max(t, 0) + 0 for ReLU (Y14 = 0), or + y
// when accumulating, as winoStoreRowsAVX does.
// winoStoreRows3AVX2: winoStoreRows3Go. Row i of o holds outputs j = 0..2
// of the 8 tiles (A, B, C); the row of the image is A0 B0 C0 A1 B1 C1 ...,
// three vectors, each blended from A, B and C permuted by store3idx<>.
// func winoStoreRows3AVX2(y *float32, ow int, o *[16][8]float32, bias float32, mode int)
TEXT ·winoStoreRows3AVX2(SB), NOSPLIT, $0-40
	STOREHEAD
	LEAQ         store3idx<>(SB), AX
	VMOVUPS      0(AX), Y11
	VMOVUPS      32(AX), Y12
	VMOVUPS      64(AX), Y13
	MOVQ         $3, CX

store3row:
	VMOVUPS  0(SI), Y0                  // A: j = 0 of tiles 0..7
	VMOVUPS  32(SI), Y1                 // B
	VMOVUPS  64(SI), Y2                 // C
	PICK3(Y11, 0x92, 0x24, Y4, Y7, Y8) // positions 0-7: sources A B C A B C A B
	PICK3(Y12, 0x24, 0x49, Y5, Y7, Y8) // positions 8-15: C A B C A B C A
	PICK3(Y13, 0x49, 0x92, Y6, Y7, Y8) // positions 16-23: B C A B C A B C
	CMPQ     R8, $2
	JEQ      accumulate3
	BIASED(Y4)
	BIASED(Y5)
	BIASED(Y6)
	CMPQ     R8, $1
	JNE      store3
	RELU(Y4)
	RELU(Y5)
	RELU(Y6)
	JMP      store3

accumulate3:
	ADDY(Y4, 0)
	ADDY(Y5, 32)
	ADDY(Y6, 64)

store3:
	VMOVUPS Y4, 0(DI)
	VMOVUPS Y5, 32(DI)
	VMOVUPS Y6, 64(DI)
	ADDQ    $96, SI
	ADDQ    DX, DI
	DECQ    CX
	JNZ     store3row
	VZEROUPPER
	RET

// prefetchRowsAsm: prefetchRows. For each of rows rows, stride floats
// apart, it prefetches the 64-byte lines that bytes bytes from x touch:
// one every 64 bytes and the line of the last byte.
// func prefetchRowsAsm(x *float32, stride int, rows int, bytes int)
TEXT ·prefetchRowsAsm(SB), NOSPLIT, $0-32
	MOVQ  x+0(FP), SI
	MOVQ  stride+8(FP), DX
	SHLQ  $2, DX
	MOVQ  rows+16(FP), CX
	MOVQ  bytes+24(FP), R8
	TESTQ CX, CX
	JLE   pfdone
	TESTQ R8, R8
	JLE   pfdone
	DECQ  R8 // offset of the last byte

pfrow:
	XORQ AX, AX

pfline:
	PREFETCHT0 (SI)(AX*1)
	ADDQ       $64, AX
	CMPQ       AX, R8
	JLE        pfline
	PREFETCHT0 (SI)(R8*1)
	ADDQ       DX, SI
	DECQ       CX
	JNZ        pfrow

pfdone:
	RET
