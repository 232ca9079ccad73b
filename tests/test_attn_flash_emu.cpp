// The flash kernel on the CPU: attention/flash_fwd.cuh compiled as host C++ with VD_FLASH_EMU,
// every block run as 128 POSIX threads, with ldmatrix (.trans), mma.sync m16n8k16, shfl.xor and
// barriers emulated through per-warp exchange slots. The exact kernel body (fragment layouts,
// swizzled addresses, tail and window masking, online softmax, LSE, row scale, CSR iteration)
// is then checked against the fp64 oracle in CI, where there is no GPU, with the tolerance of
// the gpu tests (2 x naive bf16 error + floor). Not emulated: cp.async timing (copies are
// synchronous, so a missing wait would go unnoticed here) and performance. A deliberately wrong
// swizzle constant makes 9 of 9 cases fail.
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <math.h>
#include <algorithm>

extern "C" {
#include "lib/dtype.h"
#include "test_attn_common.h"
}

struct dim3e { unsigned x, y, z; };
static thread_local dim3e threadIdx, blockIdx;
#define __global__
#define __device__
#define __forceinline__ inline
#define __launch_bounds__(a, b)
using std::min;
using std::max;

struct BlockCtx {
    alignas(128) unsigned char smem[96 * 1024];
    pthread_barrier_t bar;
    pthread_barrier_t wbar[4];
    uint32_t slot[4][32][8];
    float fslot[4][32];
};
static thread_local BlockCtx *g_blk;
static inline unsigned char *emu_smem() { return g_blk->smem; }
static inline void __syncthreads() { pthread_barrier_wait(&g_blk->bar); }
static inline int lane_id() { return threadIdx.x % 32; }
static inline int warp_id() { return threadIdx.x / 32; }
static inline void warp_sync() { pthread_barrier_wait(&g_blk->wbar[warp_id()]); }

static inline float __shfl_xor_sync(unsigned, float v, int o) {
    const int w = warp_id(), l = lane_id();
    g_blk->fslot[w][l] = v;
    warp_sync();
    float r = g_blk->fslot[w][l ^ o];
    warp_sync();
    return r;
}

namespace vdflash {
static inline uint32_t smem_u32(const void *p) { return (uint32_t)((const unsigned char *)p - g_blk->smem); }
static inline void cp_async16(uint32_t dst, const void *src, bool valid) {
    if (dst + 16 > sizeof g_blk->smem) { fprintf(stderr, "emu: smem overflow %u\n", dst); abort(); }
    if (valid) memcpy(g_blk->smem + dst, src, 16);
    else memset(g_blk->smem + dst, 0, 16);
}
static inline void cp_async_commit() {}
static inline void cp_async_wait_all() {}
static inline void ldsm_x4(uint32_t (&r)[4], uint32_t addr) {
    const int w = warp_id(), l = lane_id();
    if (addr % 16) { fprintf(stderr, "emu: ldmatrix row address %u not 16-byte aligned\n", addr); abort(); }
    g_blk->slot[w][l][7] = addr;
    warp_sync();
    for (int i = 0; i < 4; i++) {
        uint32_t row = g_blk->slot[w][8 * i + l / 4][7];
        memcpy(&r[i], g_blk->smem + row + (l % 4) * 4, 4);
    }
    warp_sync();
}
static inline void ldsm_x4_t(uint32_t (&r)[4], uint32_t addr) {
    const int w = warp_id(), l = lane_id();
    g_blk->slot[w][l][7] = addr;
    warp_sync();
    for (int i = 0; i < 4; i++) {
        uint32_t r0 = g_blk->slot[w][8 * i + 2 * (l % 4)][7], r1 = g_blk->slot[w][8 * i + 2 * (l % 4) + 1][7];
        uint16_t lo, hi;
        memcpy(&lo, g_blk->smem + r0 + (l / 4) * 2, 2);
        memcpy(&hi, g_blk->smem + r1 + (l / 4) * 2, 2);
        r[i] = (uint32_t)lo | ((uint32_t)hi << 16);
    }
    warp_sync();
}
static inline float half_of(uint32_t v, int hi) { return vd_bf16_to_f32((uint16_t)(hi ? v >> 16 : v & 0xffff)); }
static inline void mma16816(float (&c)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
    const int w = warp_id(), l = lane_id();
    uint32_t *s = g_blk->slot[w][l];
    s[0] = a[0]; s[1] = a[1]; s[2] = a[2]; s[3] = a[3]; s[4] = b0; s[5] = b1;
    warp_sync();
    auto A = [&](int r, int k) {
        return half_of(g_blk->slot[w][(r % 8) * 4 + (k % 8) / 2][(r >= 8) + 2 * (k >= 8)], k % 2);
    };
    auto B = [&](int k, int n) { return half_of(g_blk->slot[w][n * 4 + (k % 8) / 2][4 + (k >= 8)], k % 2); };
    float out[4];
    for (int e = 0; e < 4; e++) {
        const int row = l / 4 + 8 * (e >= 2), col = 2 * (l % 4) + (e & 1);
        float sum = c[e];
        for (int k = 0; k < 16; k++) sum += A(row, k) * B(k, col);
        out[e] = sum;
    }
    warp_sync();
    for (int e = 0; e < 4; e++) c[e] = out[e];
}
static inline float ex2(float x) { return exp2f(x); }
static inline uint32_t pack_bf16(float lo, float hi) {
    return (uint32_t)vd_f32_to_bf16(lo) | ((uint32_t)vd_f32_to_bf16(hi) << 16);
}
}   // namespace vdflash

