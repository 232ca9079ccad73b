// Wan VAE decoder (CPU fp32) against diffusers AutoencoderKLWan fixtures (tests/data/vae, written
// by scripts/gen_vae_fixtures.py): per-frame chunked decode (the references' schedule) must match
// within relative error 1e-4; whole-sequence and 2-frame chunking must match the per-frame decode
// (same math, different GEMM sizes: 1e-5); tiled decode (1 and 2 latent frames per call) must
// match diffusers' tiled_decode; bad inputs must fail with messages.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dit/vae.h"
#include "dit/vae_config.h"
#include "test_util.h"
#include "vae_fixture.h"

static double max_abs(const float *x, int64_t n) {
    double m = 0;
    for (int64_t i = 0; i < n; i++) m = fabs(x[i]) > m ? fabs(x[i]) : m;
    return m;
}

// Decodes latent [C, F, H, W] with opts; returns malloc'ed video [3, F_out, H*s, W*s] or NULL.
static float *decode(vd_vae *vae, const float *z, int F, int H, int W, const vd_vae_decode_opts *o, int64_t *n_out) {
    const vd_vae_config *cfg = vd_vae_get_config(vae);
    const int64_t s = vd_vae_spatial_factor(cfg);
    vae_collect col = {0};
    col.c = cfg->out_channels, col.f = vd_vae_out_frames(cfg, F), col.h = H * s, col.w = W * s;
    *n_out = col.c * col.f * col.h * col.w;
    col.video = calloc((size_t)*n_out, sizeof(float));
    vd_error err = {0};
    vd_status st = vd_vae_decode(vae, z, cfg->z_dim, F, H, W, o, vae_collect_fn, &col, NULL, &err);
    if (st != VD_OK || col.got != col.f || col.rgb_bad) {
        fprintf(stderr, "FAIL decode F=%d H=%d W=%d chunk=%d tiling=%d: %s (frames %lld/%lld, rgb mismatches %d)\n", F,
                H, W, o->chunk_frames, o->tiling, err.msg, (long long)col.got, (long long)col.f, col.rgb_bad);
        vt_failures++;
        free(col.video);
        return NULL;
    }
    return col.video;
}

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
        float *got = z ? decode(fx.vae, z, c->F, c->H, c->W, &o, &n) : NULL;
        snprintf(tname, sizeof tname, "out_%d", k);
        float *ref = got ? vae_fixture_tensor(&fx, tname, n) : NULL;
        if (!ref) {
            vt_failures++;
            free(z), free(got);
            continue;
        }
        // relative error 1e-4 of the output scale (outputs live in [-1, 1])
        const double scale = max_abs(ref, n);
        snprintf(cname, sizeof cname, "%s case %d F=%d %dx%d: chunk 1 vs diffusers", name, k, c->F, c->H, c->W);
        VT_EXPECT(vt_check(cname, got, ref, n, 1e-4 * scale, 1e-4));

        // Chunking must not change the result: whole sequence at once, and 2 latent frames per call.
        int chunks[2] = {c->F, 2};
        for (int i = 0; i < 2; i++) {
            if (chunks[i] == 1 || (i == 1 && c->F <= 2)) continue;
            o.chunk_frames = chunks[i];
            int64_t n2;
            float *g2 = decode(fx.vae, z, c->F, c->H, c->W, &o, &n2);
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
                float *g4 = decode(fx.vae, z, c->F, c->H, c->W, &o, &n4);
                snprintf(cname, sizeof cname, "%s case %d: tiled %dx%d/%dx%d chunk %d vs diffusers tiled_decode", name,
                         k, c->tile_h, c->tile_w, c->stride_h, c->stride_w, chunk);
                if (g4) VT_EXPECT(vt_check(cname, g4, tref, n, 1e-4 * max_abs(tref, n), 1e-4));
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
    vd_vae *vae = NULL;
    vd_error err = {0};
    if (vd_vae_load(&vae, vt_src_path("tests/data/vae/tiny3"), &err) != VD_OK) {
        fprintf(stderr, "FAIL load: %s\n", err.msg);
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

static void expect_error(const char *what, vd_status st, vd_status want, const vd_error *err, const char *needle) {
    bool ok = st == want && strstr(err->msg, needle) != NULL;
    printf("%s %s: status %s, message: %s\n", ok ? "ok  " : "FAIL", what, vd_status_str(st), err->msg);
    if (!ok) vt_failures++;
}

static void bad_inputs(void) {
    vd_vae *vae = NULL;
    vd_error err = {0};
    if (vd_vae_load(&vae, vt_src_path("tests/data/vae/tiny3"), &err) != VD_OK) {
        fprintf(stderr, "FAIL load: %s\n", err.msg);
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

int main(void) {
    run_fixture("tiny3");
    run_fixture("wan4");
    bad_inputs();
    memory_flat();
    return vt_finish("test_vae");
}
