// Filesystem predicates shared by the model loaders (dit/model_dir.c, dit/wan_weights.c).
#pragma once
#include <stdbool.h>
#include <sys/stat.h>

// True when p names an existing directory (symbolic links followed).
static inline bool vd_is_dir(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

// True when p names an existing regular file (symbolic links followed).
static inline bool vd_is_file(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}
