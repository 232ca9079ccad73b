// Wan2.1 DiT weights: name tables for both layouts, layout and config detection, checks, CPU load.
#include "dit/wan_weights.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/path.h"

const char *vd_wan_layout_name(vd_wan_layout l) {
    return l == VD_WAN_LAYOUT_DIFFUSERS ? "diffusers" : l == VD_WAN_LAYOUT_ORIG ? "orig" : "?";
}

// Per-block names (after "blocks.N."), indexed by vd_wan_block_tensor: {diffusers, orig}.
static const char *k_block_names[VD_WAN_BLOCK_COUNT][2] = {
    {"scale_shift_table", "modulation"},
    {"attn1.to_q.weight", "self_attn.q.weight"},       {"attn1.to_q.bias", "self_attn.q.bias"},
    {"attn1.to_k.weight", "self_attn.k.weight"},       {"attn1.to_k.bias", "self_attn.k.bias"},
    {"attn1.to_v.weight", "self_attn.v.weight"},       {"attn1.to_v.bias", "self_attn.v.bias"},
    {"attn1.to_out.0.weight", "self_attn.o.weight"},   {"attn1.to_out.0.bias", "self_attn.o.bias"},
    {"attn1.norm_q.weight", "self_attn.norm_q.weight"}, {"attn1.norm_k.weight", "self_attn.norm_k.weight"},
    {"norm2.weight", "norm3.weight"},                  {"norm2.bias", "norm3.bias"},
    {"attn2.to_q.weight", "cross_attn.q.weight"},      {"attn2.to_q.bias", "cross_attn.q.bias"},
    {"attn2.to_k.weight", "cross_attn.k.weight"},      {"attn2.to_k.bias", "cross_attn.k.bias"},
    {"attn2.to_v.weight", "cross_attn.v.weight"},      {"attn2.to_v.bias", "cross_attn.v.bias"},
    {"attn2.to_out.0.weight", "cross_attn.o.weight"},  {"attn2.to_out.0.bias", "cross_attn.o.bias"},
    {"attn2.norm_q.weight", "cross_attn.norm_q.weight"}, {"attn2.norm_k.weight", "cross_attn.norm_k.weight"},
    {"ffn.net.0.proj.weight", "ffn.0.weight"},         {"ffn.net.0.proj.bias", "ffn.0.bias"},
    {"ffn.net.2.weight", "ffn.2.weight"},              {"ffn.net.2.bias", "ffn.2.bias"},
};

static const char *k_top_names[VD_WAN_TOP_COUNT][2] = {
    {"patch_embedding.weight", "patch_embedding.weight"},
    {"patch_embedding.bias", "patch_embedding.bias"},
    {"condition_embedder.text_embedder.linear_1.weight", "text_embedding.0.weight"},
    {"condition_embedder.text_embedder.linear_1.bias", "text_embedding.0.bias"},
    {"condition_embedder.text_embedder.linear_2.weight", "text_embedding.2.weight"},
    {"condition_embedder.text_embedder.linear_2.bias", "text_embedding.2.bias"},
    {"condition_embedder.time_embedder.linear_1.weight", "time_embedding.0.weight"},
    {"condition_embedder.time_embedder.linear_1.bias", "time_embedding.0.bias"},
    {"condition_embedder.time_embedder.linear_2.weight", "time_embedding.2.weight"},
    {"condition_embedder.time_embedder.linear_2.bias", "time_embedding.2.bias"},
    {"condition_embedder.time_proj.weight", "time_projection.1.weight"},
    {"condition_embedder.time_proj.bias", "time_projection.1.bias"},
    {"proj_out.weight", "head.head.weight"},
    {"proj_out.bias", "head.head.bias"},
    {"scale_shift_table", "head.modulation"},
};

static void set_shape(vd_wan_tensor_spec *s, int ndim, int64_t a, int64_t b, int64_t c, int64_t d, int64_t e) {
    int64_t v[5] = {a, b, c, d, e};
    s->ndim = ndim;
    for (int i = 0; i < 5; i++) s->shape[i] = i < ndim ? v[i] : 0;
}

