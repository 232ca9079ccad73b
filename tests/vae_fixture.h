// Shared by tests/test_vae.c and tests/gpu/test_vae_cuda.c: loads a tests/data/vae/<name> fixture
// (written by scripts/gen_vae_fixtures.py) and decodes a latent into one float video buffer.
#pragma once
#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dit/vae.h"
#include "lib/safetensors.h"
#include "tests/test_util.h"

typedef struct {
    int F, H, W;
    int tiled, tile_h, tile_w, stride_h, stride_w;
} vae_case;

typedef struct {
    vd_vae *vae;
    vd_st_file *cases;
    int n_cases;
    vae_case c[16];
} vae_fixture;

// Loads the VAE of fixture tests/data/vae/<name>; NULL after printing why (the caller counts the failure).
static vd_vae *vae_fixture_load(const char *name) {
    char rel[256];
    vd_error err = {0};
    vd_vae *vae = NULL;
    snprintf(rel, sizeof rel, "tests/data/vae/%s", name);
    if (vd_vae_load(&vae, vt_src_path(rel), &err) != VD_OK) {
        fprintf(stderr, "FAIL load %s: %s\n", rel, err.msg);
        return NULL;
    }
    return vae;
}

static int vae_fixture_open(vae_fixture *fx, const char *name) {
    memset(fx, 0, sizeof *fx);
    char rel[256];
    vd_error err = {0};
    if (!(fx->vae = vae_fixture_load(name))) return -1;
    snprintf(rel, sizeof rel, "tests/data/vae/%s/cases.safetensors", name);
    if (vd_st_open(&fx->cases, vt_src_path(rel), &err) != VD_OK) {
        fprintf(stderr, "FAIL open %s: %s\n", rel, err.msg);
        return -1;
    }
    cJSON *outer = cJSON_Parse(vd_st_metadata(fx->cases));
    const cJSON *js = cJSON_GetObjectItemCaseSensitive(outer, "json");
    cJSON *meta = js && cJSON_IsString(js) ? cJSON_Parse(js->valuestring) : NULL;
    const cJSON *cases = cJSON_GetObjectItemCaseSensitive(meta, "cases"), *e;
    cJSON_ArrayForEach(e, cases) {
        if (fx->n_cases >= 16) break;
        vae_case *c = &fx->c[fx->n_cases++];
#define GETI(k) (cJSON_GetObjectItemCaseSensitive(e, #k) ? (int)cJSON_GetObjectItemCaseSensitive(e, #k)->valuedouble : 0)
        c->F = GETI(F), c->H = GETI(H), c->W = GETI(W);
        c->tiled = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "tiled"));
        c->tile_h = GETI(tile_h), c->tile_w = GETI(tile_w), c->stride_h = GETI(stride_h), c->stride_w = GETI(stride_w);
#undef GETI
    }
    cJSON_Delete(meta);
    cJSON_Delete(outer);
    if (fx->n_cases == 0) {
        fprintf(stderr, "FAIL %s: no cases in metadata\n", rel);
        return -1;
    }
    return 0;
}

static void vae_fixture_close(vae_fixture *fx) {
    vd_vae_free(fx->vae);
    vd_st_close(fx->cases);
}

// Loads tensor `name` as f32 (malloc'ed) and checks its element count when n_expect > 0.
static float *vae_fixture_tensor(vae_fixture *fx, const char *name, int64_t n_expect) {
    const vd_st_tensor *t = vd_st_find(fx->cases, name);
    if (!t) {
        fprintf(stderr, "FAIL fixture tensor %s missing\n", name);
        return NULL;
    }
    int64_t n = 1;
    for (int i = 0; i < t->ndim; i++) n *= t->shape[i];
    if (n_expect > 0 && n != n_expect) {
        fprintf(stderr, "FAIL fixture tensor %s has %lld values, expected %lld\n", name, (long long)n, (long long)n_expect);
        return NULL;
    }
    float *d = malloc((size_t)n * sizeof(float));
    vd_error err = {0};
    if (vd_st_read_f32(t, d, 0, NULL, &err) != VD_OK) {
        fprintf(stderr, "FAIL read %s: %s\n", name, err.msg);
        free(d);
        return NULL;
    }
    return d;
}

// Collects emitted frames into video [C, F_out, H, W] (the torch layout of the reference).
typedef struct {
    float *video;
    int64_t c, f, h, w, got;
    int rgb_bad;
} vae_collect;

static vd_status vae_collect_fn(void *user, const vd_vae_frame *fr, vd_error *err) {
    vae_collect *col = user;
    if (fr->index != col->got || fr->index >= col->f || fr->h != col->h || fr->w != col->w || fr->c != col->c)
        return vd_error_set(err, VD_ERR_INTERNAL, "collect: unexpected frame %lld (%lldx%lldx%lld)", (long long)fr->index,
                            (long long)fr->c, (long long)fr->h, (long long)fr->w);
    const int64_t hw = fr->h * fr->w;
    for (int64_t c = 0; c < fr->c; c++) {
        memcpy(col->video + (c * col->f + fr->index) * hw, fr->chw + c * hw, (size_t)hw * sizeof(float));
        for (int64_t p = 0; p < hw; p++) {
            // independent re-derivation of the uint8 pixel from the float
            double u = ((double)fr->chw[c * hw + p] + 1.0) * 0.5 * 255.0;
            long want = (long)(u + 0.5);
            long got = fr->rgb[p * fr->c + c];
            if (labs(want - got) > 0 && fabs(u - floor(u) - 0.5) > 1e-3) col->rgb_bad++;
        }
    }
    col->got++;
    return VD_OK;
}

// Largest |x| over n values: the output scale that the tests' relative tolerances multiply.
static double vae_max_abs(const float *x, int64_t n) {
    double m = 0;
    for (int64_t i = 0; i < n; i++) m = fabs(x[i]) > m ? fabs(x[i]) : m;
    return m;
}

// Decodes latent [z_dim, F, H, W] with opts (CPU or CUDA) through vae_collect_fn; returns the
// malloc'ed video [C, F_out, H*s, W*s] (*n_out values), or NULL after counting one failure that
// names the call when the decode fails, emits the wrong number of frames, or emits uint8 pixels
// that disagree with its float frames.
static float *vae_fixture_decode(vd_vae *vae, const float *z, int F, int H, int W, const vd_vae_decode_opts *o,
                                 int64_t *n_out) {
    const vd_vae_config *cfg = vd_vae_get_config(vae);
    const int64_t s = vd_vae_spatial_factor(cfg);
    vae_collect col = {0};
    col.c = cfg->out_channels, col.f = vd_vae_out_frames(cfg, F), col.h = H * s, col.w = W * s;
    *n_out = col.c * col.f * col.h * col.w;
    col.video = calloc((size_t)*n_out, sizeof(float));
    vd_error err = {0};
    vd_status st = vd_vae_decode(vae, z, cfg->z_dim, F, H, W, o, vae_collect_fn, &col, NULL, &err);
    if (st != VD_OK || col.got != col.f || col.rgb_bad) {
        fprintf(stderr,
                "FAIL decode (%s) F=%d H=%d W=%d chunk=%d tiling=%d: %s (frames %lld/%lld, rgb mismatches %d)\n",
                o->device == VD_DEVICE_CUDA ? "cuda" : "cpu", F, H, W, o->chunk_frames, o->tiling, err.msg,
                (long long)col.got, (long long)col.f, col.rgb_bad);
        vt_failures++;
        free(col.video);
        return NULL;
    }
    return col.video;
}
