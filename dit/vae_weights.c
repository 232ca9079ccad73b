// Wan VAE decoder: layer table, weight names (diffusers keys) and loading (see vae_model.h).
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dit/vae_model.h"
#include "lib/safetensors.h"
#include "lib/tensor.h"

static void conv_init(vd_vae_conv *c, int cout, int cin, int kt, int kh, int kw, int *slot_counter) {
    memset(c, 0, sizeof *c);
    c->cout = cout;
    c->cin = cin;
    c->kt = kt;
    c->kh = kh;
    c->kw = kw;
    c->slot = (kt > 1 && slot_counter) ? (*slot_counter)++ : -1;
}

static void res_init(vd_vae_resblock *r, int cin, int cout, int *slots) {
    memset(r, 0, sizeof *r);
    r->cin = cin;
    r->cout = cout;
    r->norm1.c = cin;
    r->norm2.c = cout;
    // Shortcut first: it runs before conv1 in diffusers but never takes a cache slot.
    r->has_shortcut = cin != cout;
    if (r->has_shortcut) conv_init(&r->shortcut, cout, cin, 1, 1, 1, NULL);
    conv_init(&r->conv1, cout, cin, 3, 3, 3, slots);
    conv_init(&r->conv2, cout, cout, 3, 3, 3, slots);
}

// Sizes only; storage is assigned by assign_storage through the parameter walk.
static void build_layers(vd_vae *v) {
    const vd_vae_config *c = &v->cfg;
    int slots = 0;
    conv_init(&v->post_quant, c->z_dim, c->z_dim, 1, 1, 1, NULL);
    int d0 = vd_vae_dim(c, 0);
    conv_init(&v->conv_in, d0, c->z_dim, 3, 3, 3, &slots);
    res_init(&v->mid_res[0], d0, d0, &slots);
    v->mid_attn.c = d0;
    v->mid_attn.norm.c = d0;
    conv_init(&v->mid_attn.to_qkv, 3 * d0, d0, 1, 1, 1, NULL);
    conv_init(&v->mid_attn.proj, d0, d0, 1, 1, 1, NULL);
    res_init(&v->mid_res[1], d0, d0, &slots);
    int n3d = 0, out_dim = d0;
    for (int i = 0; i < c->n_mult; i++) {
        vd_vae_upblock *u = &v->up[i];
        int in_dim = vd_vae_dim(c, i);
        if (i > 0) in_dim /= 2;
        out_dim = vd_vae_dim(c, i + 1);
        u->n_res = c->num_res_blocks + 1;
        int cur = in_dim;
        for (int j = 0; j < u->n_res; j++) {
            res_init(&u->res[j], cur, out_dim, &slots);
            cur = out_dim;
        }
        memset(&u->up, 0, sizeof u->up);
        if (i != c->n_mult - 1) {
            u->up.c = out_dim;
            if (c->temporal_upsample[i]) {
                u->up.mode = VD_VAE_UP_3D;
                u->up.up3d_index = n3d++;
                conv_init(&u->up.time_conv, 2 * out_dim, out_dim, 3, 1, 1, &slots);
            } else {
                u->up.mode = VD_VAE_UP_2D;
            }
            conv_init(&u->up.conv, out_dim / 2, out_dim, 1, 3, 3, NULL);
        }
    }
    v->norm_out.c = out_dim;
    conv_init(&v->conv_out, c->out_channels, out_dim, 3, 3, 3, &slots);
    v->n_slots = slots;
    v->n_up3d = n3d;
}

// ---- parameter walk ------------------------------------------------------------------------

typedef struct {
    vd_vae_param_fn fn;
    void *user;
} walk;

static vd_status visit(walk *wk, const char *name, float *data, int ndim, const int64_t *shape, vd_error *err) {
    return wk->fn(wk->user, name, data, ndim, shape, err);
}

// conv2d: the checkpoint stores [cout, cin, kh, kw] (Conv2d) instead of 5 dims.
static vd_status visit_conv(walk *wk, const char *prefix, vd_vae_conv *c, bool conv2d, vd_error *err) {
    char name[256];
    int64_t shape5[5] = {c->cout, c->cin, c->kt, c->kh, c->kw};
    int64_t shape4[4] = {c->cout, c->cin, c->kh, c->kw};
    snprintf(name, sizeof name, "%s.weight", prefix);
    VD_TRY(conv2d ? visit(wk, name, c->w, 4, shape4, err) : visit(wk, name, c->w, 5, shape5, err));
    int64_t bshape[1] = {c->cout};
    snprintf(name, sizeof name, "%s.bias", prefix);
    return visit(wk, name, c->b, 1, bshape, err);
}