static bool block_role_present(const vd_wan_config *c, int role) {
    return c->cross_attn_norm || (role != VD_WAN_B_CN_W && role != VD_WAN_B_CN_B);
}

int vd_wan_spec_count(const vd_wan_config *c) {
    int per = 0;
    for (int r = 0; r < VD_WAN_BLOCK_COUNT; r++) per += block_role_present(c, r);
    return VD_WAN_TOP_COUNT + c->n_layers * per;
}

static void top_shape(const vd_wan_config *c, int role, vd_wan_tensor_spec *s) {
    int64_t C = c->dim, P = (int64_t)c->patch[0] * c->patch[1] * c->patch[2];
    s->gemm = false;
    switch (role) {
    case VD_WAN_PATCH_W: set_shape(s, 5, C, c->in_channels, c->patch[0], c->patch[1], c->patch[2]); s->gemm = true; break;
    case VD_WAN_TEXT1_W: set_shape(s, 2, C, c->text_dim, 0, 0, 0); s->gemm = true; break;
    case VD_WAN_TEXT2_W: case VD_WAN_TIME2_W: set_shape(s, 2, C, C, 0, 0, 0); s->gemm = true; break;
    case VD_WAN_TIME1_W: set_shape(s, 2, C, c->freq_dim, 0, 0, 0); s->gemm = true; break;
    case VD_WAN_TPROJ_W: set_shape(s, 2, 6 * C, C, 0, 0, 0); s->gemm = true; break;
    case VD_WAN_TPROJ_B: set_shape(s, 1, 6 * C, 0, 0, 0, 0); break;
    case VD_WAN_HEAD_W: set_shape(s, 2, c->out_channels * P, C, 0, 0, 0); s->gemm = true; break;
    case VD_WAN_HEAD_B: set_shape(s, 1, c->out_channels * P, 0, 0, 0, 0); break;
    case VD_WAN_HEAD_MOD: set_shape(s, 3, 1, 2, C, 0, 0); break;
    default: set_shape(s, 1, C, 0, 0, 0, 0); break; // the remaining biases are [C]
    }
}

static void block_shape(const vd_wan_config *c, int role, vd_wan_tensor_spec *s) {
    int64_t C = c->dim, F = c->ffn_dim;
    s->gemm = false;
    switch (role) {
    case VD_WAN_B_MOD: set_shape(s, 3, 1, 6, C, 0, 0); break;
    case VD_WAN_B_SA_QW: case VD_WAN_B_SA_KW: case VD_WAN_B_SA_VW: case VD_WAN_B_SA_OW:
    case VD_WAN_B_CA_QW: case VD_WAN_B_CA_KW: case VD_WAN_B_CA_VW: case VD_WAN_B_CA_OW:
        set_shape(s, 2, C, C, 0, 0, 0); s->gemm = true; break;
    case VD_WAN_B_FF1_W: set_shape(s, 2, F, C, 0, 0, 0); s->gemm = true; break;
    case VD_WAN_B_FF1_B: set_shape(s, 1, F, 0, 0, 0, 0); break;
    case VD_WAN_B_FF2_W: set_shape(s, 2, C, F, 0, 0, 0); s->gemm = true; break;
    default: set_shape(s, 1, C, 0, 0, 0, 0); break;
    }
}

void vd_wan_spec_fill(const vd_wan_config *c, vd_wan_layout layout, vd_wan_tensor_spec *specs) {
    int n = 0, li = layout == VD_WAN_LAYOUT_ORIG;
    for (int r = 0; r < VD_WAN_TOP_COUNT; r++, n++) {
        vd_wan_tensor_spec *s = &specs[n];
        snprintf(s->name, sizeof s->name, "%s", k_top_names[r][li]);
        s->block = -1;
        s->role = r;
        top_shape(c, r, s);
    }
    for (int b = 0; b < c->n_layers; b++)
        for (int r = 0; r < VD_WAN_BLOCK_COUNT; r++) {
            if (!block_role_present(c, r)) continue;
            vd_wan_tensor_spec *s = &specs[n++];
            snprintf(s->name, sizeof s->name, "blocks.%d.%s", b, k_block_names[r][li]);
            s->block = b;
            s->role = r;
            block_shape(c, r, s);
        }
}

