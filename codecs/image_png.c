// PNG writing through libpng (8-bit RGB, default compression, no interlace), atomic.
#include "codecs/image.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "codecs/atomic_file.h"

#ifdef VDIT_HAVE_PNG
#include <png.h>

typedef struct {
    char msg[256];
} png_err_ctx;

static void on_png_error(png_structp png, png_const_charp msg) {
    png_err_ctx *ctx = png_get_error_ptr(png);
    snprintf(ctx->msg, sizeof ctx->msg, "%s", msg);
    png_longjmp(png, 1);
}

static void on_png_warning(png_structp png, png_const_charp msg) { (void)png; (void)msg; }

// Encodes into an open FILE. Separate function so the setjmp frame holds no variables that
// change after setjmp (volatile-free).
static vd_status png_encode(FILE *f, const uint8_t *rgb, int width, int height, size_t stride, const char *path,
                            vd_error *err) {
    png_err_ctx ctx = {{0}};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &ctx, on_png_error, on_png_warning);
    if (!png) return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "vd_png_write: png_create_write_struct failed");
    png_infop info = png_create_info_struct(png);
    if (!info) {
        png_destroy_write_struct(&png, NULL);
        return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "vd_png_write: png_create_info_struct failed");
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        return vd_error_set(err, VD_ERR_IO, "vd_png_write: libpng failed writing '%s': %s", path, ctx.msg);
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_set_compression_level(png, 6);
    png_write_info(png, info);
    for (int y = 0; y < height; y++) png_write_row(png, (png_const_bytep)(rgb + (size_t)y * stride));
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    return VD_OK;
}
#endif

vd_status vd_png_write(const char *path, const uint8_t *rgb, int width, int height, size_t stride, vd_error *err) {
#ifdef VDIT_HAVE_PNG
    if (width < 1 || height < 1 || width > (1 << 20) || height > (1 << 20))
        return vd_error_set(err, VD_ERR_INVALID_ARG, "vd_png_write: size %dx%d outside 1..%d", width, height, 1 << 20);
    if (stride == 0) stride = (size_t)width * 3;
    vd_atomic_file af;
    VD_TRY(vd_atomic_file_open(&af, path, err));
    FILE *f = fdopen(af.fd, "wb");
    if (!f) {
        vd_error_set(err, VD_ERR_IO, "vd_png_write: fdopen '%s' failed (%s)", af.tmp_path, strerror(errno));
        vd_atomic_file_discard(&af);
        return VD_ERR_IO;
    }
    af.fd = -1; // owned by f now
    vd_status s = png_encode(f, rgb, width, height, stride, path, err);
    if (fclose(f) != 0 && s == VD_OK)
        s = vd_error_set(err, VD_ERR_IO, "vd_png_write: writing '%s' failed (%s)", path, strerror(errno));
    if (s != VD_OK) {
        vd_atomic_file_discard(&af);
        return s;
    }
    return vd_atomic_file_commit(&af, err);
#else
    (void)rgb; (void)width; (void)height; (void)stride;
    return vd_error_set(err, VD_ERR_UNSUPPORTED,
                        "vd_png_write: cannot write '%s': this vdit was built without libpng (Debian: libpng-dev)", path);
#endif
}
