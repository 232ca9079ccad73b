// Frame-sequence name patterns (see png_pattern.h).
#include "codecs/png_pattern.h"

#include <stdio.h>
#include <string.h>

bool vd_png_pattern_is_pattern(const char *path) {
    const char *slash = strrchr(path, '/');
    return strchr(slash ? slash + 1 : path, '%') != NULL;
}

vd_status vd_png_pattern_parse(const char *path, vd_png_pattern *p, vd_error *err) {
    char base[VD_PATH_MAX];
    memset(p, 0, sizeof *p);
    if (!vd_path_split(path, p->dir, sizeof p->dir, base, sizeof base))
        return vd_error_set(err, VD_ERR_INVALID_ARG, "vd_png_pattern_parse: bad sequence pattern '%s'", path);
    int n_conv = 0;
    char *dst = p->prefix;
    size_t cap = sizeof p->prefix, len = 0;
    for (const char *c = base; *c; c++) {
        if (*c == '%') {
            if (c[1] == '%') {
                c++;
            } else {
                const char *q = c + 1;
                int width = 0;
                if (*q == '0') {
                    q++;
                    if (*q < '1' || *q > '9') goto bad;
                    width = *q++ - '0';
                }
                if (*q != 'd' || n_conv) goto bad;
                n_conv++;
                p->width = width;
                c = q;
                dst = p->suffix;
                cap = sizeof p->suffix;
                len = 0;
                continue;
            }
        }
        if (len + 1 >= cap) goto bad;
        dst[len++] = *c;
        dst[len] = 0;
    }
    if (n_conv != 1) goto bad;
    return VD_OK;
bad:
    return vd_error_set(err, VD_ERR_INVALID_ARG,
                        "vd_png_pattern_parse: '%s' is not a frame pattern: the file name needs exactly one %%d or "
                        "%%0Nd (N = 1..9), e.g. frames/%%04d.png",
                        path);
}

void vd_png_pattern_name(const vd_png_pattern *p, long i, char *buf, size_t cap) {
    snprintf(buf, cap, "%s%0*ld%s", p->prefix, p->width, i, p->suffix);
}

void vd_png_pattern_path(const vd_png_pattern *p, long i, char *buf, size_t cap) {
    char name[600];
    vd_png_pattern_name(p, i, name, sizeof name);
    snprintf(buf, cap, "%s/%s", p->dir, name);
}
