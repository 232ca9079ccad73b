// Wan VAE decoder (CPU fp32) against diffusers AutoencoderKLWan fixtures (tests/data/vae, written
// by scripts/gen_vae_fixtures.py): per-frame chunked decode (the references' schedule) must match
// within relative error 1e-4; whole-sequence and 2-frame chunking must match the per-frame decode
// (same math, different GEMM sizes: 1e-5); tiled decode (1 and 2 latent frames per call) must
// match diffusers' tiled_decode; bad inputs must fail with messages.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dit/vae.h"
#include "dit/vae_config.h"
#include "dit/vae_model.h"
#include "test_util.h"
#include "vae_fixture.h"

static void run_fixture(const char *name) {
    vae_fixture fx;
    if (vae_fixture_open(&fx, name) != 0) {
        vt_failures++;
        return;
    }
    const vd_vae_config *cfg = vd_vae_get_config(fx.vae);
    for (int k = 0; k < fx.n_cases; k++) {
        const vae_case *c = &fx.c[k];
        char tname[64], cname[160];
        snprintf(tname, sizeof tname, "latent_%d", k);
        float *z = vae_fixture_tensor(&fx, tname, (int64_t)cfg->z_dim * c->F * c->H * c->W);
        int64_t n = 0;
        vd_vae_decode_opts o;
        vd_vae_decode_opts_default(&o);
        float *got = z ? vae_fixture_decode(fx.vae, z, c->F, c->H, c->W, &o, &n) : NULL;
        snprintf(tname, sizeof tname, "out_%d", k);
        float *ref = got ? vae_fixture_tensor(&fx, tname, n) : NULL;
        if (!ref) {
            vt_failures++;
            free(z), free(got);
            continue;
        }
        // relative error 1e-4 of the output scale (outputs live in [-1, 1])
        const double scale = vae_max_abs(ref, n);
        snprintf(cname, sizeof cname, "%s case %d F=%d %dx%d: chunk 1 vs diffusers", name, k, c->F, c->H, c->W);
        VT_EXPECT(vt_check(cname, got, ref, n, 1e-4 * scale, 1e-4));

        // Chunking must not change the result: whole sequence at once, and 2 latent frames per call.
        int chunks[2] = {c->F, 2};
        for (int i = 0; i < 2; i++) {
            if (chunks[i] == 1 || (i == 1 && c->F <= 2)) continue;
            o.chunk_frames = chunks[i];
            int64_t n2;
            float *g2 = vae_fixture_decode(fx.vae, z, c->F, c->H, c->W, &o, &n2);
            snprintf(cname, sizeof cname, "%s case %d: chunk %d vs chunk 1", name, k, chunks[i]);
            if (g2) VT_EXPECT(vt_check(cname, g2, got, n, 1e-5, 1e-5));
            free(g2);
        }
        o.chunk_frames = 1;

        if (c->tiled) {
            o.tiling = true;
            o.tile_h = c->tile_h, o.tile_w = c->tile_w, o.stride_h = c->stride_h, o.stride_w = c->stride_w;
            snprintf(tname, sizeof tname, "tiled_%d", k);
            float *tref = vae_fixture_tensor(&fx, tname, n);
            for (int chunk = 1; tref && chunk <= 2; chunk++) {
                o.chunk_frames = chunk;
                int64_t n4;
                float *g4 = vae_fixture_decode(fx.vae, z, c->F, c->H, c->W, &o, &n4);
                snprintf(cname, sizeof cname, "%s case %d: tiled %dx%d/%dx%d chunk %d vs diffusers tiled_decode", name,
                         k, c->tile_h, c->tile_w, c->stride_h, c->stride_w, chunk);
                if (g4) VT_EXPECT(vt_check(cname, g4, tref, n, 1e-4 * vae_max_abs(tref, n), 1e-4));
                free(g4);
            }
            if (!tref) vt_failures++;
            free(tref);
        }
        free(z), free(got), free(ref);
    }
    vae_fixture_close(&fx);
}

