// Tile choices of the flash kernels (flash_fwd.cuh), each with its reason.
//
// KV tile: 64 keys (VD_FLASH_BKV). Block-CSR tiles of 128 keys run as 2 sub-tiles.
//
// Query tile 128 = 4 warps x 32 rows (2 m16 tiles per warp, VD_FLASH_MT = 2). Why 32 rows per
// warp: every K/V fragment read from shared memory (ldmatrix) then feeds 2 MMAs instead of 1.
// Per 64-key tile a block reads K + V (2 x 16 KB at D=128) once per warp plus Q (8 KB per warp):
// 4 warps x 40 KB = 160 KB, ~1250 cycles at 128 B/clk, under the ~1550 cycles of its 4.2 MFLOP of
// mma.sync at ~2700 FLOP/clk/SM; with 16 rows per warp (8 warps) it is 288 KB, ~2250 cycles:
// shared-memory bound. Cost: 128 (O) + 64 (S) fp32 registers per thread at D=128, so
// __launch_bounds__(128, 2): up to 255 registers, 2 blocks (8 warps) per SM.
// Shared memory: Q (BQ x D) + K (64 x D) + V (64 x D) bf16 = 64 KB at D=128, 32 KB at D=64,
// single-buffered as in FlashAttention-2: V(j) loads while S(j) is computed, K(j+1) loads while
// softmax(j) and P V(j) run.
//
// Query tile 64 (block-sparse masks with 64-token query tiles, e.g. AdaSpa): 4 warps x 16 rows.
#pragma once

#define VD_FLASH_BKV 64
#define VD_FLASH_WARPS 4