const vd_st_tensor *vd_wan_find(const vd_st_set *set, const char *prefix, const char *name) {
    char full[256];
    snprintf(full, sizeof full, "%s%s", prefix ? prefix : "", name);
    return vd_st_set_find(set, full);
}

vd_status vd_wan_detect_layout(const vd_st_set *set, vd_wan_layout *layout, const char **prefix, vd_error *err) {
    static const char *prefixes[] = {"", "model.diffusion_model."};
    for (int p = 0; p < 2; p++) {
        const char *pre = prefixes[p];
        if (vd_wan_find(set, pre, "condition_embedder.time_embedder.linear_1.weight") ||
            vd_wan_find(set, pre, "blocks.0.attn1.to_q.weight")) {
            *layout = VD_WAN_LAYOUT_DIFFUSERS;
            *prefix = pre;
            return VD_OK;
        }
        if (vd_wan_find(set, pre, "time_embedding.0.weight") || vd_wan_find(set, pre, "blocks.0.self_attn.q.weight")) {
            *layout = VD_WAN_LAYOUT_ORIG;
            *prefix = pre;
            return VD_OK;
        }
    }
    size_t n = vd_st_set_count(set);
    char names[300] = "";
    for (size_t i = 0; i < n && i < 3; i++) {
        size_t len = strlen(names);
        snprintf(names + len, sizeof names - len, "%s'%s'", i ? ", " : "", vd_st_set_at(set, i)->name);
    }
    return vd_error_set(err, VD_ERR_FORMAT,
                        "vd_wan_detect_layout: unknown key layout: found neither diffusers "
                        "('condition_embedder.time_embedder.linear_1.weight', 'blocks.0.attn1.to_q.weight') nor original Wan "
                        "('time_embedding.0.weight', 'blocks.0.self_attn.q.weight') keys among %zu tensors (first: %s); "
                        "hint: is this a Wan2.1 DiT checkpoint?",
                        n, n ? names : "none");
}

static void shape_str(char *buf, size_t cap, int ndim, const int64_t *shape) {
    size_t len = 0;
    len += (size_t)snprintf(buf + len, cap - len, "[");
    for (int i = 0; i < ndim && len < cap; i++)
        len += (size_t)snprintf(buf + len, cap - len, "%s%lld", i ? ", " : "", (long long)shape[i]);
    if (len < cap) snprintf(buf + len, cap - len, "]");
}

// Sets *field from a dim of a tensor, or checks it against the value already there.
static vd_status take_dim(int *field, int64_t found, const char *what, const vd_st_tensor *t, int axis, vd_error *err) {
    if (*field == 0) {
        *field = (int)found;
        return VD_OK;
    }
    if (*field == found) return VD_OK;
    char s[96];
    shape_str(s, sizeof s, t->ndim, t->shape);
    return vd_error_set(err, VD_ERR_INVALID_ARG,
                        "vd_wan_config_from_weights: config and weights disagree: config %s = %d, but tensor '%s' has shape %s "
                        "(dim %d = %lld)",
                        what, *field, t->name, s, axis, (long long)found);
}

static const vd_st_tensor *need(const vd_st_set *set, const char *prefix, const char *name, int ndim, vd_error *err) {
    const vd_st_tensor *t = vd_wan_find(set, prefix, name);
    if (!t) {
        vd_error_set(err, VD_ERR_FORMAT, "vd_wan_config_from_weights: missing tensor '%s%s'", prefix, name);
        return NULL;
    }
    if (t->ndim != ndim) {
        char s[96];
        shape_str(s, sizeof s, t->ndim, t->shape);
        vd_error_set(err, VD_ERR_FORMAT, "vd_wan_config_from_weights: tensor '%s' has %d dims %s, expected %d", t->name, t->ndim,
                     s, ndim);
        return NULL;
    }
    return t;
}