static vd_status visit_norm(walk *wk, const char *prefix, vd_vae_norm *n, bool images, vd_error *err) {
    char name[256];
    snprintf(name, sizeof name, "%s.gamma", prefix);
    int64_t shape[4] = {n->c, 1, 1, 1};
    return visit(wk, name, n->gamma, images ? 3 : 4, shape, err);
}

static vd_status visit_res(walk *wk, const char *prefix, vd_vae_resblock *r, vd_error *err) {
    char name[256];
    snprintf(name, sizeof name, "%s.norm1", prefix);
    VD_TRY(visit_norm(wk, name, &r->norm1, false, err));
    snprintf(name, sizeof name, "%s.conv1", prefix);
    VD_TRY(visit_conv(wk, name, &r->conv1, false, err));
    snprintf(name, sizeof name, "%s.norm2", prefix);
    VD_TRY(visit_norm(wk, name, &r->norm2, false, err));
    snprintf(name, sizeof name, "%s.conv2", prefix);
    VD_TRY(visit_conv(wk, name, &r->conv2, false, err));
    if (r->has_shortcut) {
        snprintf(name, sizeof name, "%s.conv_shortcut", prefix);
        VD_TRY(visit_conv(wk, name, &r->shortcut, false, err));
    }
    return VD_OK;
}

vd_status vd_vae_for_each_param(vd_vae *v, vd_vae_param_fn fn, void *user, vd_error *err) {
    walk wk = {fn, user};
    char name[256];
    VD_TRY(visit_conv(&wk, "post_quant_conv", &v->post_quant, false, err));
    VD_TRY(visit_conv(&wk, "decoder.conv_in", &v->conv_in, false, err));
    VD_TRY(visit_res(&wk, "decoder.mid_block.resnets.0", &v->mid_res[0], err));
    VD_TRY(visit_norm(&wk, "decoder.mid_block.attentions.0.norm", &v->mid_attn.norm, true, err));
    VD_TRY(visit_conv(&wk, "decoder.mid_block.attentions.0.to_qkv", &v->mid_attn.to_qkv, true, err));
    VD_TRY(visit_conv(&wk, "decoder.mid_block.attentions.0.proj", &v->mid_attn.proj, true, err));
    VD_TRY(visit_res(&wk, "decoder.mid_block.resnets.1", &v->mid_res[1], err));
    for (int i = 0; i < v->cfg.n_mult; i++) {
        vd_vae_upblock *u = &v->up[i];
        for (int j = 0; j < u->n_res; j++) {
            snprintf(name, sizeof name, "decoder.up_blocks.%d.resnets.%d", i, j);
            VD_TRY(visit_res(&wk, name, &u->res[j], err));
        }
        if (u->up.mode == VD_VAE_UP_3D) {
            snprintf(name, sizeof name, "decoder.up_blocks.%d.upsamplers.0.time_conv", i);
            VD_TRY(visit_conv(&wk, name, &u->up.time_conv, false, err));
        }
        if (u->up.mode != VD_VAE_UP_NONE) {
            snprintf(name, sizeof name, "decoder.up_blocks.%d.upsamplers.0.resample.1", i);
            VD_TRY(visit_conv(&wk, name, &u->up.conv, true, err));
        }
    }
    VD_TRY(visit_norm(&wk, "decoder.norm_out", &v->norm_out, false, err));
    return visit_conv(&wk, "decoder.conv_out", &v->conv_out, false, err);
}

// ---- storage -------------------------------------------------------------------------------

static int64_t numel(int ndim, const int64_t *shape) {
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) n *= shape[i];
    return n;
}

static vd_status count_param(void *user, const char *name, float *data, int ndim, const int64_t *shape, vd_error *err) {
    *(int64_t *)user += numel(ndim, shape);
    return VD_OK;
}

// The walk hands out data pointers by value, so storage is assigned on the structs directly in a
// second pass that mirrors the walk order (same order, same sizes).
static float *take(float **cursor, int64_t n) {
    float *p = *cursor;
    *cursor += n;
    return p;
}
static void assign_conv(vd_vae_conv *c, float **cur) {
    c->w = take(cur, (int64_t)c->cout * c->cin * c->kt * c->kh * c->kw);
    c->b = take(cur, c->cout);
}
static void assign_norm(vd_vae_norm *n, float **cur) { n->gamma = take(cur, n->c); }
static void assign_res(vd_vae_resblock *r, float **cur) {
    assign_norm(&r->norm1, cur);
    assign_conv(&r->conv1, cur);
    assign_norm(&r->norm2, cur);
    assign_conv(&r->conv2, cur);
    if (r->has_shortcut) assign_conv(&r->shortcut, cur);
}

