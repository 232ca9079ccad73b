// Status codes and error messages. Errors from the outside world (files, configs, CLI values,
// shapes, device limits) are returned as a vd_status with a message that names the function,
// the offending value and the allowed range. Broken internal invariants use VD_ASSERT (aborts).
// Library code never calls exit(); only apps/ decides exit codes.
#pragma once
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    VD_OK = 0,
    VD_ERR_INVALID_ARG,   // a value outside its allowed range (CLI, config, shape)
    VD_ERR_IO,            // open/read/write/mmap failed
    VD_ERR_FORMAT,        // a file's contents are malformed (truncated, bad JSON, bad offsets)
    VD_ERR_UNSUPPORTED,   // valid input this build/device/method cannot handle
    VD_ERR_OUT_OF_MEMORY, // host or device allocation failed
    VD_ERR_CUDA,          // a CUDA / cuBLAS call failed
    VD_ERR_INTERNAL,      // should not happen; a bug
    VD_STATUS_COUNT
} vd_status;

typedef struct {
    vd_status code;
    char msg[512];
} vd_error;

const char *vd_status_str(vd_status s);
// Fills err (may be NULL) with code and a printf-formatted message; returns code.
vd_status vd_error_set(vd_error *err, vd_status code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
// Prefixes an existing message with more context ("loading transformer: ..."); returns err->code.
vd_status vd_error_prefix(vd_error *err, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
void vd_error_clear(vd_error *err);

#define VD_ASSERT(cond)                                                                      \
    do {                                                                                     \
        if (!(cond)) {                                                                       \
            fprintf(stderr, "vdit: internal assertion failed: %s at %s:%d\n", #cond,         \
                    __FILE__, __LINE__);                                                     \
            abort();                                                                         \
        }                                                                                    \
    } while (0)

// Propagate a non-OK status (the error message is already filled by the callee).
#define VD_TRY(expr)                                                                         \
    do {                                                                                     \
        vd_status vd_try_s_ = (expr);                                                        \
        if (vd_try_s_ != VD_OK) return vd_try_s_;                                            \
    } while (0)

#ifdef __cplusplus
}
#endif