// Memory must not grow with the frame count: peak decoder bytes for 2, 5 and 9 latent frames
// (1 frame per call) are equal; and whole-sequence decoding (chunk = F) does grow (sanity: the
// tally measures something).
static void memory_flat(void) {
    vd_error err = {0};
    vd_vae *vae = vae_fixture_load("tiny3");
    if (!vae) {
        vt_failures++;
        return;
    }
    vt_rng rng;
    vt_rng_seed(&rng, 7);
    const int Fs[3] = {2, 5, 9};
    size_t peak[3] = {0}, whole = 0;
    for (int i = 0; i < 3; i++) {
        const int64_t n = 4LL * Fs[i] * 5 * 6;
        float *z = malloc((size_t)n * sizeof(float));
        vt_fill_normal(&rng, z, n, 1.0f);
        vd_vae_decode_opts o;
        vd_vae_decode_opts_default(&o);
        vd_vae_decode_stats st = {0};
        VT_EXPECT(vd_vae_decode(vae, z, 4, Fs[i], 5, 6, &o, NULL, NULL, &st, &err) == VD_OK);
        peak[i] = st.peak_device_bytes;
        if (i == 2) {
            o.chunk_frames = Fs[i];
            VT_EXPECT(vd_vae_decode(vae, z, 4, Fs[i], 5, 6, &o, NULL, NULL, &st, &err) == VD_OK);
            whole = st.peak_device_bytes;
        }
        free(z);
    }
    bool ok = peak[0] > 0 && peak[0] == peak[1] && peak[1] == peak[2] && whole > 2 * peak[2];
    printf("%s decoder peak bytes, chunk 1: F=2 %zu, F=5 %zu, F=9 %zu; F=9 whole: %zu\n", ok ? "ok  " : "FAIL",
           peak[0], peak[1], peak[2], whole);
    if (!ok) vt_failures++;
    vd_vae_free(vae);
}

// Original Wan key names: the mapping matches the pair list checked with diffusers' converter
// (Wan2.1 config), and a tiny3 checkpoint renamed to original names decodes like the diffusers one.
typedef struct {
    cJSON *pairs;
    int n, bad;
    const vd_vae *v;
} names_ctx;

static vd_status check_name(void *user, const char *name, float *data, int ndim, const int64_t *shape, vd_error *err) {
    names_ctx *nc = user;
    char got[256] = "";
    bool ok = vd_vae_orig_name(nc->v, name, got, sizeof got);
    const char *want = NULL;
    const cJSON *p;
    cJSON_ArrayForEach(p, nc->pairs) {
        if (!strcmp(cJSON_GetArrayItem(p, 0)->valuestring, name)) want = cJSON_GetArrayItem(p, 1)->valuestring;
    }
    if (!ok || !want || strcmp(got, want)) {
        if (nc->bad++ < 5) printf("FAIL orig name of %s: got %s, want %s\n", name, ok ? got : "(none)", want ? want : "(no pair)");
    }
    nc->n++;
    return VD_OK;
}

typedef struct {
    vd_st_write_entry e[512];
    char names[512][160];
    int n;
    const vd_vae *v;
} rename_ctx;

static vd_status collect_renamed(void *user, const char *name, float *data, int ndim, const int64_t *shape, vd_error *err) {
    rename_ctx *rc = user;
    if (rc->n >= 512 || !vd_vae_orig_name(rc->v, name, rc->names[rc->n], sizeof rc->names[0]))
        return vd_error_set(err, VD_ERR_INTERNAL, "no original name for %s", name);
    static int64_t shapes[512][5];
    memcpy(shapes[rc->n], shape, (size_t)ndim * sizeof(int64_t));
    rc->e[rc->n] = (vd_st_write_entry){rc->names[rc->n], VD_F32, ndim, shapes[rc->n], data};
    rc->n++;
    return VD_OK;
}

static void orig_names(void) {
    vd_error err = {0};
    FILE *f = fopen(vt_src_path("tests/data/vae/wan21_orig_keys.json"), "rb");
    char *buf = calloc(1 << 16, 1);
    size_t len = f ? fread(buf, 1, (1 << 16) - 1, f) : 0;
    if (f) fclose(f);
    cJSON *root = cJSON_Parse(buf);
    free(buf);
    names_ctx nc = {cJSON_GetObjectItemCaseSensitive(root, "pairs"), 0, 0, NULL};
    vd_vae_config cfg;
    vd_vae_config_wan21(&cfg);
    vd_vae *v = calloc(1, sizeof *v);
    VT_EXPECT(len > 0 && nc.pairs && vd_vae_build(v, &cfg, &err) == VD_OK);
    nc.v = v;
    vd_vae_for_each_param(v, check_name, &nc, &err);
    bool ok = nc.bad == 0 && nc.n == cJSON_GetArraySize(nc.pairs);
    printf("%s original Wan names: %d decoder tensors, %d mismatches, %d pairs in the list\n", ok ? "ok  " : "FAIL", nc.n,
           nc.bad, cJSON_GetArraySize(nc.pairs));
    if (!ok) vt_failures++;
    vd_vae_free(v);
    cJSON_Delete(root);

    // tiny3 under original names -> same output as the diffusers-named checkpoint
    vae_fixture fx;
    if (vae_fixture_open(&fx, "tiny3") != 0) {
        vt_failures++;
        return;
    }
    static rename_ctx rc;
    rc.n = 0;
    rc.v = fx.vae;
    char path[256];
    snprintf(path, sizeof path, "%s/test_vae_orig_%d.safetensors", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (int)getpid());
    vd_vae *v2 = NULL;
    if (vd_vae_for_each_param(fx.vae, collect_renamed, &rc, &err) != VD_OK || vd_st_write(path, rc.e, (size_t)rc.n, NULL, &err) != VD_OK ||
        vd_vae_load_weights(&v2, vd_vae_get_config(fx.vae), path, &err) != VD_OK) {
        printf("FAIL original-name checkpoint: %s\n", err.msg);
        vt_failures++;
    } else {
        const vae_case *c = &fx.c[0];
        float *z = vae_fixture_tensor(&fx, "latent_0", 0);
        vd_vae_decode_opts o;
        vd_vae_decode_opts_default(&o);
        int64_t n;
        float *got = vae_fixture_decode(v2, z, c->F, c->H, c->W, &o, &n);
        float *ref = vae_fixture_tensor(&fx, "out_0", n);
        if (got && ref) VT_EXPECT(vt_check("tiny3 case 0 from original-name weights vs diffusers", got, ref, n, 1e-4 * vae_max_abs(ref, n), 1e-4));
        free(z), free(got), free(ref);
    }
    remove(path);
    vd_vae_free(v2);
    vae_fixture_close(&fx);
}

