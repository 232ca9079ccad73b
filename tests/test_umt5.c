// UMT5 encoder parity on the CPU: random small UMT5EncoderModel configs from transformers
// (scripts/gen_text_fixtures.py), run by HF on the padded length with the attention mask, rows
// past the real length zeroed; the C encoder runs on the real tokens only (see umt5_model.h)
// and must match every row. Tolerance: |got - ref| <= 1e-4 + 1e-4 |ref| (fp32 vs fp32 with
// different summation orders; activations are O(1..5)). Also: the bucket table vs torch's, the
// Wan text path (tokenizer -> encoder -> zero rows) for three prompts, sharded and f16/bf16
// storage, and bad inputs.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dit/tokenizer_hf.h"
#include "dit/umt5_model.h"
#include "lib/log.h"
#include "lib/safetensors.h"
#include "test_util.h"

static const char *k_prompts[3] = {
    "A cat walks on the grass, realistic style.", "",
    "色调艳丽，过曝，静态，细节模糊不清，字幕，风格，作品，画作，画面，静止，整体发灰，最差质量，低质量，"
    "JPEG压缩残留，丑陋的，残缺的，多余的手指，画得不好的手部，画得不好的脸部，畸形的，毁容的，形态畸形的肢体，"
    "手指融合，静止不动的画面，杂乱的背景，三条腿，背景人很多，倒着走"};

static void run_case(const char *name) {
    char dir[512], io[512];
    snprintf(dir, sizeof dir, "%s", vt_src_path("tests/data/text"));
    snprintf(io, sizeof io, "%s/%s_io.safetensors", dir, name);
    snprintf(dir + strlen(dir), sizeof dir - strlen(dir), "/%s", name);
    vd_error err = {0};
    vd_umt5 *m = NULL;
    vd_st_file *f = NULL;
    if (vd_umt5_load(&m, dir, &err) != VD_OK || vd_st_open(&f, io, &err) != VD_OK) {
        fprintf(stderr, "FAIL %s: %s\n", name, err.msg);
        vt_failures++;
        vd_umt5_free(m);
        return;
    }
    const vd_umt5_config *c = &m->cfg;
    const vd_st_tensor *ids_t = vd_st_find(f, "input_ids"), *mask_t = vd_st_find(f, "attention_mask");
    const vd_st_tensor *hid_t = vd_st_find(f, "hidden"), *bk_t = vd_st_find(f, "buckets");
    VT_EXPECT(ids_t && mask_t && hid_t && bk_t && ids_t->dtype == VD_I32 && bk_t->dtype == VD_I32);
    if (!ids_t || !mask_t || !hid_t || !bk_t) goto done;
    const int L = (int)ids_t->shape[0];
    const int32_t *ids = (const int32_t *)ids_t->data, *mask = (const int32_t *)mask_t->data;
    int n_real = 0;
    for (int i = 0; i < L; i++) n_real += mask[i];
    // Buckets for rel = -(L-1) .. L-1.
    const int32_t *bk = (const int32_t *)bk_t->data;
    int bad_b = 0;
    for (int r = -(L - 1); r <= L - 1; r++)
        if (vd_umt5_bucket(r, c->n_buckets, c->max_distance) != bk[r + L - 1]) {
            if (bad_b++ < 3)
                fprintf(stderr, "FAIL %s bucket(rel=%d) = %d, torch %d\n", name, r,
                        vd_umt5_bucket(r, c->n_buckets, c->max_distance), bk[r + L - 1]);
        }
    vt_failures += bad_b != 0;
    float *ref = (float *)malloc((size_t)L * c->d_model * sizeof(float));
    float *got = (float *)calloc((size_t)L * c->d_model, sizeof(float));
    VT_EXPECT(vd_st_read_f32(hid_t, ref, 0, NULL, &err) == VD_OK);
    VT_EXPECT(vd_umt5_forward_cpu(m, ids, n_real, got, &err) == VD_OK);
    char case_name[128];
    snprintf(case_name, sizeof case_name, "%s (d=%lld NH=%lld D=%lld ff=%lld L=%lld, %d/%d real tokens)", name,
             (long long)c->d_model, (long long)c->n_heads, (long long)c->d_kv, (long long)c->d_ff,
             (long long)c->n_layers, n_real, L);
    if (!vt_check(case_name, got, ref, (int64_t)L * c->d_model, 1e-4, 1e-4)) vt_failures++;
    // The Wan text path on the model whose vocab matches tok_umt5.json.
    const vd_st_tensor *ph = vd_st_find(f, "prompt_hidden");
    if (ph) {
        vd_tokenizer *tok = NULL;
        char tp[512];
        snprintf(tp, sizeof tp, "%s", vt_src_path("tests/data/text/tok_umt5.json"));
        VT_EXPECT(vd_tokenizer_load(&tok, tp, &err) == VD_OK);
        const int max_len = 64;
        float *pref = (float *)malloc((size_t)3 * max_len * c->d_model * sizeof(float));
        float *outs[3];
        int nr[3];
        for (int i = 0; i < 3; i++) outs[i] = (float *)malloc((size_t)max_len * c->d_model * sizeof(float));
        VT_EXPECT(vd_st_read_f32(ph, pref, 0, NULL, &err) == VD_OK);
        vd_status s = vd_umt5_encode_texts(m, tok, k_prompts, 3, max_len, VD_UMT5_CPU, outs, nr, &err);
        VT_EXPECT(s == VD_OK);
        for (int i = 0; i < 3 && s == VD_OK; i++) {
            snprintf(case_name, sizeof case_name, "%s text path, prompt %d (%d real tokens of %d)", name, i, nr[i], max_len);
            if (!vt_check(case_name, outs[i], pref + (size_t)i * max_len * c->d_model, (int64_t)max_len * c->d_model, 1e-4,
                          1e-4))
                vt_failures++;
            bool zero = true;
            for (int64_t k = (int64_t)nr[i] * c->d_model; k < (int64_t)max_len * c->d_model; k++) zero = zero && outs[i][k] == 0.0f;
            VT_EXPECT(zero);
        }
        VT_EXPECT(nr[1] == 1);   // "" -> </s>
        // The one-call pipeline entry (load, encode, free) gives the same rows, plus the ids.
        float *w_out[3];
        int32_t *w_ids[3];
        int w_nr[3];
        int64_t w_d = 0;
        s = vd_wan_text_encode(dir, tp, k_prompts, 3, max_len, VD_UMT5_CPU, w_out, w_nr, w_ids, &w_d, &err);
        VT_EXPECT(s == VD_OK && w_d == c->d_model);
        for (int i = 0; i < 3 && s == VD_OK; i++) {
            snprintf(case_name, sizeof case_name, "%s vd_wan_text_encode prompt %d", name, i);
            if (!vt_check(case_name, w_out[i], pref + (size_t)i * max_len * c->d_model, (int64_t)max_len * c->d_model,
                          1e-4, 1e-4))
                vt_failures++;
            VT_EXPECT(w_nr[i] == nr[i] && w_ids[i][w_nr[i] - 1] == 1 && (w_nr[i] == max_len || w_ids[i][w_nr[i]] == 0));
            free(w_out[i]);
            free(w_ids[i]);
        }
        // A tokenizer whose ids exceed this model's vocab is refused with a message.
        if (c->vocab > 0) {
            vd_umt5_config saved = m->cfg;
            m->cfg.vocab = 10;
            VT_EXPECT(vd_umt5_encode_texts(m, tok, k_prompts, 1, max_len, VD_UMT5_CPU, outs, nr, &err) == VD_ERR_FORMAT);
            printf("  mismatch: %s\n", err.msg);
            m->cfg = saved;
        }
        for (int i = 0; i < 3; i++) free(outs[i]);
        free(pref);
        vd_tokenizer_free(tok);
    }
    // Bad ids.
    int32_t bad[2] = {0, (int32_t)c->vocab};
    VT_EXPECT(vd_umt5_forward_cpu(m, bad, 2, got, &err) == VD_ERR_INVALID_ARG);
    VT_EXPECT(vd_umt5_forward_cpu(m, bad, 0, got, &err) == VD_ERR_INVALID_ARG);
    free(ref);
    free(got);
done:
    vd_st_close(f);
    vd_umt5_free(m);
}

