#include "log.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int g_level = -1; // -1: not yet read from the environment

static const char *k_names[VD_LOG_LEVEL_COUNT] = {"error", "warn", "info", "debug"};

const char *vd_log_level_name(vd_log_level level) {
    return (level >= 0 && level < VD_LOG_LEVEL_COUNT) ? k_names[level] : "?";
}

int vd_log_level_from_name(const char *name, vd_log_level *out) {
    for (int i = 0; i < VD_LOG_LEVEL_COUNT; i++)
        if (name && strcmp(name, k_names[i]) == 0) {
            *out = (vd_log_level)i;
            return 0;
        }
    return -1;
}

vd_log_level vd_log_get_level(void) {
    if (g_level < 0) {
        vd_log_level l = VD_LOG_INFO;
        const char *env = getenv("VDIT_LOG");
        if (env && vd_log_level_from_name(env, &l) != 0) l = VD_LOG_INFO;
        g_level = (int)l;
    }
    return (vd_log_level)g_level;
}

void vd_log_set_level(vd_log_level level) { g_level = (int)level; }

void vd_log(vd_log_level level, const char *fmt, ...) {
    if ((int)level > (int)vd_log_get_level()) return;
    static const char *prefix[VD_LOG_LEVEL_COUNT] = {"error: ", "warning: ", "", "debug: "};
    fputs("vdit: ", stderr);
    fputs(prefix[level], stderr);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}