static void expect_error(const char *what, vd_status st, vd_status want, const vd_error *err, const char *needle) {
    bool ok = st == want && strstr(err->msg, needle) != NULL;
    printf("%s %s: status %s, message: %s\n", ok ? "ok  " : "FAIL", what, vd_status_str(st), err->msg);
    if (!ok) vt_failures++;
}

static void bad_inputs(void) {
    vd_error err = {0};
    vd_vae *vae = vae_fixture_load("tiny3");
    if (!vae) {
        vt_failures++;
        return;
    }
    float z[5 * 2 * 3 * 3] = {0};
    vd_vae_decode_opts o;
    vd_vae_decode_opts_default(&o);
    // wrong channel count (tiny3 has z_dim 4)
    vd_status st = vd_vae_decode(vae, z, 5, 1, 3, 3, &o, NULL, NULL, NULL, &err);
    expect_error("wrong channels", st, VD_ERR_INVALID_ARG, &err, "z_dim = 4");
    // wrong rank through the tensor entry
    vd_tensor t;
    int64_t shape3[3] = {4, 3, 3};
    vd_tensor_view(&t, VD_F32, VD_DEVICE_CPU, z, 3, shape3, &err);
    st = vd_vae_decode_tensor(vae, &t, &o, NULL, NULL, NULL, &err);
    expect_error("rank 3 latent", st, VD_ERR_INVALID_ARG, &err, "wrong rank");
    int64_t shape5[5] = {1, 5, 2, 3, 3};
    vd_tensor_view(&t, VD_F32, VD_DEVICE_CPU, z, 5, shape5, &err);
    st = vd_vae_decode_tensor(vae, &t, &o, NULL, NULL, NULL, &err);
    expect_error("rank 5, 5 channels", st, VD_ERR_INVALID_ARG, &err, "channels");
    // bad options
    o.chunk_frames = 0;
    st = vd_vae_decode(vae, z, 4, 1, 3, 3, &o, NULL, NULL, NULL, &err);
    expect_error("chunk_frames 0", st, VD_ERR_INVALID_ARG, &err, "chunk_frames");
    vd_vae_decode_opts_default(&o);
    o.tiling = true, o.stride_h = 40;
    st = vd_vae_decode(vae, z, 4, 1, 3, 3, &o, NULL, NULL, NULL, &err);
    expect_error("stride > tile", st, VD_ERR_INVALID_ARG, &err, "stride");
    vd_vae_free(vae);

    // mismatched config: tiny3's weights with base_dim 16
    vd_vae_config cfg;
    st = vd_vae_config_load(&cfg, vt_src_path("tests/data/vae/tiny3/config.json"), &err);
    VT_EXPECT(st == VD_OK);
    cfg.base_dim = 16;
    st = vd_vae_load_weights(&vae, &cfg, vt_src_path("tests/data/vae/tiny3/diffusion_pytorch_model.safetensors"), &err);
    expect_error("base_dim 16 vs 8 weights", st, VD_ERR_FORMAT, &err, "decoder.conv_in.weight");
    if (st == VD_OK) vd_vae_free(vae);
    // weights of another config (wan4 weights with the tiny3 config)
    vd_vae_config_load(&cfg, vt_src_path("tests/data/vae/tiny3/config.json"), &err);
    st = vd_vae_load_weights(&vae, &cfg, vt_src_path("tests/data/vae/wan4/diffusion_pytorch_model.safetensors"), &err);
    VT_EXPECT(st != VD_OK);
    printf("%s wan4 weights with tiny3 config: %s\n", st != VD_OK ? "ok  " : "FAIL", err.msg);
    if (st == VD_OK) vd_vae_free(vae);

    // config parsing
    st = vd_vae_config_parse(&cfg, "{\"_class_name\":\"AutoencoderKLWan\",\"is_residual\":true}", &err);
    expect_error("is_residual", st, VD_ERR_UNSUPPORTED, &err, "is_residual");
    st = vd_vae_config_parse(&cfg, "{\"z_dim\":4,\"latents_mean\":[0,0,0],\"latents_std\":[1,1,1,1]}", &err);
    expect_error("mean length", st, VD_ERR_INVALID_ARG, &err, "latents_mean");
    st = vd_vae_config_parse(&cfg, "{\"dim_mult\":[1,2],\"temperal_downsample\":[true,true]}", &err);
    expect_error("temperal_downsample length", st, VD_ERR_INVALID_ARG, &err, "temperal_downsample");
    st = vd_vae_config_parse(&cfg, "{\"base_dim\": -3}", &err);
    expect_error("negative base_dim", st, VD_ERR_INVALID_ARG, &err, "base_dim");
    st = vd_vae_config_parse(&cfg, "not json", &err);
    expect_error("not json", st, VD_ERR_FORMAT, &err, "JSON");

    // Wan2.1 derived sizes
    vd_vae_config_wan21(&cfg);
    VT_EXPECT(vd_vae_out_frames(&cfg, 21) == 81);
    VT_EXPECT(vd_vae_spatial_factor(&cfg) == 8);
    VT_EXPECT(vd_vae_dim(&cfg, 0) == 384 && vd_vae_dim(&cfg, 4) == 96);
}

