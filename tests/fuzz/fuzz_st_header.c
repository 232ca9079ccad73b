// libFuzzer target for the safetensors header parser (vd_st_parse). Built by clang with
// -fsanitize=fuzzer,address,undefined (tests/lib_st.cmake). Beyond "no crash", it checks the
// promises the parser makes about accepted input: every tensor lies inside the buffer's data
// region, its byte size equals dtype size x numel, and no two non-empty tensors overlap; a
// refusal always carries a format/unsupported status and a message.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/safetensors.h"

static void check_accepted(const uint8_t *buf, size_t len, const vd_st_tensor *ts, size_t n) {
    for (size_t i = 0; i < n; i++) {
        const vd_st_tensor *t = &ts[i];
        const uint8_t *p = t->data;
        if (t->begin > t->end || p < buf || p + (t->end - t->begin) > buf + len) abort();
        uint64_t numel = 1;
        for (int d = 0; d < t->ndim; d++) numel *= (uint64_t)t->shape[d];
        if (numel * vd_dtype_size(t->dtype) != t->end - t->begin) abort();
        if (t->end > t->begin) {
            volatile uint8_t first = p[0], last = p[t->end - t->begin - 1]; // ASan checks both ends
            (void)first;
            (void)last;
        }
        if (numel <= 1024 && t->dtype != VD_BOOL) { // exercise the conversion path too
            float out[1024];
            vd_error err;
            if (vd_st_read_f32(t, out, 0, NULL, &err) != VD_OK) abort();
        }
        for (size_t j = 0; j < i && n <= 256; j++) {
            const vd_st_tensor *u = &ts[j];
            bool empty = t->begin == t->end || u->begin == u->end;
            if (!empty && t->begin < u->end && u->begin < t->end) abort();
            if (strcmp(t->name, u->name) == 0) abort();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    vd_st_tensor *ts = NULL;
    size_t n = 0;
    char *meta = NULL;
    vd_error err = {0};
    vd_status s = vd_st_parse(data, size, &ts, &n, &meta, &err);
    if (s == VD_OK) {
        check_accepted(data, size, ts, n);
        vd_st_tensors_free(ts, n, meta);
    } else if ((s != VD_ERR_FORMAT && s != VD_ERR_UNSUPPORTED && s != VD_ERR_OUT_OF_MEMORY) || !err.msg[0] || ts ||
               n || meta) {
        abort();
    }
    return 0;
}
