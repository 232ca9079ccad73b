// Image-sequence reader: a %0Nd pattern (first index 0 or 1, then consecutive), a directory
// (its .png/.jpg/.jpeg/.bmp files sorted by name) or one image file (a one-frame video).
// Images are decoded one at a time with stb_image (image.h); all must share the first one's size.
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "codecs/atomic_file.h"
#include "codecs/image.h"
#include "codecs/png_pattern.h"
#include "codecs/reader_backend.h"

typedef struct {
    bool use_pattern;
    vd_png_pattern pat;
    long next_index;
    char **files; // directory / single-file mode: full paths in order
    int n_files, next_file;
    char src[512];
    int w, h;
    uint8_t *first; // the first frame, decoded at open to learn the size; handed out by the first read
} images_reader;

static void images_close(void *state) {
    images_reader *s = state;
    if (!s) return;
    for (int i = 0; i < s->n_files; i++) free(s->files[i]);
    free(s->files);
    free(s->first);
    free(s);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static bool file_exists(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static vd_status list_dir(images_reader *s, const char *dir, vd_error *err) {
    DIR *d = opendir(dir);
    if (!d) return vd_error_set(err, VD_ERR_IO, "vd_video_reader_open: cannot list '%s' (%s)", dir, strerror(errno));
    int cap = 0;
    struct dirent *e;
    vd_status st = VD_OK;
    while ((e = readdir(d)) != NULL) {
        char ext[16];
        if (e->d_name[0] == '.') continue; // hidden, including our own temporaries
        vd_path_ext(e->d_name, ext, sizeof ext);
        if (strcmp(ext, "png") && strcmp(ext, "jpg") && strcmp(ext, "jpeg") && strcmp(ext, "bmp")) continue;
        if (s->n_files == cap) {
            cap = cap ? cap * 2 : 64;
            char **nf = realloc(s->files, sizeof *nf * (size_t)cap);
            if (!nf) {
                st = vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "vd_video_reader_open: out of memory");
                break;
            }
            s->files = nf;
        }
        size_t len = strlen(dir) + strlen(e->d_name) + 2;
        char *p = malloc(len);
        if (!p) {
            st = vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "vd_video_reader_open: out of memory");
            break;
        }
        snprintf(p, len, "%s/%s", dir, e->d_name);
        s->files[s->n_files++] = p;
    }
    closedir(d);
    if (st != VD_OK) return st;
    if (s->n_files == 0)
        return vd_error_set(err, VD_ERR_IO, "vd_video_reader_open: directory '%s' has no .png/.jpg/.bmp images", dir);
    qsort(s->files, (size_t)s->n_files, sizeof *s->files, cmp_str);
    return VD_OK;
}

// Path of the next image, or NULL at the end of the sequence.
static const char *next_path(images_reader *s, char *buf, size_t cap) {
    if (s->use_pattern) {
        vd_png_pattern_path(&s->pat, s->next_index, buf, cap);
        if (!file_exists(buf)) return NULL;
        s->next_index++;
        return buf;
    }
    if (s->next_file >= s->n_files) return NULL;
    return s->files[s->next_file++];
}

static vd_status images_open(void **state, const char *path, int *w, int *h, int *fps_num, int *fps_den,
                             vd_error *err) {
    images_reader *s = calloc(1, sizeof *s);
    if (!s) return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "vd_video_reader_open: out of memory");
    snprintf(s->src, sizeof s->src, "%s", path);
    vd_status st = VD_OK;
    struct stat sb;
    if (vd_png_pattern_is_pattern(path)) {
        st = vd_png_pattern_parse(path, &s->pat, err);
        if (st != VD_OK) goto fail;
        s->use_pattern = true;
        char p0[VD_PATH_MAX + 600];
        vd_png_pattern_path(&s->pat, 0, p0, sizeof p0);
        s->next_index = file_exists(p0) ? 0 : 1; // FFmpeg's image2 muxer starts at 1
        vd_png_pattern_path(&s->pat, s->next_index, p0, sizeof p0);
        if (!file_exists(p0)) {
            st = vd_error_set(err, VD_ERR_IO, "vd_video_reader_open: no frames match '%s' (looked for '%s' and index 0)",
                              path, p0);
            goto fail;
        }
    } else if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        st = list_dir(s, path, err);
        if (st != VD_OK) goto fail;
    } else {
        s->files = malloc(sizeof *s->files);
        s->files ? (s->files[0] = strdup(path)) : NULL;
        if (!s->files || !s->files[0]) {
            st = vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "vd_video_reader_open: out of memory");
            goto fail;
        }
        s->n_files = 1;
    }
    char buf[VD_PATH_MAX + 600];
    const char *p = next_path(s, buf, sizeof buf);
    st = vd_image_read(p, &s->first, &s->w, &s->h, err);
    if (st != VD_OK) goto fail;
    *w = s->w;
    *h = s->h;
    *fps_num = 0;
    *fps_den = 1;
    *state = s;
    return VD_OK;
fail:
    images_close(s);
    return st;
}

static vd_status images_read(void *state, uint8_t *rgb, bool *got, vd_error *err) {
    images_reader *s = state;
    if (s->first) {
        memcpy(rgb, s->first, (size_t)s->w * s->h * 3);
        free(s->first);
        s->first = NULL;
        *got = true;
        return VD_OK;
    }
    char buf[VD_PATH_MAX + 600];
    const char *p = next_path(s, buf, sizeof buf);
    if (!p) return VD_OK;
    uint8_t *px = NULL;
    int w = 0, h = 0;
    VD_TRY(vd_image_read(p, &px, &w, &h, err));
    if (w != s->w || h != s->h) {
        free(px);
        return vd_error_set(err, VD_ERR_FORMAT, "vd_video_reader_read: '%s' is %dx%d but the sequence '%s' started at %dx%d",
                            p, w, h, s->src, s->w, s->h);
    }
    memcpy(rgb, px, (size_t)w * h * 3);
    free(px);
    *got = true;
    return VD_OK;
}

const vd_reader_backend vd_reader_backend_images = {"images", images_open, images_read, images_close};