#include "attention/flash_fwd.cuh"

template <int D, int MT, bool SPARSE>
struct Launch {
    const vdflash::Args *a;
    BlockCtx *blk;
    dim3e bi;
    unsigned tid;
    static void *run(void *p) {
        Launch *L = (Launch *)p;
        g_blk = L->blk;
        blockIdx = L->bi;
        threadIdx = {L->tid, 0, 0};
        vdflash::flash_fwd_kernel<D, MT, SPARSE>(*L->a);
        return NULL;
    }
};

template <int D, int MT, bool SPARSE>
static void emu_launch(const vdflash::Args &a, int n_q_tiles, int B) {
    BlockCtx *blk = new BlockCtx;
    pthread_barrier_init(&blk->bar, NULL, 128);
    for (int w = 0; w < 4; w++) pthread_barrier_init(&blk->wbar[w], NULL, 32);
    for (int z = 0; z < B; z++)
        for (int y = 0; y < a.NH; y++)
            for (int x = 0; x < n_q_tiles; x++) {
                memset(blk->smem, 0x5A, sizeof blk->smem);   // garbage: unloaded smem must not matter
                pthread_t th[128];
                Launch<D, MT, SPARSE> L[128];
                for (unsigned t = 0; t < 128; t++) {
                    L[t] = {&a, blk, {(unsigned)x, (unsigned)y, (unsigned)z}, t};
                    pthread_create(&th[t], NULL, Launch<D, MT, SPARSE>::run, &L[t]);
                }
                for (int t = 0; t < 128; t++) pthread_join(th[t], NULL);
            }
    delete blk;
}

