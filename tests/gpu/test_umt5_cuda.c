// UMT5 encoder: CUDA (bf16 weights and GEMM inputs, fp32 accumulation and elementwise) vs the
// CPU fp32 reference, on the random small configs of tests/data/text (scripts/gen_text_fixtures.py),
// plus 512 random tokens (the Wan text length; exercises the attention kernel's shared memory)
// and the Wan text path (rows past the real length zero). Tolerance: NMSE <= 1e-3. Reason: bf16
// keeps 8 significant bits (relative rounding <= 2^-9 ~ 2e-3 per operand); each of the ~7 GEMMs
// per layer rounds its input and weight, so per-GEMM NMSE is ~1e-5 and a few layers with
// residual accumulation stay around 1e-4; 1e-3 leaves 10x headroom while a wrong bias bucket,
// missing norm or scaled logits give NMSE >= 1e-2.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dit/tokenizer_hf.h"
#include "dit/umt5_model.h"
#include "lib/log.h"
#include "tests/test_util.h"

static void compare(const char *name, vd_umt5 *m, const int32_t *ids, int n) {
    const int64_t d = m->cfg.d_model;
    float *ref = (float *)calloc((size_t)n * d, sizeof(float));
    float *got = (float *)calloc((size_t)n * d, sizeof(float));
    vd_error err = {0};
    VT_EXPECT(vd_umt5_forward_cpu(m, ids, n, ref, &err) == VD_OK);
    vd_status s = vd_umt5_forward_cuda(m, ids, n, got, &err);
    if (s != VD_OK) fprintf(stderr, "FAIL %s: %s\n", name, err.msg);
    VT_EXPECT(s == VD_OK);
    if (s == VD_OK && !vt_check_nmse(name, got, ref, (int64_t)n * d, 1e-3)) vt_failures++;
    free(ref);
    free(got);
}

int main(void) {
    if (!vt_have_gpu()) return VD_TEST_SKIP;
    vd_log_set_level(VD_LOG_WARN);
    const char *cases[] = {"umt5_a", "umt5_b", "umt5_c", "umt5_c_bf16", "umt5_c_f16", "umt5_tok"};
    for (int ci = 0; ci < 6; ci++) {
        char dir[512], name[160];
        snprintf(dir, sizeof dir, "%s/%s", vt_src_path("tests/data/text"), cases[ci]);
        vd_error err = {0};
        vd_umt5 *m = NULL;
        if (vd_umt5_load(&m, dir, &err) != VD_OK || vd_umt5_cuda_upload(m, 0, &err) != VD_OK) {
            fprintf(stderr, "FAIL %s: %s\n", cases[ci], err.msg);
            vt_failures++;
            vd_umt5_free(m);
            continue;
        }
        vt_rng rng;
        vt_rng_seed(&rng, (uint64_t)ci);
        const int lens[] = {1, 7, 77, 512};
        for (int li = 0; li < 4; li++) {
            int n = lens[li];
            int32_t *ids = (int32_t *)malloc((size_t)n * sizeof *ids);
            for (int i = 0; i < n; i++) ids[i] = (int32_t)(vt_uniform(&rng) * (float)m->cfg.vocab) % (int32_t)m->cfg.vocab;
            snprintf(name, sizeof name, "%s n=%d seed=%d", cases[ci], n, ci);
            compare(name, m, ids, n);
            free(ids);
        }
        if (!strcmp(cases[ci], "umt5_tok")) {
            // Wan text path on both devices (the CUDA call uploads and releases by itself).
            vd_umt5_cuda_release(m);
            vd_tokenizer *tok = NULL;
            char tp[512];
            snprintf(tp, sizeof tp, "%s", vt_src_path("tests/data/text/tok_umt5.json"));
            VT_EXPECT(vd_tokenizer_load(&tok, tp, &err) == VD_OK);
            const char *texts[2] = {"A cat walks on the grass, realistic style.", ""};
            const int L = 512;
            const int64_t d = m->cfg.d_model;
            float *c0 = (float *)malloc((size_t)L * d * 4), *c1 = (float *)malloc((size_t)L * d * 4);
            float *g0 = (float *)malloc((size_t)L * d * 4), *g1 = (float *)malloc((size_t)L * d * 4);
            float *cpu[2] = {c0, c1}, *gpu[2] = {g0, g1};
            int nr_c[2], nr_g[2];
            VT_EXPECT(vd_umt5_encode_texts(m, tok, texts, 2, L, VD_UMT5_CPU, cpu, nr_c, &err) == VD_OK);
            VT_EXPECT(vd_umt5_encode_texts(m, tok, texts, 2, L, VD_UMT5_CUDA, gpu, nr_g, &err) == VD_OK);
            VT_EXPECT(m->cuda == NULL);   // released after encoding
            for (int i = 0; i < 2; i++) {
                snprintf(name, sizeof name, "text path prompt %d (%d tokens)", i, nr_c[i]);
                VT_EXPECT(nr_c[i] == nr_g[i]);
                if (!vt_check_nmse(name, gpu[i], cpu[i], (int64_t)L * d, 1e-3)) vt_failures++;
                bool zero = true;
                for (int64_t k = (int64_t)nr_g[i] * d; k < (int64_t)L * d; k++) zero = zero && gpu[i][k] == 0.0f;
                VT_EXPECT(zero);
            }
            free(c0);
            free(c1);
            free(g0);
            free(g1);
            vd_tokenizer_free(tok);
        }
        vd_umt5_free(m);
    }
    return vt_finish("test_umt5_cuda");
}