vd_status vd_vae_build(vd_vae *v, const vd_vae_config *cfg, vd_error *err) {
    memset(v, 0, sizeof *v);
    v->cfg = *cfg;
    build_layers(v);
    int64_t n = 0;
    VD_TRY(vd_vae_for_each_param(v, count_param, &n, err));
    v->storage = vd_host_alloc((size_t)n * sizeof(float));
    if (!v->storage)
        return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "vae_build: cannot allocate %lld weight floats", (long long)n);
    v->n_floats = n;
    float *cur = v->storage;
    assign_conv(&v->post_quant, &cur);
    assign_conv(&v->conv_in, &cur);
    assign_res(&v->mid_res[0], &cur);
    assign_norm(&v->mid_attn.norm, &cur);
    assign_conv(&v->mid_attn.to_qkv, &cur);
    assign_conv(&v->mid_attn.proj, &cur);
    assign_res(&v->mid_res[1], &cur);
    for (int i = 0; i < cfg->n_mult; i++) {
        vd_vae_upblock *u = &v->up[i];
        for (int j = 0; j < u->n_res; j++) assign_res(&u->res[j], &cur);
        if (u->up.mode == VD_VAE_UP_3D) assign_conv(&u->up.time_conv, &cur);
        if (u->up.mode != VD_VAE_UP_NONE) assign_conv(&u->up.conv, &cur);
    }
    assign_norm(&v->norm_out, &cur);
    assign_conv(&v->conv_out, &cur);
    VD_ASSERT(cur == v->storage + n);
    return VD_OK;
}

// ---- loading -------------------------------------------------------------------------------

// Residual block sub-names, diffusers -> original Wan (WanVAE .pth / ComfyUI wan_2.1_vae).
static bool orig_res_name(const char *rest, char *out, size_t cap) {
    static const char *map[][2] = {{"norm1.", "residual.0."}, {"conv1.", "residual.2."}, {"norm2.", "residual.3."},
                                   {"conv2.", "residual.6."}, {"conv_shortcut.", "shortcut."}};
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        size_t n = strlen(map[i][0]);
        if (!strncmp(rest, map[i][0], n)) {
            snprintf(out, cap, "%s%s", map[i][1], rest + n);
            return true;
        }
    }
    return false;
}

// The original checkpoint's key for a diffusers decoder key (map of diffusers'
// convert_wan_to_diffusers.py, reversed); false when there is none.
bool vd_vae_orig_name(const vd_vae *v, const char *name, char *out, size_t cap) {
    char sub[200];
    int i, j, used = 0;
    if (!strncmp(name, "post_quant_conv.", 16)) return snprintf(out, cap, "conv2.%s", name + 16) > 0;
    if (!strncmp(name, "decoder.conv_in.", 16)) return snprintf(out, cap, "decoder.conv1.%s", name + 16) > 0;
    if (!strcmp(name, "decoder.norm_out.gamma")) return snprintf(out, cap, "decoder.head.0.gamma") > 0;
    if (!strncmp(name, "decoder.conv_out.", 17)) return snprintf(out, cap, "decoder.head.2.%s", name + 17) > 0;
    if (!strncmp(name, "decoder.mid_block.attentions.0.", 31))
        return snprintf(out, cap, "decoder.middle.1.%s", name + 31) > 0;
    if (sscanf(name, "decoder.mid_block.resnets.%d.%n", &i, &used) == 1 && used > 0) {
        if (!orig_res_name(name + used, sub, sizeof sub)) return false;
        return snprintf(out, cap, "decoder.middle.%d.%s", i == 0 ? 0 : 2, sub) > 0;
    }
    const int per = v->cfg.num_res_blocks + 2; // resnets + upsampler per up block in the flat list
    if (sscanf(name, "decoder.up_blocks.%d.resnets.%d.%n", &i, &j, &used) == 2 && used > 0) {
        if (!orig_res_name(name + used, sub, sizeof sub)) return false;
        return snprintf(out, cap, "decoder.upsamples.%d.%s", i * per + j, sub) > 0;
    }
    if (sscanf(name, "decoder.up_blocks.%d.upsamplers.0.%n", &i, &used) == 1 && used > 0)
        return snprintf(out, cap, "decoder.upsamples.%d.%s", i * per + per - 1, name + used) > 0;
    return false;
}

typedef struct {
    const vd_vae *v;
    const vd_st_set *set;
} load_ctx;

