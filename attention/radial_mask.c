// Radial Attention tile mask, the reference-code rule of design/methods/radial.md c.2 / c.6.
//
// For every ordered frame pair (i, j), d = |i - j|, s tokens per frame, P = 2^bitlen(s):
//   wan and j == 0            -> full pair (attention sink)
//   d == 0, or d == 1         -> full pair (d1_half: half width s/2 at d == 1, the pre-Nov-2025 Wan rule)
//   d >= 2                    -> raw = P / 2^bitlen(d); half width w = max(tile, decay * raw);
//                                when raw < tile the pair is kept only if d % floor(tile/raw) == 0
//   token mask of a kept pair: |k - l| <= w (k, l raster indices inside the frames)
// Tile lowering: the pair's s x s token mask sits at global offset (i*s, j*s). For each overlapped
// tile, among the key columns with >= 1 active row, count those with more than 1/3 of the tile's
// rows active; keep the tile iff that count is > 0.6 of the non-empty columns. OR over pairs.
// Differences from the reference (card c.6): partial tiles are scored (ceil, not floor), and the
// 1/3 test of the global last tile uses its real row count, so N % tile != 0 works; the diagonal
// tile of every query row is forced on (it always is for aligned shapes), so no row is empty.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attention/radial.h"

static int bitlen(int64_t x) {
    int n = 0;
    while (x > 0) { n++; x >>= 1; }
    return n;
}

// Pair rule: returns 0 when the pair is dropped, else 1 with the integer half width in *W.
static int pair_rule(int i, int j, int s, const vd_radial_cfg *c, int64_t *W) {
    const int d = abs(i - j);
    if (c->model == VD_RADIAL_MODEL_WAN && j == 0) { *W = s; return 1; }
    if (d == 0) { *W = s; return 1; }
    if (d == 1) {
        *W = (c->model == VD_RADIAL_MODEL_WAN && c->d1_half) ? s / 2 : s;
        return 1;
    }
    const double P = ldexp(1.0, bitlen(s));
    const double raw = P / ldexp(1.0, bitlen(d));
    if (raw < c->tile) {
        int split = (int)floor(c->tile / raw);
        if (split > 0 && d % split != 0) return 0;
    }
    double w = c->decay * raw;
    if (w < c->tile) w = c->tile;
    *W = (int64_t)floor(w);   // |k - l| <= w with integer k - l
    return 1;
}

int64_t vd_radial_tile_mask(uint8_t *mask, int F, int s, const vd_radial_cfg *c) {
    const int64_t tile = c->tile, N = (int64_t)F * s, T = (N + tile - 1) / tile;
    memset(mask, 0, (size_t)(T * T));
    const int64_t tiles_per_frame = (s + tile - 1) / tile;
    for (int i = 0; i < F; i++)
        for (int j = 0; j < F; j++) {
            int64_t W;
            if (!pair_rule(i, j, s, c, &W)) continue;
            const int64_t off_r = (int64_t)i * s % tile, off_c = (int64_t)j * s % tile;
            const int64_t base_r = (int64_t)i * s / tile, base_c = (int64_t)j * s / tile;
            const int64_t n_r = tiles_per_frame + (off_r > 0), n_c = tiles_per_frame + (off_c > 0);
            for (int64_t tr = 0; tr < n_r && base_r + tr < T; tr++) {
                // frame-local query rows of this tile: [k0, k1)
                int64_t k0 = tr * tile - off_r, k1 = k0 + tile;
                if (k0 < 0) k0 = 0;
                if (k1 > s) k1 = s;
                if (k0 >= k1) continue;
                const int64_t g_row0 = (base_r + tr) * tile;
                const double rows_in_tile = (double)((g_row0 + tile <= N) ? tile : N - g_row0);
                for (int64_t tc = 0; tc < n_c && base_c + tc < T; tc++) {
                    int64_t l0 = tc * tile - off_c, l1 = l0 + tile;
                    if (l0 < 0) l0 = 0;
                    if (l1 > s) l1 = s;
                    if (l0 >= l1) continue;
                    if (l0 > k1 - 1 + W || l1 - 1 < k0 - W) continue;   // band misses the tile
                    int64_t nonzero = 0, high = 0;
                    for (int64_t l = l0; l < l1; l++) {
                        int64_t a = l - W > k0 ? l - W : k0, b = l + W < k1 - 1 ? l + W : k1 - 1;
                        int64_t active = b >= a ? b - a + 1 : 0;
                        if (active > 0) nonzero++;
                        if (active / rows_in_tile > 1.0 / 3.0) high++;
                    }
                    if ((double)high / ((double)nonzero + 1e-9) > 0.6)
                        mask[(base_r + tr) * T + base_c + tc] = 1;
                }
            }
        }
    for (int64_t t = 0; t < T; t++) mask[t * T + t] = 1;
    int64_t kept = 0;
    for (int64_t e = 0; e < T * T; e++) kept += mask[e];
    return kept;
}

double vd_radial_density(int F, int s, const vd_radial_cfg *c) {
    const int64_t T = ((int64_t)F * s + c->tile - 1) / c->tile;
    uint8_t *m = malloc((size_t)(T * T));
    if (!m) return -1.0;
    int64_t kept = vd_radial_tile_mask(m, F, s, c);
    free(m);
    return (double)kept / (double)(T * T);
}
