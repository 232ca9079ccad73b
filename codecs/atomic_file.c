// Atomic outputs (see atomic_file.h): temp name in the target directory, rename on success.
#include "codecs/atomic_file.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

bool vd_path_split(const char *path, char *dir, size_t dir_cap, char *base, size_t base_cap) {
    const char *slash = strrchr(path, '/');
    const char *b = slash ? slash + 1 : path;
    if (!*b || strlen(b) + 1 > base_cap) return false;
    if (slash) {
        size_t n = (size_t)(slash - path);
        if (n == 0) n = 1; // "/x" -> dir "/"
        if (n + 1 > dir_cap) return false;
        memcpy(dir, path, n);
        dir[n] = 0;
    } else {
        if (dir_cap < 2) return false;
        strcpy(dir, ".");
    }
    strcpy(base, b);
    return true;
}

void vd_path_ext(const char *path, char *ext, size_t cap) {
    const char *slash = strrchr(path, '/');
    const char *b = slash ? slash + 1 : path;
    const char *dot = strrchr(b, '.');
    size_t i = 0;
    if (dot && dot != b && cap > 0) {
        for (const char *p = dot + 1; *p && i + 1 < cap; p++) ext[i++] = (char)tolower((unsigned char)*p);
    }
    if (cap > 0) ext[i] = 0;
}

// The process umask without a permanent change (umask(2) can only be read by setting it).
static mode_t current_umask(void) {
    mode_t m = umask(022);
    umask(m);
    return m;
}

