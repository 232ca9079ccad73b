// Radial Attention's CUDA path (radial.cu through vd_attn_run) against the fp64 oracle on the
// expanded radial tile mask: aligned and unaligned frames, N % 128 != 0, GQA, tile 128 and 64;
// the dense schedule equals the dense kernel bit for bit; the mask is built once and reused.
// Tolerance: tests/gpu/test_attn_gpu.h. Exit 77 without a GPU.
#include <stdlib.h>
#include <string.h>

#include "attention/radial.h"
#include "tests/gpu/test_attn_gpu.h"

static void radial_case(int F, int Hp, int Wp, int NH, int NKV, int D, int tile, uint64_t seed) {
    vd_error e = {0};
    vd_attn *a = NULL;
    if (vd_attn_create(&a, "radial", &e) != VD_OK) gt_die("vd_attn_create", &e);
    char kv[32];
    snprintf(kv, sizeof kv, "tile=%d", tile);
    if (vd_attn_set(a, kv, &e) != VD_OK) gt_die("vd_attn_set", &e);
    const vd_radial_cfg *rc = vd_attn_get_cfg(a);
    const int s = Hp * Wp, N = F * s, T = (N + tile - 1) / tile;
    uint8_t *mask = malloc((size_t)T * T);
    int64_t kept = vd_radial_tile_mask(mask, F, s, rc);
    at_csr csr;
    csr.indptr = malloc(sizeof(int32_t) * (T + 1));
    csr.indices = malloc(sizeof(int32_t) * ((size_t)T * T + 1));
    vd_attn_mask_to_csr_cpu(csr.indptr, csr.indices, mask, T, T);
    csr.m = (vd_block_csr){.tile_q = tile, .tile_kv = tile, .n_q_tiles = T, .n_kv_tiles = T, .n_groups = 1,
                           .indptr = csr.indptr, .indices = csr.indices};
    at_case c = {.B = 2, .N_q = N, .N_kv = N, .NH = NH, .NKV = NKV, .D = D, .seed = seed};
    at_inputs in;
    at_inputs_make(&in, &c, true);
    char name[256];
    snprintf(name, sizeof name, "radial F=%d Hp=%d Wp=%d (N=%d, N%%%d=%d) NH=%d NKV=%d D=%d tile=%d density=%.3f", F, Hp,
             Wp, N, tile, N % tile, NH, NKV, D, tile, kept / (double)T / T);
    vd_attn_ctx ctx = {.layer = 5, .n_layers = 30, .step = 20, .n_steps = 50, .timestep = 400, .F = F, .Hp = Hp, .Wp = Wp};
    ag_run_compare_method(&in, &csr.m, NULL, false, name, a, &ctx);
    ctx.branch = VD_ATTN_UNCOND;   // second call: cached mask, other branch
    strncat(name, " (2nd call, cached mask)", sizeof name - strlen(name) - 1);
    ag_run_compare_method(&in, &csr.m, NULL, false, name, a, &ctx);
    // Dense steps: no mask at all.
    ctx.step = 0;
    snprintf(name, sizeof name, "radial dense step 0 F=%d Hp=%d Wp=%d", F, Hp, Wp);
    ag_run_compare_method(&in, NULL, NULL, false, name, a, &ctx);
    at_inputs_free(&in);
    free(mask);
    at_csr_free(&csr);
    vd_attn_free(a);
}

int main(void) {
    if (!vt_have_gpu()) return VD_TEST_SKIP;
    gt_init((size_t)1 << 30);
    radial_case(5, 16, 24, 2, 2, 128, 128, 1);   // s = 384 = 3 tiles: aligned, d = 4 kept by the frequency cut
    radial_case(6, 15, 26, 4, 2, 128, 128, 2);   // s = 390: frames straddle tiles, N % 128 = 36, GQA
    radial_case(7, 5, 13, 1, 1, 64, 64, 3);      // tile 64 (q tiles of 64), D = 64, s = 65
    gt_free();
    return vt_finish("test_attn_radial_cuda");
}
