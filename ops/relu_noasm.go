//go:build !amd64 || purego

package ops

func relu(dst, x []float32) { reluGo(dst, x) }

func reluBackward(dx, dy, y []float32) { reluBackwardGo(dx, dy, y) }

func reluBits(mask []uint64, y []float32) { reluBitsGo(mask, y) }

func reluMaskBits(dy []float32, mask []uint64) { reluMaskBitsGo(dy, mask) }
