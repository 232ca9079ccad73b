// `vdit encode-text --model DIR "text" --out emb.safetensors`: Wan text conditioning with the
// umT5 encoder. Writes prompt_embeds [1, max_len, d_model] f32 (rows past the real length are
// zero, as the Wan pipeline pads), prompt_ids [max_len] i32 and prompt_len [1] i32; with
// --negative also negative_prompt_embeds / negative_prompt_ids / negative_prompt_len.
// Prompts are cleaned as Wan's prompt_clean (HTML unescape, whitespace collapse; of ftfy only the
// HTML step and uncurl_quotes: see dit/tokenizer_clean.h).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apps/commands.h"
#include "dit/umt5_model.h"
#include "lib/device.h"
#include "lib/log.h"
#include "lib/safetensors.h"

static void encode_text_usage(FILE *f) {
    fprintf(f,
            "usage: vdit encode-text --model DIR [options] \"text\" --out emb.safetensors\n"
            "  --model DIR        Wan Diffusers root (text_encoder/ + tokenizer/), or a text_encoder directory,\n"
            "                     or a UMT5 encoder .safetensors file / index\n"
            "  --tokenizer FILE   tokenizer.json (default: DIR/tokenizer/tokenizer.json, DIR/../tokenizer/tokenizer.json)\n"
            "  --out FILE         output safetensors (required)\n"
            "  --negative TEXT    also encode a negative prompt\n"
            "  --device cpu|cuda  where the encoder runs (default: cuda when available, else cpu);\n"
            "                     umT5-XXL needs ~10 GB of device memory (bf16) or ~23 GB of RAM for fp32 weights on cpu\n"
            "  --max-len N        text length (default 512, Wan's)\n");
}

int cmd_encode_text(int argc, char **argv) {
    const char *model = NULL, *tok_path = NULL, *out = NULL, *text = NULL, *neg = NULL, *devname = NULL;
    int max_len = 512;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has = i + 1 < argc;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            encode_text_usage(stdout);
            return 0;
        } else if (!strcmp(a, "--model") && has) model = argv[++i];
        else if (!strcmp(a, "--tokenizer") && has) tok_path = argv[++i];
        else if (!strcmp(a, "--out") && has) out = argv[++i];
        else if (!strcmp(a, "--negative") && has) neg = argv[++i];
        else if (!strcmp(a, "--device") && has) devname = argv[++i];
        else if (!strcmp(a, "--max-len") && has) {
            char *end;
            long v = strtol(argv[++i], &end, 10);
            if (*end || v < 2 || v > 4096) {
                fprintf(stderr, "vdit encode-text: --max-len '%s' must be an integer in [2, 4096]\n", argv[i]);
                return 2;
            }
            max_len = (int)v;
        } else if (a[0] == '-' && a[1] == '-') {
            fprintf(stderr, "vdit encode-text: unknown option '%s' (or missing value)\n", a);
            encode_text_usage(stderr);
            return 2;
        } else if (!text) {
            text = a;
        } else {
            fprintf(stderr, "vdit encode-text: more than one text given ('%s'); quote the text\n", a);
            return 2;
        }
    }
    if (!model || !out || !text) {
        fprintf(stderr, "vdit encode-text: need --model DIR, --out FILE and one text\n");
        encode_text_usage(stderr);
        return 2;
    }
    vd_umt5_device dev = vd_cuda_available() ? VD_UMT5_CUDA : VD_UMT5_CPU;
    if (devname) {
        if (!strcmp(devname, "cpu")) dev = VD_UMT5_CPU;
        else if (!strcmp(devname, "cuda")) dev = VD_UMT5_CUDA;
        else {
            fprintf(stderr, "vdit encode-text: --device '%s' (allowed: cpu, cuda)\n", devname);
            return 2;
        }
    }
    vd_error err = {0};
    float *emb[2] = {NULL, NULL};
    int n_real[2] = {0, 0};
    int32_t *ids[2] = {NULL, NULL};
    int64_t d = 0;
    int rc = 1;
    const char *texts[2] = {text, neg};
    const int n_texts = neg ? 2 : 1;
    // Loads tokenizer + encoder, encodes, and frees the encoder before we write anything.
    if (vd_wan_text_encode(model, tok_path, texts, n_texts, max_len, dev, emb, n_real, ids, &d, &err) != VD_OK) goto fail;
    {
        int64_t shp_e[3] = {1, max_len, d}, shp_i[1] = {max_len}, shp_n[1] = {1};
        vd_st_write_entry e[6] = {
            {"prompt_embeds", VD_F32, 3, shp_e, emb[0]},
            {"prompt_ids", VD_I32, 1, shp_i, ids[0]},
            {"prompt_len", VD_I32, 1, shp_n, &n_real[0]},
            {"negative_prompt_embeds", VD_F32, 3, shp_e, emb[1]},
            {"negative_prompt_ids", VD_I32, 1, shp_i, ids[1]},
            {"negative_prompt_len", VD_I32, 1, shp_n, &n_real[1]},
        };
        if (vd_st_write(out, e, (size_t)(3 * n_texts), NULL, &err) != VD_OK) goto fail;
    }
    printf("encode-text: prompt %d token(s)", n_real[0]);
    if (neg) printf(", negative prompt %d token(s)", n_real[1]);
    printf(" -> %s ([1, %d, %lld] f32 each, encoder on %s)\n", out, max_len, (long long)d, dev == VD_UMT5_CUDA ? "cuda" : "cpu");
    rc = 0;
fail:
    if (rc) fprintf(stderr, "vdit encode-text: %s (%s)\n", err.msg, vd_status_str(err.code));
    for (int i = 0; i < 2; i++) {
        free(emb[i]);
        free(ids[i]);
    }
    return rc;
}
