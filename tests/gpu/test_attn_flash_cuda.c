// Flash attention CUDA kernels (flash_dense.cu, flash_sparse.cu) against the fp64 oracle:
// dense over odd / aligned / strided / GQA shapes, D 64 and 128, NH 1 and several, LSE; block-
// sparse with random block-CSR (shared, per head, per batch x head; empty rows; q tiles 64/128,
// kv tiles 64/128), per-row output scale, and 3D window predicates (one frame, H != W, inward and
// truncated). Tolerance: tests/gpu/test_attn_gpu.h. Replay: test_attn_flash_cuda --case "<name>".
// Exit 77 without a GPU.
#include <string.h>

#include "tests/gpu/test_attn_gpu.h"

static const char *g_only;

static void dense_case(at_case c) {
    char name[256], cn[200];
    at_case_name(&c, cn, sizeof cn);
    snprintf(name, sizeof name, "dense:%s", cn);
    if (g_only && strcmp(g_only, name)) return;
    at_inputs in;
    at_inputs_make(&in, &c, true);
    ag_run_compare(&in, NULL, NULL, c.seed % 4 == 3, name);
    at_inputs_free(&in);
}

static void sparse_case(at_case c, int groups, int tq, int tk, float dens) {
    char name[300], cn[200];
    at_case_name(&c, cn, sizeof cn);
    snprintf(name, sizeof name, "sparse(groups=%d,tiles=%dx%d,dens=%.2f):%s", groups, tq, tk, (double)dens, cn);
    if (g_only && strcmp(g_only, name)) return;
    at_inputs in;
    at_inputs_make(&in, &c, true);
    vt_rng r;
    vt_rng_seed(&r, c.seed + 1000);
    at_csr csr;
    at_csr_random(&csr, &r, groups, c.N_q, c.N_kv, tq, tk, dens, true);
    ag_run_compare(&in, &csr.m, NULL, c.seed % 2 == 1, name);
    at_csr_free(&csr);
    at_inputs_free(&in);
}

static void window_case(int F, int Hp, int Wp, vd_attn_window w, int D, bool with_csr, uint64_t seed) {
    const int N = F * Hp * Wp;
    at_case c = {1, N, N, 2, 1, D, seed, seed % 2 == 0, 1};
    char name[300], cn[200];
    at_case_name(&c, cn, sizeof cn);
    snprintf(name, sizeof name, "window(grid=%dx%dx%d,size=%d/%d/%d,inward=%d,csr=%d):%s", w.grid[0], w.grid[1], w.grid[2],
             w.size[0], w.size[1], w.size[2], (int)w.inward, (int)with_csr, cn);
    if (g_only && strcmp(g_only, name)) return;
    at_inputs in;
    at_inputs_make(&in, &c, true);
    at_csr csr = {0};
    if (with_csr) {
        vt_rng r;
        vt_rng_seed(&r, seed + 2000);
        at_csr_random(&csr, &r, 2, N, N, 128, 128, 0.7f, false);
    }
    ag_run_compare(&in, with_csr ? &csr.m : NULL, &w, false, name);
    at_csr_free(&csr);
    at_inputs_free(&in);
}

int main(int argc, char **argv) {
    if (!vt_have_gpu()) return VD_TEST_SKIP;
    if (argc == 3 && !strcmp(argv[1], "--case")) g_only = argv[2];
    gt_init((size_t)1 << 30);

    // B, N_q, N_kv, NH, NKV, D, seed, strided, qk_std
    const at_case dense[] = {
        {1, 1, 1, 1, 1, 64, 1, false, 1},      {1, 1, 1, 1, 1, 128, 2, false, 1},
        {1, 113, 203, 2, 1, 64, 3, false, 1},  {1, 113, 203, 2, 1, 128, 4, true, 1},
        {2, 128, 128, 3, 3, 128, 5, false, 1}, {1, 129, 127, 1, 1, 64, 6, true, 1},
        {1, 1000, 1000, 4, 2, 128, 7, false, 1}, {2, 257, 1023, 2, 2, 64, 8, true, 2},
        {1, 2047, 2049, 2, 2, 128, 9, false, 1.5f}, {1, 64, 4100, 1, 1, 128, 10, false, 3},
        {1, 300, 17, 5, 5, 64, 11, false, 1},
    };
    for (size_t i = 0; i < sizeof dense / sizeof dense[0]; i++) dense_case(dense[i]);

    // Block-sparse: groups 1 / NH / B*NH, q tiles 128 and 64, kv tiles 64 and 128, odd N.
    sparse_case((at_case){1, 1000, 1000, 2, 1, 128, 20, false, 1}, 1, 128, 128, 0.4f);
    sparse_case((at_case){2, 777, 777, 3, 3, 64, 21, true, 1}, 3, 128, 64, 0.5f);
    sparse_case((at_case){2, 500, 900, 2, 2, 128, 22, false, 1}, 4, 64, 128, 0.3f);
    sparse_case((at_case){1, 333, 333, 1, 1, 64, 23, false, 1}, 1, 64, 64, 0.6f);
    sparse_case((at_case){1, 1000, 1000, 2, 1, 128, 24, false, 1}, 1, 128, 128, 1.1f);   // all tiles: equals dense
    sparse_case((at_case){1, 190, 190, 2, 2, 128, 25, true, 1}, 2, 64, 64, 0.05f);      // mostly empty rows

    // Windows: one frame, H != W, inward and truncated, raster band, with and without a CSR.
    window_case(3, 5, 7, (vd_attn_window){{3, 5, 7}, {3, 3, 5}, true}, 64, false, 30);
    window_case(1, 9, 13, (vd_attn_window){{1, 9, 13}, {1, 5, 4}, false}, 128, false, 31);
    window_case(4, 12, 20, (vd_attn_window){{4, 12, 20}, {2, 7, 11}, true}, 128, true, 32);
    window_case(4, 6, 10, (vd_attn_window){{4, 1, 60}, {4, 1, 11}, false}, 64, true, 33);
    window_case(2, 30, 52, (vd_attn_window){{2, 30, 52}, {2, 15, 27}, true}, 128, false, 34);

    gt_free();
    return vt_finish("test_attn_flash_cuda");
}
