// Image reading through stb_image (system header from libstb-dev; implementation compiled here,
// static so it cannot clash with another copy). Only PNG, JPEG and BMP decoders are built.
#include "codecs/image.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef VDIT_HAVE_STB
#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_STATIC
#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
#define STBI_ONLY_BMP
#define STBI_NO_HDR
#define STBI_NO_LINEAR
#define STBI_FAILURE_USERMSG
#if defined(__GNUC__)
// STB_IMAGE_STATIC declares the GIF/thread helpers we compile out as static: reported at the end of
// the translation unit, so this one stays off for the whole (small) file.
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-but-set-variable"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#pragma GCC diagnostic ignored "-Wmisleading-indentation"
#endif
#include <stb_image.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif
#endif

vd_status vd_image_read(const char *path, uint8_t **rgb, int *width, int *height, vd_error *err) {
    *rgb = NULL;
    *width = *height = 0;
#ifdef VDIT_HAVE_STB
    FILE *f = fopen(path, "rb");
    if (!f) return vd_error_set(err, VD_ERR_IO, "vd_image_read: cannot open '%s' (%s)", path, strerror(errno));
    int w = 0, h = 0, c = 0;
    unsigned char *px = stbi_load_from_file(f, &w, &h, &c, 3);
    fclose(f);
    if (!px)
        return vd_error_set(err, VD_ERR_FORMAT, "vd_image_read: '%s' is not a readable PNG/JPEG/BMP image (%s)", path,
                            stbi_failure_reason());
    size_t n = (size_t)w * (size_t)h * 3;
    uint8_t *out = malloc(n);
    if (!out) {
        stbi_image_free(px);
        return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "vd_image_read: %dx%d image '%s': out of memory", w, h, path);
    }
    memcpy(out, px, n); // hand back plain malloc memory, not stb's allocator
    stbi_image_free(px);
    *rgb = out;
    *width = w;
    *height = h;
    return VD_OK;
#else
    return vd_error_set(err, VD_ERR_UNSUPPORTED,
                        "vd_image_read: cannot read '%s': this vdit was built without stb_image (Debian: libstb-dev)", path);
#endif
}
