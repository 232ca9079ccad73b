// The registry of attention methods. Adding a method = its two files + one line below.
#include <stdlib.h>
#include <string.h>

#include "attention/attention.h"
#include "attention/radial.h"
#include "lib/log.h"

static const vd_attn_method *const k_methods[] = {
    &vd_attn_method_dense,
    &vd_attn_method_radial,
};

int vd_attn_method_count(void) { return (int)(sizeof k_methods / sizeof k_methods[0]); }

const vd_attn_method *vd_attn_method_at(int i) {
    return (i >= 0 && i < vd_attn_method_count()) ? k_methods[i] : NULL;
}

const vd_attn_method *vd_attn_method_find(const char *name) {
    for (int i = 0; i < vd_attn_method_count(); i++)
        if (!strcmp(k_methods[i]->name, name)) return k_methods[i];
    return NULL;
}

vd_status vd_attn_select(const char *name, const vd_attn_params *p, const vd_attn_ctx *c,
                         const vd_attn_method **out, vd_error *err) {
    static int logged_auto = 0;
    *out = NULL;
    if (!strcmp(name, "auto")) {
        if (!logged_auto) {
            VD_LOGI("attention: --attention auto uses 'dense'");
            logged_auto = 1;
        }
        name = "dense";
    }
    const vd_attn_method *m = vd_attn_method_find(name);
    if (!m) {
        char list[256] = "";
        for (int i = 0; i < vd_attn_method_count(); i++) {
            strncat(list, i ? ", " : "", sizeof list - strlen(list) - 1);
            strncat(list, k_methods[i]->name, sizeof list - strlen(list) - 1);
        }
        return vd_error_set(err, VD_ERR_INVALID_ARG, "attention: unknown method '%s' (known: %s, auto)", name, list);
    }
    if (p && c) {   // support check under the method's default config
        void *cfg = m->cfg_size ? calloc(1, m->cfg_size) : NULL;
        if (m->cfg_size && !cfg) return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "attention: config of '%s'", m->name);
        if (cfg && m->cfg_init) m->cfg_init(cfg);
        vd_status st = m->check(cfg, p, c, err);
        free(cfg);
        if (st != VD_OK) return st;
    }
    if (p && p->device == VD_DEVICE_CUDA && !m->run_cuda)
        return vd_error_set(err, VD_ERR_UNSUPPORTED, "attention: method '%s' has no CUDA path", m->name);
    *out = m;
    return VD_OK;
}
