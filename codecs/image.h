// Still images: reading PNG/JPEG/BMP through stb_image, writing PNG through libpng.
// Pixels are RGB uint8, [H, W, 3] row-major, rows packed (stride = W * 3). Grey, grey+alpha and
// RGBA inputs are converted to RGB by stb_image (alpha is dropped, not composited).
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "lib/status.h"

#ifdef __cplusplus
extern "C" {
#endif

// Reads path into a newly malloc'ed RGB buffer (*rgb, free with free()). VD_ERR_IO when the
// file cannot be opened, VD_ERR_FORMAT when it is not a decodable image, VD_ERR_UNSUPPORTED when
// the build has no stb_image.
vd_status vd_image_read(const char *path, uint8_t **rgb, int *width, int *height, vd_error *err);

// Writes an 8-bit RGB PNG atomically (temporary name + rename; nothing left on failure).
// stride: bytes between rows (0 = width * 3). VD_ERR_UNSUPPORTED when the build has no libpng.
vd_status vd_png_write(const char *path, const uint8_t *rgb, int width, int height, size_t stride, vd_error *err);

#ifdef __cplusplus
}
#endif