vd_status vd_wan_config_from_weights(vd_wan_config *cfg, const vd_st_set *set, vd_wan_layout layout, const char *prefix,
                                     vd_error *err) {
    int li = layout == VD_WAN_LAYOUT_ORIG;
    const vd_st_tensor *t;
    if (!(t = need(set, prefix, k_top_names[VD_WAN_PATCH_W][li], 5, err))) return err ? err->code : VD_ERR_FORMAT;
    VD_TRY(take_dim(&cfg->dim, t->shape[0], "dim (heads x head_dim)", t, 0, err));
    VD_TRY(take_dim(&cfg->in_channels, t->shape[1], "in_channels", t, 1, err));
    for (int i = 0; i < 3; i++) VD_TRY(take_dim(&cfg->patch[i], t->shape[2 + i], "patch_size", t, 2 + i, err));
    if (!(t = need(set, prefix, k_top_names[VD_WAN_TEXT1_W][li], 2, err))) return err ? err->code : VD_ERR_FORMAT;
    VD_TRY(take_dim(&cfg->text_dim, t->shape[1], "text_dim", t, 1, err));
    if (!(t = need(set, prefix, k_top_names[VD_WAN_TIME1_W][li], 2, err))) return err ? err->code : VD_ERR_FORMAT;
    VD_TRY(take_dim(&cfg->freq_dim, t->shape[1], "freq_dim", t, 1, err));
    if (!(t = need(set, prefix, k_top_names[VD_WAN_HEAD_W][li], 2, err))) return err ? err->code : VD_ERR_FORMAT;
    int64_t P = (int64_t)cfg->patch[0] * cfg->patch[1] * cfg->patch[2];
    if (t->shape[0] % P) {
        return vd_error_set(err, VD_ERR_FORMAT, "vd_wan_config_from_weights: tensor '%s' rows %lld not a multiple of patch volume %lld",
                            t->name, (long long)t->shape[0], (long long)P);
    }
    VD_TRY(take_dim(&cfg->out_channels, t->shape[0] / P, "out_channels x patch volume", t, 0, err));
    char name[96];
    snprintf(name, sizeof name, "blocks.0.%s", k_block_names[VD_WAN_B_FF1_W][li]);
    if (!(t = need(set, prefix, name, 2, err))) return err ? err->code : VD_ERR_FORMAT;
    VD_TRY(take_dim(&cfg->ffn_dim, t->shape[0], "ffn_dim", t, 0, err));
    // Layers: the count of consecutive blocks.N present.
    int layers = 0;
    for (;; layers++) {
        snprintf(name, sizeof name, "blocks.%d.%s", layers, k_block_names[VD_WAN_B_SA_QW][li]);
        if (!vd_wan_find(set, prefix, name)) break;
    }
    if (cfg->n_layers == 0) cfg->n_layers = layers;
    else if (cfg->n_layers != layers)
        return vd_error_set(err, VD_ERR_INVALID_ARG,
                            "vd_wan_config_from_weights: config num_layers = %d, but the weights hold %d blocks (blocks.0 .. blocks.%d)",
                            cfg->n_layers, layers, layers - 1);
    snprintf(name, sizeof name, "blocks.0.%s", k_block_names[VD_WAN_B_CN_W][li]);
    bool has_cn = vd_wan_find(set, prefix, name) != NULL;
    if (cfg->cross_attn_norm != has_cn)
        return vd_error_set(err, VD_ERR_INVALID_ARG, "vd_wan_config_from_weights: config cross_attn_norm = %s, but tensor '%s%s' is %s",
                            cfg->cross_attn_norm ? "true" : "false", prefix, name, has_cn ? "present" : "missing");
    if (cfg->n_heads == 0) {
        if (cfg->head_dim == 0) cfg->head_dim = 128;
        if (cfg->dim % cfg->head_dim)
            return vd_error_set(err, VD_ERR_INVALID_ARG,
                                "vd_wan_config_from_weights: no config.json and dim %d is not a multiple of head_dim %d; "
                                "hint: put the model's config.json next to the weights",
                                cfg->dim, cfg->head_dim);
        cfg->n_heads = cfg->dim / cfg->head_dim;
    } else if (cfg->head_dim == 0) {
        cfg->head_dim = cfg->dim / cfg->n_heads;
    }
    return VD_OK;
}