static void bad_files(void) {
    vd_error err = {0};
    vd_umt5 *m = NULL;
    VT_EXPECT(vd_umt5_load(&m, "/nonexistent/text_encoder", &err) != VD_OK && m == NULL);
    printf("  missing: %s\n", err.msg);
    // Truncated weights.
    char src[512];
    snprintf(src, sizeof src, "%s", vt_src_path("tests/data/text/umt5_a/model.safetensors"));
    FILE *in = fopen(src, "rb");
    VT_EXPECT(in != NULL);
    if (!in) return;
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf, in);
    fclose(in);
    const char *tp = "/tmp/vdit_test_umt5_trunc.safetensors";
    FILE *o = fopen(tp, "wb");
    fwrite(buf, 1, n / 2, o);
    fclose(o);
    VT_EXPECT(vd_umt5_load(&m, tp, &err) == VD_ERR_FORMAT && m == NULL);
    printf("  truncated: %s\n", err.msg);
    remove(tp);
    // Not a UMT5 encoder: the io fixture has no model tensors.
    char io[512];
    snprintf(io, sizeof io, "%s", vt_src_path("tests/data/text/umt5_a_io.safetensors"));
    VT_EXPECT(vd_umt5_load(&m, io, &err) == VD_ERR_FORMAT && m == NULL);
    printf("  wrong file: %s\n", err.msg);
}

int main(void) {
    vd_log_set_level(VD_LOG_WARN);
    // umt5_b is stored as two shards + index; umt5_c_f16 / umt5_c_bf16 hold half-precision weights.
    const char *cases[] = {"umt5_a", "umt5_b", "umt5_c", "umt5_c_f16", "umt5_c_bf16", "umt5_tok"};
    for (int i = 0; i < 6; i++) run_case(cases[i]);
    bad_files();
    return vt_finish("test_umt5");
}