static vd_status load_param(void *user, const char *name, float *data, int ndim, const int64_t *shape, vd_error *err) {
    const load_ctx *lc = user;
    const vd_st_set *set = lc->set;
    const vd_st_tensor *t = vd_st_set_find(set, name);
    char alt[256];
    if (!t && vd_vae_orig_name(lc->v, name, alt, sizeof alt)) t = vd_st_set_find(set, alt);
    if (!t)
        return vd_error_set(err, VD_ERR_FORMAT,
                            "vae_load: tensor '%s' missing from the weights (also tried the original Wan name "
                            "'%s'; is this a Wan2.1 VAE checkpoint? hint: pass the diffusers `vae` folder or the "
                            "original Wan2.1_VAE safetensors file)",
                            name, vd_vae_orig_name(lc->v, name, alt, sizeof alt) ? alt : "-");
    vd_status st = vd_st_read_f32(t, data, ndim, shape, err);
    if (st != VD_OK) vd_error_prefix(err, "vae_load: '%s' (config and weights disagree?)", name);
    return st;
}

vd_status vd_vae_load_weights(vd_vae **out, const vd_vae_config *cfg, const char *weights_path, vd_error *err) {
    *out = NULL;
    vd_vae *v = calloc(1, sizeof *v);
    if (!v) return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "vae_load: out of memory");
    vd_st_set *set = NULL;
    vd_status st = vd_vae_build(v, cfg, err);
    if (st != VD_OK) goto fail;
    st = vd_st_set_open(&set, weights_path, err);
    if (st != VD_OK) goto fail;
    load_ctx lc = {v, set};
    st = vd_vae_for_each_param(v, load_param, &lc, err);
    vd_st_set_close(set);
    if (st != VD_OK) goto fail;
    *out = v;
    return VD_OK;
fail:
    vd_vae_free(v);
    return st;
}

vd_status vd_vae_load(vd_vae **out, const char *dir, vd_error *err) {
    char path[4096];
    // A single .safetensors file (original Wan2.1 VAE, or diffusers weights without config.json
    // next to them): the Wan2.1 config is assumed.
    size_t n = strlen(dir);
    if (n > 12 && !strcmp(dir + n - 12, ".safetensors")) {
        vd_vae_config cfg;
        vd_vae_config_wan21(&cfg);
        return vd_vae_load_weights(out, &cfg, dir, err);
    }
    snprintf(path, sizeof path, "%s/config.json", dir);
    vd_vae_config cfg;
    VD_TRY(vd_vae_config_load(&cfg, path, err));
    return vd_vae_load_weights(out, &cfg, dir, err);
}

// Random init: conv weights uniform in +-1/sqrt(fan_in) (torch's default Conv init bound for
// a = sqrt(5)), biases in the same range, gammas 1 + small noise.
static vd_status rand_param(void *user, const char *name, float *data, int ndim, const int64_t *shape, vd_error *err) {
    uint64_t *state = user;
    int64_t n = numel(ndim, shape);
    bool gamma = strstr(name, ".gamma") != NULL;
    bool bias = strstr(name, ".bias") != NULL;
    double fan_in = 1.0;
    if (!gamma && !bias)
        for (int i = 1; i < ndim; i++) fan_in *= (double)shape[i];
    double bound = gamma ? 0.05 : bias ? 0.02 : 1.0 / sqrt(fan_in);
    for (int64_t i = 0; i < n; i++) {
        // splitmix64: deterministic, independent of thread count
        uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        z ^= z >> 31;
        double u = (double)(z >> 11) * (1.0 / 9007199254740992.0) * 2.0 - 1.0;
        data[i] = (float)((gamma ? 1.0 : 0.0) + bound * u);
    }
    return VD_OK;
}

vd_status vd_vae_init_random(vd_vae **out, const vd_vae_config *cfg, uint64_t seed, vd_error *err) {
    *out = NULL;
    vd_vae *v = calloc(1, sizeof *v);
    if (!v) return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "vae_init_random: out of memory");
    vd_status st = vd_vae_build(v, cfg, err);
    if (st == VD_OK) st = vd_vae_for_each_param(v, rand_param, &seed, err);
    if (st != VD_OK) {
        vd_vae_free(v);
        return st;
    }
    *out = v;
    return VD_OK;
}

void vd_vae_free(vd_vae *v) {
    if (!v) return;
    vd_vae_cuda_release(v);
    vd_host_free(v->storage);
    free(v);
}

const vd_vae_config *vd_vae_get_config(const vd_vae *v) { return &v->cfg; }
int64_t vd_vae_n_params(const vd_vae *v) { return v->n_floats; }

int64_t vd_vae_chunk_out_frames(const vd_vae_config *cfg, int64_t frames_before, int64_t t) {
    int n3d = vd_vae_n_up3d(cfg);
    if (frames_before > 0) return t << n3d;
    return 1 + ((t - 1) << n3d);
}