// Runs the emulated kernel for a case and compares with the oracle (naive-bf16 tolerance).
static bool run_case(const at_case &c, const vd_block_csr *m, const vd_attn_window *win, bool rs_on, const char *tag) {
    at_inputs in;
    at_inputs_make(&in, &c, true);
    const vd_attn_params *hp = &in.p;
    const int64_t no = (int64_t)hp->B * hp->N_q * hp->NH * hp->D, nl = (int64_t)hp->B * hp->NH * hp->N_q;
    float *rs = NULL;
    if (rs_on) {
        rs = (float *)malloc(sizeof(float) * nl);
        for (int64_t i = 0; i < nl; i++) rs[i] = 0.5f + (float)(i % 7) / 7.0f;
    }
    at_csr_mask cm = {m, win, hp->NH};
    vd_attn_mask_fn fn = (m || win) ? at_csr_mask_fn : NULL;
    float *o_ref = (float *)malloc(4 * no), *lse_ref = (float *)malloc(4 * nl), *o_nv = (float *)malloc(4 * no),
          *lse_nv = (float *)malloc(4 * nl);
    at_oracle(&in, fn, &cm, o_ref, lse_ref, rs);
    at_naive(&in, fn, &cm, o_nv, lse_nv, rs, true);
    uint16_t *q = (uint16_t *)malloc(2 * in.q_elems), *k = (uint16_t *)malloc(2 * in.kv_elems),
             *v = (uint16_t *)malloc(2 * in.kv_elems), *o = (uint16_t *)malloc(2 * no);
    for (int64_t i = 0; i < in.q_elems; i++) q[i] = vd_f32_to_bf16(in.qbuf[i]);
    for (int64_t i = 0; i < in.kv_elems; i++) { k[i] = vd_f32_to_bf16(in.kbuf[i]); v[i] = vd_f32_to_bf16(in.vbuf[i]); }
    float *lse = (float *)malloc(4 * nl);
    vd_attn_params p = *hp;
    p.q = q; p.k = k; p.v = v; p.o = o;
    p.o_sh = p.D; p.o_sn = (int64_t)p.NH * p.D; p.o_sb = (int64_t)p.N_q * p.o_sn;
    p.lse = lse;
    p.row_scale = rs;
    vdflash::Args a = vdflash::make_args(&p);
    int tq = 128;
    if (m || win) {
        static int32_t all_ip[4096], all_ix[1 << 16];
        vd_block_csr all;
        if (!m) {
            all.tile_q = 128; all.tile_kv = 64; all.n_groups = 1;
            all.n_q_tiles = (p.N_q + 127) / 128; all.n_kv_tiles = (p.N_kv + 63) / 64;
            for (int r = 0; r <= all.n_q_tiles; r++) all_ip[r] = r * all.n_kv_tiles;
            for (int r = 0; r < all.n_q_tiles; r++)
                for (int t = 0; t < all.n_kv_tiles; t++) all_ix[r * all.n_kv_tiles + t] = t;
            all.indptr = all_ip; all.indices = all_ix;
        }
        const vd_block_csr *mm = m ? m : &all;
        a.indptr = mm->indptr; a.indices = mm->indices; a.n_groups = mm->n_groups; a.n_q_tiles = mm->n_q_tiles;
        a.sub = mm->tile_kv / 64;
        tq = mm->tile_q;
        if (win) {
            a.use_win = 1; a.inward = win->inward;
            for (int d = 0; d < 3; d++) { a.wg[d] = win->grid[d]; a.wsize[d] = win->size[d]; }
        }
        int nqt = mm->n_q_tiles;
        if (tq == 128) { if (p.D == 64) emu_launch<64, 2, true>(a, nqt, p.B); else emu_launch<128, 2, true>(a, nqt, p.B); }
        else { if (p.D == 64) emu_launch<64, 1, true>(a, nqt, p.B); else emu_launch<128, 1, true>(a, nqt, p.B); }
    } else {
        int nqt = (p.N_q + 127) / 128;
        if (p.D == 64) emu_launch<64, 2, false>(a, nqt, p.B); else emu_launch<128, 2, false>(a, nqt, p.B);
    }
    float *of = (float *)malloc(4 * no);
    for (int64_t i = 0; i < no; i++) of[i] = vd_bf16_to_f32(o[i]);
    double e_k = at_max_abs(of, o_ref, no), e_n = at_max_abs(o_nv, o_ref, no);
    double l_k = at_max_abs(lse, lse_ref, nl), l_n = at_max_abs(lse_nv, lse_ref, nl);
    bool ok = e_k <= 2 * e_n + 2e-4 && l_k <= 2 * l_n + 1e-4;
    char cn[200];
    at_case_name(&c, cn, sizeof cn);
    printf("%s %s %s: out err %.3g (naive %.3g) lse err %.3g (naive %.3g)\n", ok ? "ok  " : "FAIL", tag, cn, e_k, e_n, l_k, l_n);
    if (!ok) {
        for (int i = 0; i < 6; i++) printf("   o[%d] got %.5f want %.5f | lse got %.5f want %.5f\n", i, of[i], o_ref[i], lse[i], lse_ref[i]);
    }
    free(rs); free(o_ref); free(lse_ref); free(o_nv); free(lse_nv); free(q); free(k); free(v); free(o); free(lse); free(of);
    at_inputs_free(&in);
    return ok;
}

int main() {
    int fails = 0;
    // Dense D 64 (GQA, odd N, tail tiles) and D 128 (strided, row scale).
    fails += !run_case({1, 113, 203, 2, 1, 64, 3, false, 1}, NULL, NULL, false, "dense");
    fails += !run_case({1, 130, 140, 1, 1, 128, 4, true, 1}, NULL, NULL, true, "dense");
    // Block-sparse: q tiles 64 with 128-key tiles (two sub-tiles), per batch x head groups, empty rows.
    {
        at_case c = {2, 100, 200, 1, 1, 64, 21, true, 1};
        vt_rng r;
        vt_rng_seed(&r, c.seed);
        at_csr csr;
        at_csr_random(&csr, &r, 2, c.N_q, c.N_kv, 64, 128, 0.6f, true);
        fails += !run_case(c, &csr.m, NULL, true, "sparse(groups=B*NH,tiles=64x128)");
        at_csr_free(&csr);
    }
    // Window predicate (inward, H != W) on D 128.
    vd_attn_window w = {{2, 5, 7}, {1, 3, 5}, true};
    fails += !run_case({1, 70, 70, 1, 1, 128, 30, false, 1}, NULL, &w, false, "window");
    printf("%d failure(s)\n", fails);
    return fails ? 1 : 0;
}