vd_status vd_wan_model_open(vd_wan_model_files *m, const char *path, vd_error *err) {
    memset(m, 0, sizeof *m);
    vd_wan_config_init(&m->config);
    VD_TRY(vd_st_set_open(&m->set, path, err));
    vd_status s = vd_wan_detect_layout(m->set, &m->layout, &m->prefix, err);
    if (s) goto fail;
    // config.json: inside the directory, or next to the file.
    char cfg_path[4096];
    if (vd_is_dir(path)) {
        snprintf(cfg_path, sizeof cfg_path, "%s/config.json", path);
    } else {
        const char *slash = strrchr(path, '/');
        int dl = slash ? (int)(slash - path) : 1;
        snprintf(cfg_path, sizeof cfg_path, "%.*s/config.json", dl, slash ? path : ".");
    }
    if (vd_is_file(cfg_path)) {
        m->have_config_json = true;
        if ((s = vd_wan_config_load_json(&m->config, cfg_path, err))) goto fail;
    }
    if ((s = vd_wan_config_from_weights(&m->config, m->set, m->layout, m->prefix, err))) goto fail;
    if ((s = vd_wan_config_validate(&m->config, err))) goto fail;
    return VD_OK;
fail:
    vd_wan_model_close(m);
    return s;
}

void vd_wan_model_close(vd_wan_model_files *m) {
    if (m->set) vd_st_set_close(m->set);
    m->set = NULL;
}

// Shape check allowing the stored [1, 6, C] / [1, 2, C] tables; fills err with both shapes.
static vd_status check_shape(const vd_wan_tensor_spec *s, const vd_st_tensor *t, vd_error *err) {
    bool ok = t->ndim == s->ndim;
    for (int i = 0; ok && i < s->ndim; i++) ok = t->shape[i] == s->shape[i];
    if (ok) return VD_OK;
    char want[96], got[96];
    shape_str(want, sizeof want, s->ndim, s->shape);
    shape_str(got, sizeof got, t->ndim, t->shape);
    return vd_error_set(err, VD_ERR_FORMAT, "vd_wan_model_check: tensor '%s': expected shape %s, found %s", t->name, want, got);
}

