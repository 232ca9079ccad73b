// Wan text conditioning: prompt_clean (tokenizer_clean.h; ftfy only partly), tokenize, encode
// the real tokens on the CPU or CUDA, zero the rows
// past the real length (the Wan pipeline's `u[:v]` then zero padding to 512).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dit/tokenizer_clean.h"
#include "dit/umt5_model.h"
#include "lib/log.h"

vd_status vd_umt5_encode_texts(vd_umt5 *m, const vd_tokenizer *tok, const char *const *texts, int n_texts,
                               int max_len, vd_umt5_device dev, float **out, int *n_real, vd_error *err) {
    if (n_texts <= 0 || max_len <= 1)
        return vd_error_set(err, VD_ERR_INVALID_ARG, "vd_umt5_encode_texts: %d texts, max_len %d (need >= 1 and >= 2)",
                            n_texts, max_len);
    if (dev != VD_UMT5_CPU && dev != VD_UMT5_CUDA)
        return vd_error_set(err, VD_ERR_INVALID_ARG, "vd_umt5_encode_texts: device %d (allowed: cpu, cuda)", (int)dev);
    const int64_t d = m->cfg.d_model;
    vd_status s = VD_OK;
    if (dev == VD_UMT5_CUDA) VD_TRY(vd_umt5_cuda_upload(m, 0, err));
    for (int i = 0; i < n_texts && s == VD_OK; i++) {
        vd_tokenize_opts o;
        vd_tokenize_opts_init(&o);
        o.max_len = max_len;
        vd_tokens tk;
        const char *raw = texts[i] ? texts[i] : "";
        size_t clen;
        char *text = vd_wan_prompt_clean(raw, strlen(raw), &clen);
        if (!text) {
            s = vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "umt5: out of memory cleaning text %d", i);
            break;
        }
        if (!text[0]) VD_LOGI("umt5: text %d is empty; it encodes to </s> alone", i);
        s = vd_tokenizer_encode(tok, text, clen, &o, &tk, err);
        free(text);
        if (s != VD_OK) break;
        for (int t = 0; t < tk.n_real && s == VD_OK; t++)
            if (tk.ids[t] < 0 || tk.ids[t] >= m->cfg.vocab)
                s = vd_error_set(err, VD_ERR_FORMAT, "umt5: the tokenizer gave id %d but the encoder has %lld embedding rows "
                                 "(tokenizer and text encoder do not match)", tk.ids[t], (long long)m->cfg.vocab);
        if (s == VD_OK) {
            memset(out[i], 0, (size_t)max_len * (size_t)d * sizeof(float));
            s = dev == VD_UMT5_CPU ? vd_umt5_forward_cpu(m, tk.ids, tk.n_real, out[i], err)
                                   : vd_umt5_forward_cuda(m, tk.ids, tk.n_real, out[i], err);
        }
        if (n_real) n_real[i] = tk.n_real;
        VD_LOGD("umt5: text %d: %d tokens%s", i, tk.n_real, tk.truncated ? " (truncated)" : "");
        vd_tokens_free(&tk);
    }
    if (dev == VD_UMT5_CUDA) vd_umt5_cuda_release(m);
    return s;
}

static bool path_exists(const char *p) {
    struct stat sb;
    return stat(p, &sb) == 0;
}

vd_status vd_wan_text_encode(const char *model, const char *tokenizer_path, const char *const *texts, int n_texts,
                             int max_len, vd_umt5_device dev, float **out, int *n_real, int32_t **ids,
                             int64_t *d_model, vd_error *err) {
    if (!model || !texts || n_texts <= 0 || !out || max_len < 2)
        return vd_error_set(err, VD_ERR_INVALID_ARG, "vd_wan_text_encode: need a model path, >= 1 text, max_len >= 2");
    for (int i = 0; i < n_texts; i++) {
        out[i] = NULL;
        if (ids) ids[i] = NULL;
    }
    char enc_path[4096], tp[4096];
    snprintf(enc_path, sizeof enc_path, "%s/text_encoder", model);
    if (!path_exists(enc_path)) snprintf(enc_path, sizeof enc_path, "%s", model);
    if (!tokenizer_path) {
        snprintf(tp, sizeof tp, "%s/tokenizer/tokenizer.json", model);
        if (!path_exists(tp)) snprintf(tp, sizeof tp, "%s/../tokenizer/tokenizer.json", model);
        if (!path_exists(tp)) snprintf(tp, sizeof tp, "%s/tokenizer.json", model);
        tokenizer_path = tp;
    }
    vd_tokenizer *tok = NULL;
    vd_umt5 *m = NULL;
    vd_status s = vd_tokenizer_load(&tok, tokenizer_path, err);
    if (s == VD_OK) s = vd_umt5_load(&m, enc_path, err);
    const int64_t d = m ? m->cfg.d_model : 0;
    for (int i = 0; i < n_texts && s == VD_OK; i++) {
        out[i] = (float *)malloc((size_t)max_len * (size_t)d * sizeof(float));
        if (ids) ids[i] = (int32_t *)malloc((size_t)max_len * sizeof(int32_t));
        if (!out[i] || (ids && !ids[i])) {
            s = vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "vd_wan_text_encode: cannot allocate %d x %lld floats", max_len,
                             (long long)d);
            break;
        }
        if (ids) {
            // The padded ids, as the encoder sees them (same cleaning and options as below).
            vd_tokenize_opts o;
            vd_tokenize_opts_init(&o);
            o.max_len = max_len;
            size_t clen;
            char *clean = vd_wan_prompt_clean(texts[i] ? texts[i] : "", texts[i] ? strlen(texts[i]) : 0, &clen);
            vd_tokens tk;
            s = clean ? vd_tokenizer_encode(tok, clean, clen, &o, &tk, err)
                      : vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "vd_wan_text_encode: out of memory");
            free(clean);
            if (s == VD_OK) {
                memcpy(ids[i], tk.ids, (size_t)max_len * sizeof(int32_t));
                vd_tokens_free(&tk);
            }
        }
    }
    if (s == VD_OK) s = vd_umt5_encode_texts(m, tok, texts, n_texts, max_len, dev, out, n_real, err);
    vd_umt5_free(m);
    vd_tokenizer_free(tok);
    if (s != VD_OK) {
        for (int i = 0; i < n_texts; i++) {
            free(out[i]);
            out[i] = NULL;
            if (ids) {
                free(ids[i]);
                ids[i] = NULL;
            }
        }
        return s;
    }
    if (d_model) *d_model = d;
    return VD_OK;
}
