#include "status.h"
#include <string.h>

const char *vd_status_str(vd_status s) {
    switch (s) {
    case VD_OK: return "ok";
    case VD_ERR_INVALID_ARG: return "invalid argument";
    case VD_ERR_IO: return "i/o error";
    case VD_ERR_FORMAT: return "format error";
    case VD_ERR_UNSUPPORTED: return "unsupported";
    case VD_ERR_OUT_OF_MEMORY: return "out of memory";
    case VD_ERR_CUDA: return "cuda error";
    case VD_ERR_INTERNAL: return "internal error";
    default: return "unknown status";
    }
}

vd_status vd_error_set(vd_error *err, vd_status code, const char *fmt, ...) {
    if (!err) return code;
    err->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return code;
}

vd_status vd_error_prefix(vd_error *err, const char *fmt, ...) {
    if (!err) return VD_ERR_INTERNAL;
    char head[256], old[sizeof err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(head, sizeof head, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    snprintf(err->msg, sizeof err->msg, "%s: %s", head, old);
    return err->code;
}

void vd_error_clear(vd_error *err) {
    if (!err) return;
    err->code = VD_OK;
    err->msg[0] = 0;
}