vd_status vd_wan_model_check(const vd_wan_model_files *m, vd_error *err) {
    int n = vd_wan_spec_count(&m->config);
    vd_wan_tensor_spec *specs = calloc((size_t)n, sizeof *specs);
    if (!specs) return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "vd_wan_model_check: %d specs", n);
    vd_wan_spec_fill(&m->config, m->layout, specs);
    vd_status s = VD_OK;
    for (int i = 0; i < n && !s; i++) {
        const vd_st_tensor *t = vd_wan_find(m->set, m->prefix, specs[i].name);
        if (!t)
            s = vd_error_set(err, VD_ERR_FORMAT, "vd_wan_model_check: missing tensor '%s%s' (expected for the %s layout)", m->prefix,
                             specs[i].name, vd_wan_layout_name(m->layout));
        else
            s = check_shape(&specs[i], t, err);
        if (!s && t && t->dtype != VD_F32 && t->dtype != VD_BF16 && t->dtype != VD_F16)
            s = vd_error_set(err, VD_ERR_UNSUPPORTED, "vd_wan_model_check: tensor '%s' has dtype %s (allowed: f32, bf16, f16)", t->name,
                             vd_dtype_name(t->dtype));
    }
    free(specs);
    if (s) return s;
    size_t total = vd_st_set_count(m->set), prefixed = 0;
    size_t plen = strlen(m->prefix);
    for (size_t i = 0; i < total; i++)
        if (!strncmp(vd_st_set_at(m->set, i)->name, m->prefix, plen)) prefixed++;
    if (prefixed != (size_t)n) {
        // Name one tensor the model does not use (an I2V image embedder, a LoRA, an extra block).
        vd_wan_tensor_spec *sp = calloc((size_t)n, sizeof *sp);
        if (!sp) return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "vd_wan_model_check: %d specs", n);
        vd_wan_spec_fill(&m->config, m->layout, sp);
        const char *extra = "?";
        for (size_t i = 0; i < total && extra[0] == '?'; i++) {
            const char *nm = vd_st_set_at(m->set, i)->name;
            if (strncmp(nm, m->prefix, plen)) continue;
            bool known = false;
            for (int j = 0; j < n && !known; j++) known = !strcmp(nm + plen, sp[j].name);
            if (!known) extra = nm;
        }
        vd_status r = vd_error_set(err, VD_ERR_FORMAT,
                                   "vd_wan_model_check: the checkpoint holds %zu tensors but this config uses %d; unexpected tensor '%s' "
                                   "(hint: I2V/FLF2V/VACE variants and LoRA-merged files are not supported)",
                                   prefixed, n, extra);
        free(sp);
        return r;
    }
    return VD_OK;
}

static int64_t spec_numel(const vd_wan_tensor_spec *s) {
    int64_t n = 1;
    for (int i = 0; i < s->ndim; i++) n *= s->shape[i];
    return n;
}

vd_status vd_wan_weights_load_cpu(vd_wan_weights *w, const vd_wan_model_files *m, vd_error *err) {
    memset(w, 0, sizeof *w);
    VD_TRY(vd_wan_model_check(m, err));
    w->config = m->config;
    int n = vd_wan_spec_count(&m->config);
    vd_wan_tensor_spec *specs = calloc((size_t)n, sizeof *specs);
    w->blocks = calloc((size_t)m->config.n_layers, sizeof *w->blocks);
    vd_status s = VD_OK;
    if (!specs || !w->blocks) {
        s = vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "vd_wan_weights_load_cpu: tables for %d tensors", n);
        goto fail;
    }
    vd_wan_spec_fill(&m->config, m->layout, specs);
    int64_t total = 0;
    for (int i = 0; i < n; i++) total += (spec_numel(&specs[i]) + 15) & ~(int64_t)15; // 64-byte aligned slices
    w->storage = vd_host_alloc((size_t)total * sizeof(float));
    if (!w->storage) {
        s = vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "vd_wan_weights_load_cpu: %lld floats (%.2f GB) for the fp32 weights",
                         (long long)total, (double)total * 4 / 1e9);
        goto fail;
    }
    w->n_floats = total;
    float *p = w->storage;
    for (int i = 0; i < n && !s; i++) {
        const vd_wan_tensor_spec *sp = &specs[i];
        const vd_st_tensor *t = vd_wan_find(m->set, m->prefix, sp->name);
        s = vd_st_read_f32(t, p, t->ndim, t->shape, err);
        if (sp->block < 0) w->top[sp->role] = p;
        else w->blocks[sp->block][sp->role] = p;
        p += (spec_numel(sp) + 15) & ~(int64_t)15;
    }
    if (s) goto fail;
    free(specs);
    return VD_OK;
fail:
    free(specs);
    vd_wan_weights_free(w);
    return s;
}

void vd_wan_weights_free(vd_wan_weights *w) {
    vd_host_free(w->storage);
    free(w->blocks);
    w->storage = NULL;
    w->blocks = NULL;
}
