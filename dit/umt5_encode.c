// Wan text conditioning: prompt_clean (tokenizer_clean.h; ftfy only partly), tokenize, encode
// the real tokens on the CPU or CUDA, zero the rows
// past the real length (the Wan pipeline's `u[:v]` then zero padding to 512).
#include <stdlib.h>
#include <string.h>

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