static vd_status make_tmp_template(const char *fn, const char *path, char *final_path, char *tmp_path,
                                   vd_error *err) {
    char dir[VD_PATH_MAX], base[VD_PATH_MAX];
    if (!path || !*path) return vd_error_set(err, VD_ERR_INVALID_ARG, "%s: empty output path", fn);
    if (strlen(path) + 1 > VD_PATH_MAX || !vd_path_split(path, dir, sizeof dir, base, sizeof base))
        return vd_error_set(err, VD_ERR_INVALID_ARG, "%s: output path '%s' is empty, ends in '/' or is longer than %d bytes",
                            fn, path, VD_PATH_MAX - 1);
    struct stat st;
    if (stat(dir, &st) != 0)
        return vd_error_set(err, VD_ERR_IO, "%s: output directory '%s' does not exist (%s)", fn, dir, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return vd_error_set(err, VD_ERR_IO, "%s: '%s' (parent of '%s') is not a directory", fn, dir, path);
    int n = snprintf(tmp_path, VD_PATH_MAX, "%s/.%s.tmp-XXXXXX", dir, base);
    if (n < 0 || n >= VD_PATH_MAX)
        return vd_error_set(err, VD_ERR_INVALID_ARG, "%s: output path '%s' is too long", fn, path);
    strcpy(final_path, path);
    return VD_OK;
}

vd_status vd_atomic_file_open(vd_atomic_file *af, const char *path, vd_error *err) {
    memset(af, 0, sizeof *af);
    af->fd = -1;
    VD_TRY(make_tmp_template("vd_atomic_file_open", path, af->final_path, af->tmp_path, err));
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return vd_error_set(err, VD_ERR_IO, "vd_atomic_file_open: output '%s' is an existing directory", path);
    int fd = mkstemp(af->tmp_path);
    if (fd < 0)
        return vd_error_set(err, VD_ERR_IO, "vd_atomic_file_open: cannot create a file next to '%s' (%s); "
                            "hint: check that the directory is writable", path, strerror(errno));
    af->fd = fd;
    af->active = true;
    return VD_OK;
}

vd_status vd_atomic_file_commit(vd_atomic_file *af, vd_error *err) {
    if (!af->active) return vd_error_set(err, VD_ERR_INTERNAL, "vd_atomic_file_commit: nothing to commit");
    if (af->fd >= 0) {
        int rc = close(af->fd);
        af->fd = -1;
        if (rc != 0) {
            vd_error_set(err, VD_ERR_IO, "vd_atomic_file_commit: closing '%s' failed (%s)", af->tmp_path, strerror(errno));
            vd_atomic_file_discard(af);
            return VD_ERR_IO;
        }
    }
    chmod(af->tmp_path, 0666 & ~current_umask());
    if (rename(af->tmp_path, af->final_path) != 0) {
        vd_error_set(err, VD_ERR_IO, "vd_atomic_file_commit: renaming '%s' to '%s' failed (%s)", af->tmp_path,
                     af->final_path, strerror(errno));
        vd_atomic_file_discard(af);
        return VD_ERR_IO;
    }
    af->active = false;
    return VD_OK;
}

void vd_atomic_file_discard(vd_atomic_file *af) {
    if (af->fd >= 0) {
        close(af->fd);
        af->fd = -1;
    }
    if (af->active) unlink(af->tmp_path);
    af->active = false;
}

vd_status vd_atomic_dir_open(vd_atomic_dir *ad, const char *path, vd_error *err) {
    memset(ad, 0, sizeof *ad);
    char p[VD_PATH_MAX];
    size_t n = path ? strlen(path) : 0;
    if (n + 1 > sizeof p) return vd_error_set(err, VD_ERR_INVALID_ARG, "vd_atomic_dir_open: path too long");
    if (path) memcpy(p, path, n + 1);
    while (n > 1 && p[n - 1] == '/') p[--n] = 0; // "frames/" -> "frames"
    VD_TRY(make_tmp_template("vd_atomic_dir_open", p, ad->final_path, ad->tmp_path, err));
    struct stat st;
    if (stat(p, &st) == 0 && !S_ISDIR(st.st_mode))
        return vd_error_set(err, VD_ERR_IO, "vd_atomic_dir_open: '%s' exists and is not a directory", p);
    if (!mkdtemp(ad->tmp_path))
        return vd_error_set(err, VD_ERR_IO, "vd_atomic_dir_open: cannot create a directory next to '%s' (%s); "
                            "hint: check that the parent directory is writable", p, strerror(errno));
    ad->active = true;
    return VD_OK;
}

vd_status vd_atomic_dir_commit(vd_atomic_dir *ad, vd_error *err) {
    if (!ad->active) return vd_error_set(err, VD_ERR_INTERNAL, "vd_atomic_dir_commit: nothing to commit");
    chmod(ad->tmp_path, 0777 & ~current_umask());
    struct stat st;
    if (stat(ad->final_path, &st) != 0) {
        if (rename(ad->tmp_path, ad->final_path) == 0) {
            ad->active = false;
            return VD_OK;
        }
        vd_error_set(err, VD_ERR_IO, "vd_atomic_dir_commit: renaming '%s' to '%s' failed (%s)", ad->tmp_path,
                     ad->final_path, strerror(errno));
        vd_atomic_dir_discard(ad);
        return VD_ERR_IO;
    }
    // The target directory exists: move each finished file into it (each rename is atomic).
    DIR *d = opendir(ad->tmp_path);
    if (!d) {
        vd_error_set(err, VD_ERR_IO, "vd_atomic_dir_commit: cannot list '%s' (%s)", ad->tmp_path, strerror(errno));
        vd_atomic_dir_discard(ad);
        return VD_ERR_IO;
    }
    vd_status s = VD_OK;
    struct dirent *e;
    char src[VD_PATH_MAX * 2], dst[VD_PATH_MAX * 2];
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        snprintf(src, sizeof src, "%s/%s", ad->tmp_path, e->d_name);
        snprintf(dst, sizeof dst, "%s/%s", ad->final_path, e->d_name);
        if (rename(src, dst) != 0) {
            s = vd_error_set(err, VD_ERR_IO, "vd_atomic_dir_commit: moving '%s' to '%s' failed (%s)", src, dst,
                             strerror(errno));
            break;
        }
    }
    closedir(d);
    vd_atomic_dir_discard(ad);
    return s;
}

void vd_atomic_dir_discard(vd_atomic_dir *ad) {
    if (!ad->active) return;
    DIR *d = opendir(ad->tmp_path);
    if (d) {
        struct dirent *e;
        char p[VD_PATH_MAX * 2];
        while ((e = readdir(d)) != NULL) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            snprintf(p, sizeof p, "%s/%s", ad->tmp_path, e->d_name);
            unlink(p);
        }
        closedir(d);
    }
    rmdir(ad->tmp_path);
    ad->active = false;
}
