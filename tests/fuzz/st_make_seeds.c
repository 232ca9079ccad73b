// Writes the fuzzer's seed corpus: small valid safetensors files made by vd_st_write (one
// tensor per dtype, a scalar, an empty tensor, metadata, several tensors). Usage: st_make_seeds DIR
#include <stdio.h>
#include <string.h>

#include "lib/safetensors.h"

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: st_make_seeds DIR\n");
        return 2;
    }
    uint8_t bytes[64];
    for (int i = 0; i < 64; i++) bytes[i] = (uint8_t)(i * 37 + 1);
    vd_error err = {0};
    char path[4096];
    int k = 0;
    for (int dt = 0; dt < VD_DTYPE_COUNT; dt++) {
        int64_t shape[2] = {2, 3};
        vd_st_write_entry e = {"blocks.0.weight", (vd_dtype)dt, 2, shape, bytes};
        snprintf(path, sizeof path, "%s/seed_%02d.safetensors", argv[1], k++);
        if (vd_st_write(path, &e, 1, dt == 0 ? "{\"format\":\"pt\"}" : NULL, &err) != VD_OK) goto fail;
    }
    int64_t s1[1] = {4}, s0[3] = {2, 0, 3};
    vd_st_write_entry many[4] = {{"a", VD_F32, 1, s1, bytes}, {"b", VD_BF16, 1, s1, bytes},
                                 {"scalar", VD_I64, 0, NULL, bytes}, {"empty", VD_F16, 3, s0, NULL}};
    snprintf(path, sizeof path, "%s/seed_%02d.safetensors", argv[1], k++);
    if (vd_st_write(path, many, 4, "{\"a\":\"b\",\"c\":\"d\"}", &err) != VD_OK) goto fail;
    snprintf(path, sizeof path, "%s/seed_%02d.safetensors", argv[1], k++);
    if (vd_st_write(path, NULL, 0, NULL, &err) != VD_OK) goto fail;
    printf("st_make_seeds: %d seed files in %s\n", k, argv[1]);
    return 0;
fail:
    fprintf(stderr, "st_make_seeds: %s\n", err.msg);
    return 1;
}