typedef struct {
    int calls, stop_at;
} stop_ctx;

static vd_status stop_fn(void *user, const vd_vae_frame *fr, vd_error *err) {
    stop_ctx *c = user;
    c->calls++;
    if (fr->index == c->stop_at) return vd_error_set(err, VD_ERR_IO, "stop at frame %lld", (long long)fr->index);
    return VD_OK;
}

// Untiled decodes emit chunk k's frames on a helper thread while chunk k + 1 decodes
// (opts.emit_overlap): the frames must be bit-identical to emitting on the calling thread, in
// order (vae_collect_fn checks the index), and a failing callback must stop the decode with its
// error, with no frame delivered after it.
static void emit_overlap(void) {
    vae_fixture fx;
    if (vae_fixture_open(&fx, "tiny3") != 0) {
        vt_failures++;
        return;
    }
    const vd_vae_config *cfg = vd_vae_get_config(fx.vae);
    const vae_case *c = &fx.c[0];
    float *z = vae_fixture_tensor(&fx, "latent_0", (int64_t)cfg->z_dim * c->F * c->H * c->W);
    vd_vae_decode_opts o;
    vd_vae_decode_opts_default(&o);
    int64_t n1 = 0, n2 = 0;
    o.emit_overlap = false;
    float *a = z ? vae_fixture_decode(fx.vae, z, c->F, c->H, c->W, &o, &n1) : NULL;
    o.emit_overlap = true;
    float *b = z ? vae_fixture_decode(fx.vae, z, c->F, c->H, c->W, &o, &n2) : NULL;
    VT_EXPECT(a && b && n1 == n2 && c->F >= 3);
    if (a && b) VT_EXPECT(vt_check("tiny3 case 0: emit overlap vs calling thread", b, a, n1, 0.0, 0.0));
    const int64_t fout = vd_vae_out_frames(cfg, c->F);
    stop_ctx sc = {0, (int)(fout / 2)};
    vd_error err = {0};
    vd_status st = z ? vd_vae_decode(fx.vae, z, cfg->z_dim, c->F, c->H, c->W, &o, stop_fn, &sc, NULL, &err) : VD_ERR_INTERNAL;
    const bool ok = st == VD_ERR_IO && strstr(err.msg, "stop at frame") && sc.calls == sc.stop_at + 1;
    printf("%s emit overlap: failing callback at frame %d of %lld: status %d, %d calls, \"%s\"\n", ok ? "ok  " : "FAIL",
           sc.stop_at, (long long)fout, (int)st, sc.calls, err.msg);
    VT_EXPECT(ok);
    free(a), free(b), free(z);
    vae_fixture_close(&fx);
}

int main(void) {
    run_fixture("tiny3");
    run_fixture("wan4");
    bad_inputs();
    memory_flat();
    orig_names();
    emit_overlap();
    return vt_finish("test_vae");
}
