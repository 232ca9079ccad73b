// vdit info --model DIR: the detected architecture, key layout, parameter count, dtypes, and the
// GPU memory the CUDA forward would plan (weights + activations at the released shapes).
#include <stdio.h>
#include <string.h>

#include "apps/commands.h"
#include "dit/wan_dit_cuda.h"
#include "dit/wan_weights.h"
#include "lib/safetensors.h"

static void info_usage(FILE *f) {
    fprintf(f, "usage: vdit info --model DIR | --preset 1.3B|14B\n"
               "  --model DIR   Wan2.1 transformer directory (config.json + safetensors or index) or one .safetensors file\n"
               "  --preset NAME a released config without weights: architecture, parameter count, GPU memory plan\n");
}

static void print_plan(const vd_wan_config *c) {
    // GPU plan at the two benchmark shapes (1.3B: 480x832x81; 14B: 720x1280x81).
    const int64_t shapes[2] = {32760, 75600};
    for (int i = 0; i < 2; i++) {
        vd_wan_cuda_plan p;
        vd_wan_cuda_plan_for(c, shapes[i], 512, &p);
        printf("cuda plan:   %lld tokens, 512 text rows: weights %.2f GB + activations %.2f GB\n", (long long)shapes[i],
               p.weight_bytes / 1e9, p.arena_bytes / 1e9);
    }
}

static int run_preset(const char *name) {
    vd_wan_config c;
    vd_error err = {0};
    if (vd_wan_config_preset(&c, name, &err)) {
        fprintf(stderr, "vdit info: %s\n", err.msg);
        return 2;
    }
    char desc[512];
    vd_wan_config_describe(&c, desc, sizeof desc);
    printf("preset:      %s\narch:        %s\nparameters:  %lld (%.3f B)\n", name, desc, (long long)vd_wan_config_param_count(&c),
           vd_wan_config_param_count(&c) / 1e9);
    print_plan(&c);
    return 0;
}

static vd_status run_info(const char *path, vd_error *err) {
    vd_wan_model_files m;
    if (vd_wan_model_open(&m, path, err)) return vd_error_prefix(err, "vdit info: model '%s'", path);
    vd_status s = vd_wan_model_check(&m, err);
    if (s) {
        vd_wan_model_close(&m);
        return vd_error_prefix(err, "vdit info: model '%s'", path);
    }
    const vd_wan_config *c = &m.config;
    char desc[512];
    vd_wan_config_describe(c, desc, sizeof desc);
    printf("model:       %s\n", path);
    printf("arch:        %s\n", desc);
    printf("layout:      %s%s%s%s\n", vd_wan_layout_name(m.layout), m.prefix[0] ? " (prefix '" : "", m.prefix,
           m.prefix[0] ? "')" : "");
    printf("config.json: %s\n", m.have_config_json ? "read" : "none (sizes from the weights; head_dim 128 assumed)");
    // Parameter count and dtypes from the file itself.
    int64_t params = 0;
    int64_t per_dtype[VD_DTYPE_COUNT] = {0};
    size_t n = vd_st_set_count(m.set);
    for (size_t i = 0; i < n; i++) {
        const vd_st_tensor *t = vd_st_set_at(m.set, i);
        int64_t e = 1;
        for (int d = 0; d < t->ndim; d++) e *= t->shape[d];
        params += e;
        per_dtype[t->dtype] += e;
    }
    printf("tensors:     %zu\n", n);
    printf("parameters:  %lld (%.3f B; config formula %lld)\n", (long long)params, (double)params / 1e9,
           (long long)vd_wan_config_param_count(c));
    printf("dtypes:     ");
    for (int d = 0; d < VD_DTYPE_COUNT; d++)
        if (per_dtype[d]) printf(" %s %lld", vd_dtype_name((vd_dtype)d), (long long)per_dtype[d]);
    printf("\n");
    print_plan(c);
    vd_wan_model_close(&m);
    return VD_OK;
}

int cmd_info(int argc, char **argv) {
    const char *model = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            info_usage(stdout);
            return 0;
        }
        if (!strcmp(argv[i], "--model") && i + 1 < argc) {
            model = argv[++i];
        } else if (!strcmp(argv[i], "--preset") && i + 1 < argc) {
            return run_preset(argv[i + 1]);
        } else {
            fprintf(stderr, "vdit info: unknown option or missing value '%s'\n\n", argv[i]);
            info_usage(stderr);
            return 2;
        }
    }
    if (!model) {
        fprintf(stderr, "vdit info: --model or --preset is required\n\n");
        info_usage(stderr);
        return 2;
    }
    vd_error err = {0};
    if (run_info(model, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    return 0;
}
