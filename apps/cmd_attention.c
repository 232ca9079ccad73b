// `vdit attention`: the attention methods of this build.
//   vdit attention list                                  every method, its parameters and defaults
//   vdit attention config <method> [--preset FILE] [key=value ...]   the effective config
//   vdit attention radial-mask F TOKENS_PER_FRAME [key=value ...]    radial tile-mask density
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apps/commands.h"
#include "attention/attention.h"
#include "attention/radial.h"

static const char *type_name(vd_attn_param_type t) {
    switch (t) {
    case VD_ATTN_PARAM_INT: return "int";
    case VD_ATTN_PARAM_FLOAT: return "float";
    case VD_ATTN_PARAM_BOOL: return "bool";
    case VD_ATTN_PARAM_ENUM: return "enum";
    case VD_ATTN_PARAM_STRING: return "string";
    }
    return "?";
}

static void usage(FILE *f) {
    fprintf(f, "usage: vdit attention list\n"
               "       vdit attention config <method> [--preset FILE] [key=value ...]\n"
               "       vdit attention radial-mask F TOKENS_PER_FRAME [key=value ...]\n");
}

static int cmd_list(void) {
    for (int i = 0; i < vd_attn_method_count(); i++) {
        const vd_attn_method *m = vd_attn_method_at(i);
        printf("%s%s: %s\n", i ? "\n" : "", m->name, m->summary);
        printf("  cuda: %s; preset: configs/attention/%s.json\n", m->run_cuda ? "yes" : "no", m->name);
        if (!m->n_params) {
            printf("  (no parameters)\n");
            continue;
        }
        void *cfg = calloc(1, m->cfg_size);
        if (!cfg) return 1;
        if (m->cfg_init) m->cfg_init(cfg);
        printf("  %-14s %-6s %-9s %-16s %s\n", "parameter", "type", "default", "allowed", "meaning");
        for (int p = 0; p < m->n_params; p++) {
            const vd_attn_param_desc *d = &m->params[p];
            char def[64], allowed[128] = "";
            vd_attn_param_format(d, cfg, def, sizeof def);
            if (d->type == VD_ATTN_PARAM_ENUM) {
                for (int c = 0; d->choices[c]; c++) {
                    strncat(allowed, c ? "|" : "", sizeof allowed - strlen(allowed) - 1);
                    strncat(allowed, d->choices[c], sizeof allowed - strlen(allowed) - 1);
                }
            } else if (d->type == VD_ATTN_PARAM_BOOL) {
                snprintf(allowed, sizeof allowed, "true|false");
            } else if (d->type == VD_ATTN_PARAM_STRING) {
                snprintf(allowed, sizeof allowed, "text");
            } else {
                snprintf(allowed, sizeof allowed, "[%g, %g]", d->min, d->max);
            }
            printf("  %-14s %-6s %-9s %-16s %s\n", d->name, type_name(d->type), def, allowed, d->help);
        }
        free(cfg);
    }
    return 0;
}

// Applies --preset FILE and key=value arguments to a; returns 0, or 2 (usage) / 1 (error).
static int apply_args(vd_attn *a, int argc, char **argv) {
    vd_error err = {0};
    for (int i = 0; i < argc; i++) {
        vd_status st;
        if (!strcmp(argv[i], "--preset")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "vdit attention: --preset needs a file\n");
                return 2;
            }
            st = vd_attn_load_preset(a, argv[++i], &err);
        } else {
            st = vd_attn_set(a, argv[i], &err);
        }
        if (st != VD_OK) {
            fprintf(stderr, "vdit attention: %s\n", err.msg);
            return st == VD_ERR_INVALID_ARG ? 2 : 1;
        }
    }
    return 0;
}

static int cmd_config(int argc, char **argv) {
    if (argc < 1) {
        usage(stderr);
        return 2;
    }
    vd_error err = {0};
    vd_attn *a = NULL;
    if (vd_attn_create(&a, argv[0], &err) != VD_OK) {
        fprintf(stderr, "vdit attention: %s\n", err.msg);
        return 2;
    }
    int rc = apply_args(a, argc - 1, argv + 1);
    if (!rc) vd_attn_print_config(a, stdout);
    vd_attn_free(a);
    return rc;
}

static int cmd_radial_mask(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    char *end1, *end2;
    long F = strtol(argv[0], &end1, 10), s = strtol(argv[1], &end2, 10);
    if (*end1 || *end2 || F < 1 || F > 4096 || s < 1 || s > 1 << 20) {
        fprintf(stderr, "vdit attention radial-mask: F='%s' (1..4096) and TOKENS_PER_FRAME='%s' (1..1048576)\n", argv[0], argv[1]);
        return 2;
    }
    vd_error err = {0};
    vd_attn *a = NULL;
    if (vd_attn_create(&a, "radial", &err) != VD_OK) {
        fprintf(stderr, "vdit attention: %s\n", err.msg);
        return 1;
    }
    int rc = apply_args(a, argc - 2, argv + 2);
    if (!rc) {
        const vd_radial_cfg *c = vd_attn_get_cfg(a);
        const long long T = ((long long)F * s + c->tile - 1) / c->tile;
        double d = vd_radial_density((int)F, (int)s, c);
        printf("radial mask: F=%ld s=%ld N=%lld tile=%d -> %lld x %lld tiles, density %.4f (sparsity %.4f)\n", F, s,
               (long long)F * s, c->tile, T, T, d, 1 - d);
    }
    vd_attn_free(a);
    return rc;
}

int cmd_attention(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "list")) return cmd_list();
    if (!strcmp(argv[1], "config")) return cmd_config(argc - 2, argv + 2);
    if (!strcmp(argv[1], "radial-mask")) return cmd_radial_mask(argc - 2, argv + 2);
    fprintf(stderr, "vdit attention: unknown subcommand '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
