// safetensors reader/writer: round trip of every dtype (bytes, shapes, metadata, f32 values
// against hand-written bit patterns), the writer's on-disk layout (checked on the raw bytes),
// a hand-built file with an unaligned data region, sharded index sets, directory opening, and
// writer failures that must leave no output and no temp file. Malformed inputs are in
// test_safetensors_malformed.c.
#include <cjson/cJSON.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/safetensors.h"
#include "st_test_files.h"
#include "test_util.h"

static char g_dir[512];

static const char *path_in(const char *dir, const char *name) {
    static char buf[8][1024];
    static int k;
    k = (k + 1) % 8;
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    return buf[k];
}

// Reference values with their exact encodings, written as literals (not via lib/dtype.c).
static const uint16_t k_f16_bits[8] = {0x3C00, 0xC000, 0x3800, 0x7BFF, 0x0001, 0x0400, 0x3555, 0x8000};
static const float k_f16_vals[8] = {1.0f, -2.0f, 0.5f, 65504.0f, 5.9604644775390625e-08f, 6.103515625e-05f,
                                    0.333251953125f, -0.0f};
static const uint16_t k_bf16_bits[6] = {0x3F80, 0xC040, 0x3F00, 0x4049, 0x7F7F, 0x0001};
static const float k_bf16_vals[6] = {1.0f, -3.0f, 0.5f, 3.140625f, 3.3895313892515355e38f, 9.183549615799121e-41f};

typedef struct {
    const char *name;
    vd_dtype dtype;
    int ndim;
    int64_t shape[VD_MAX_DIMS];
    uint8_t bytes[256];
    float expect[64]; // f32 values read_f32 must return
} rt_case;

static int64_t numel_of(const rt_case *c) {
    int64_t n = 1;
    for (int i = 0; i < c->ndim; i++) n *= c->shape[i];
    return n;
}

static int make_cases(rt_case *cs) {
    int n = 0;
    vt_rng r;
    vt_rng_seed(&r, 11);
    rt_case *c;
    c = &cs[n++]; *c = (rt_case){"w.f32", VD_F32, 2, {3, 5}, {0}, {0}};
    for (int i = 0; i < 15; i++) { float v = vt_normal(&r); memcpy(c->bytes + 4 * i, &v, 4); c->expect[i] = v; }
    c = &cs[n++]; *c = (rt_case){"w.f16", VD_F16, 2, {2, 4}, {0}, {0}};
    for (int i = 0; i < 8; i++) { memcpy(c->bytes + 2 * i, &k_f16_bits[i], 2); c->expect[i] = k_f16_vals[i]; }
    c = &cs[n++]; *c = (rt_case){"w.bf16", VD_BF16, 1, {6}, {0}, {0}};
    for (int i = 0; i < 6; i++) { memcpy(c->bytes + 2 * i, &k_bf16_bits[i], 2); c->expect[i] = k_bf16_vals[i]; }
    c = &cs[n++]; *c = (rt_case){"w.f64", VD_F64, 3, {1, 3, 1}, {0}, {0}};
    for (int i = 0; i < 3; i++) { double v = 0.1 * (i + 1); memcpy(c->bytes + 8 * i, &v, 8); c->expect[i] = (float)v; }
    c = &cs[n++]; *c = (rt_case){"w.i64", VD_I64, 1, {4}, {0}, {0}};
    for (int i = 0; i < 4; i++) { int64_t v = (int64_t)i * 1000003 - 7; memcpy(c->bytes + 8 * i, &v, 8); c->expect[i] = (float)v; }
    c = &cs[n++]; *c = (rt_case){"w.i32", VD_I32, 6, {1, 2, 1, 3, 1, 1}, {0}, {0}};
    for (int i = 0; i < 6; i++) { int32_t v = -3 * i + 1; memcpy(c->bytes + 4 * i, &v, 4); c->expect[i] = (float)v; }
    c = &cs[n++]; *c = (rt_case){"w.i16", VD_I16, 1, {5}, {0}, {0}};
    for (int i = 0; i < 5; i++) { int16_t v = (int16_t)(-32768 + 16383 * i); memcpy(c->bytes + 2 * i, &v, 2); c->expect[i] = (float)v; }
    c = &cs[n++]; *c = (rt_case){"w.i8", VD_I8, 1, {7}, {0}, {0}};
    for (int i = 0; i < 7; i++) { int8_t v = (int8_t)(i * 40 - 128); c->bytes[i] = (uint8_t)v; c->expect[i] = (float)v; }
    c = &cs[n++]; *c = (rt_case){"w.u8", VD_U8, 2, {3, 3}, {0}, {0}};
    for (int i = 0; i < 9; i++) { c->bytes[i] = (uint8_t)(i * 31); c->expect[i] = (float)(i * 31); }
    c = &cs[n++]; *c = (rt_case){"w.bool", VD_BOOL, 1, {3}, {1, 0, 1}, {0}};
    c = &cs[n++]; *c = (rt_case){"scalar", VD_F32, 0, {0}, {0}, {0}};
    { float v = 42.5f; memcpy(c->bytes, &v, 4); c->expect[0] = v; }
    c = &cs[n++]; *c = (rt_case){"empty", VD_BF16, 3, {2, 0, 3}, {0}, {0}};
    return n;
}

// The writer's layout, checked on the raw bytes: length field = padded header size (multiple
// of 8), header parses as JSON, tensors back to back from 0 with no holes, each aligned to its
// element size, data bytes equal to what was given.
static void check_layout(const char *path, const rt_case *cs, int n) {
    size_t len = 0;
    uint8_t *b = st_read_bytes(path, &len);
    VT_EXPECT(b && len >= 8);
    if (!b) return;
    uint64_t h = 0;
    for (int i = 7; i >= 0; i--) h = h << 8 | b[i];
    VT_EXPECT(h % 8 == 0 && 8 + h <= len);
    char *txt = malloc(h + 1);
    memcpy(txt, b + 8, h);
    txt[h] = 0;
    cJSON *root = cJSON_Parse(txt);
    VT_EXPECT(cJSON_IsObject(root));
    uint64_t covered = 0;
    for (int i = 0; i < n && root; i++) {
        cJSON *e = cJSON_GetObjectItemCaseSensitive(root, cs[i].name);
        cJSON *o = cJSON_GetObjectItemCaseSensitive(e, "data_offsets");
        VT_EXPECT(cJSON_GetArraySize(o) == 2);
        if (cJSON_GetArraySize(o) != 2) continue;
        uint64_t beg = (uint64_t)o->child->valuedouble, end = (uint64_t)o->child->next->valuedouble;
        size_t es = vd_dtype_size(cs[i].dtype);
        VT_EXPECT(beg % es == 0);
        VT_EXPECT(end - beg == (uint64_t)numel_of(&cs[i]) * es);
        VT_EXPECT(8 + h + end <= len && memcmp(b + 8 + h + beg, cs[i].bytes, end - beg) == 0);
        VT_EXPECT(strcmp(cJSON_GetObjectItemCaseSensitive(e, "dtype")->valuestring, vd_dtype_st_name(cs[i].dtype)) == 0);
        covered += end - beg;
    }
    VT_EXPECT(8 + h + covered == len); // no holes, no trailing bytes
    cJSON *m = cJSON_GetObjectItemCaseSensitive(root, "__metadata__");
    VT_EXPECT(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(m, "format")));
    cJSON_Delete(root);
    free(txt);
    free(b);
}

static void test_round_trip(void) {
    rt_case cs[16];
    int n = make_cases(cs);
    vd_st_write_entry e[16];
    for (int i = 0; i < n; i++) e[i] = (vd_st_write_entry){cs[i].name, cs[i].dtype, cs[i].ndim, cs[i].shape, cs[i].bytes};
    const char *p = path_in(g_dir, "rt.safetensors");
    vd_error err = {0};
    vd_status s = vd_st_write(p, e, (size_t)n, "{\"format\":\"pt\",\"note\":\"round trip\"}", &err);
    VT_EXPECT(s == VD_OK);
    if (s != VD_OK) { printf("write: %s\n", err.msg); return; }
    VT_EXPECT(!st_file_exists(path_in(g_dir, "rt.safetensors.tmp")));
    check_layout(p, cs, n);
    vd_st_file *f = NULL;
    s = vd_st_open(&f, p, &err);
    VT_EXPECT(s == VD_OK);
    if (s != VD_OK) { printf("open: %s\n", err.msg); return; }
    VT_EXPECT(vd_st_count(f) == (size_t)n);
    cJSON *m = cJSON_Parse(vd_st_metadata(f));
    VT_EXPECT(m && strcmp(cJSON_GetObjectItemCaseSensitive(m, "note")->valuestring, "round trip") == 0);
    cJSON_Delete(m);
    for (int i = 0; i < n; i++) {
        const vd_st_tensor *t = vd_st_find(f, cs[i].name);
        VT_EXPECT(t != NULL);
        if (!t) continue;
        VT_EXPECT(t->dtype == cs[i].dtype && t->ndim == cs[i].ndim);
        for (int d = 0; d < t->ndim; d++) VT_EXPECT(t->shape[d] == cs[i].shape[d]);
        size_t nb = (size_t)numel_of(&cs[i]) * vd_dtype_size(cs[i].dtype);
        VT_EXPECT(t->end - t->begin == nb && memcmp(t->data, cs[i].bytes, nb) == 0);
        float got[64];
        s = vd_st_read_f32(t, got, cs[i].ndim, cs[i].shape, &err);
        if (cs[i].dtype == VD_BOOL) {
            VT_EXPECT(s == VD_ERR_UNSUPPORTED && strstr(err.msg, "w.bool"));
            continue;
        }
        VT_EXPECT(s == VD_OK);
        int64_t ne = numel_of(&cs[i]);
        for (int64_t k = 0; k < ne; k++)
            if (memcmp(&got[k], &cs[i].expect[k], 4) != 0) { // bit-exact, so -0.0 and denormals count
                printf("FAIL %s[%lld]: got %.9g want %.9g\n", cs[i].name, (long long)k, got[k], cs[i].expect[k]);
                vt_failures++;
            }
    }
    VT_EXPECT(vd_st_find(f, "nope") == NULL && vd_st_find(f, "") == NULL);
    // A wrong expected shape names both shapes.
    int64_t wrong[2] = {5, 3};
    float tmp[64];
    s = vd_st_read_f32(vd_st_find(f, "w.f32"), tmp, 2, wrong, &err);
    VT_EXPECT(s != VD_OK && strstr(err.msg, "w.f32") && strstr(err.msg, "[3, 5]") && strstr(err.msg, "[5, 3]"));
    vd_tensor t32;
    s = vd_st_load_f32(vd_st_find(f, "w.f16"), &t32, &err);
    VT_EXPECT(s == VD_OK && t32.dtype == VD_F32 && t32.ndim == 2 && t32.shape[1] == 4 &&
              memcmp(t32.data, k_f16_vals, sizeof k_f16_vals) == 0);
    vd_tensor_free(&t32);
    vd_st_close(f);
    printf("ok   round trip of %d tensors (all dtypes, scalar, empty, 6 dims)\n", n);
}

// A file written by hand: keys out of storage order, metadata in the middle, a header length
// of 97 (the data region starts unaligned), trailing spaces in the header, a hole between tensors.
static void test_hand_built(void) {
    const char *hdr = "{\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]},\"__metadata__\":{\"k\":\"v\"},"
                      "\"a\":{\"dtype\":\"BF16\",\"shape\":[1,2],\"data_offsets\":[12,16]}}";
    char header[256];
    snprintf(header, sizeof header, "%-97s", hdr); // pad with spaces to 97 bytes
    uint8_t data[16] = {0};
    float b0 = -1.25f, b1 = 1e-3f;
    memcpy(data + 4, &b0, 4);
    memcpy(data + 8, &b1, 4);
    memcpy(data + 12, &k_bf16_bits[3], 2);
    memcpy(data + 14, &k_bf16_bits[1], 2);
    size_t len;
    uint8_t *bytes = st_build(strlen(header), header, data, sizeof data, &len);
    const char *p = path_in(g_dir, "hand.safetensors");
    VT_EXPECT(st_write_bytes(p, bytes, len) == 0);
    free(bytes);
    vd_st_file *f = NULL;
    vd_error err = {0};
    vd_status s = vd_st_open(&f, p, &err);
    VT_EXPECT(s == VD_OK);
    if (s != VD_OK) { printf("open: %s\n", err.msg); return; }
    VT_EXPECT(vd_st_count(f) == 2 && strcmp(vd_st_at(f, 0)->name, "b") == 0 && strcmp(vd_st_at(f, 1)->name, "a") == 0);
    VT_EXPECT(strcmp(vd_st_metadata(f), "{\"k\":\"v\"}") == 0);
    const vd_st_tensor *b = vd_st_find(f, "b"), *a = vd_st_find(f, "a");
    VT_EXPECT(((uintptr_t)b->data % 4) != 0); // exercises the unaligned path
    float got[2];
    VT_EXPECT(vd_st_read_f32(b, got, 1, (int64_t[]){2}, &err) == VD_OK && got[0] == b0 && got[1] == b1);
    VT_EXPECT(vd_st_read_f32(a, got, 0, NULL, &err) == VD_OK && got[0] == 3.140625f && got[1] == -3.0f);
    vd_st_close(f);
    printf("ok   hand-built file (unaligned data region, padding, hole, metadata)\n");
}

static void write_one(const char *path, const char *name, float v) {
    float d[3] = {v, v + 1, v + 2};
    vd_st_write_entry e = {name, VD_F32, 1, (int64_t[]){3}, d};
    vd_error err = {0};
    VT_EXPECT(vd_st_write(path, &e, 1, NULL, &err) == VD_OK);
}

static void write_text(const char *path, const char *text) { VT_EXPECT(st_write_bytes(path, text, strlen(text)) == 0); }

static vd_status set_check(const char *path, int n_expect, vd_error *err) {
    vd_st_set *s = NULL;
    vd_status st = vd_st_set_open(&s, path, err);
    if (st != VD_OK) return st;
    VT_EXPECT(vd_st_set_count(s) == (size_t)n_expect);
    const vd_st_tensor *c = vd_st_set_find(s, "c");
    float got[3];
    if (n_expect == 3) {
        VT_EXPECT(vd_st_set_n_files(s) == 2 && c && vd_st_read_f32(c, got, 0, NULL, err) == VD_OK && got[2] == 32.0f);
        VT_EXPECT(vd_st_set_find(s, "a") && vd_st_set_find(s, "b") && !vd_st_set_find(s, "d"));
    }
    vd_st_set_close(s);
    return VD_OK;
}

static void test_sharded(void) {
    char d[600];
    snprintf(d, sizeof d, "%s/sharded", g_dir);
    VT_EXPECT(mkdir(d, 0700) == 0);
    float d1[4] = {1, 2, 3, 4};
    vd_st_write_entry e1[2] = {{"a", VD_F32, 1, (int64_t[]){1}, d1}, {"b", VD_F32, 1, (int64_t[]){3}, d1 + 1}};
    vd_error err = {0};
    VT_EXPECT(vd_st_write(path_in(d, "model-00001-of-00002.safetensors"), e1, 2, NULL, &err) == VD_OK);
    write_one(path_in(d, "model-00002-of-00002.safetensors"), "c", 30.0f);
    write_text(path_in(d, "model.safetensors.index.json"),
               "{\"metadata\":{\"total_size\":28},\"weight_map\":{\"a\":\"model-00001-of-00002.safetensors\","
               "\"c\":\"model-00002-of-00002.safetensors\",\"b\":\"model-00001-of-00002.safetensors\"}}");
    vd_status s = set_check(path_in(d, "model.safetensors.index.json"), 3, &err);
    VT_EXPECT(s == VD_OK);
    if (s != VD_OK) printf("index: %s\n", err.msg);
    s = set_check(d, 3, &err); // the directory resolves to the index
    VT_EXPECT(s == VD_OK);
    if (s != VD_OK) printf("dir: %s\n", err.msg);
    // Index errors.
    struct { const char *json; vd_status code; const char *needle; } bad[] = {
        {"{\"weight_map\":{\"a\":\"model-00001-of-00002.safetensors\",\"zz\":\"model-00002-of-00002.safetensors\"}}",
         VD_ERR_FORMAT, "'zz'"},
        {"{\"weight_map\":{\"a\":\"../model-00001-of-00002.safetensors\"}}", VD_ERR_FORMAT, "'a'"},
        {"{\"weight_map\":{\"a\":\"/etc/passwd\"}}", VD_ERR_FORMAT, "'a'"},
        {"{\"weight_map\":{\"a\":7}}", VD_ERR_FORMAT, "'a'"},
        {"{\"weight_map\":{\"a\":\"missing.safetensors\"}}", VD_ERR_IO, "missing.safetensors"},
        {"{\"weights\":{}}", VD_ERR_FORMAT, "weight_map"},
        {"{\"weight_map\":", VD_ERR_FORMAT, "invalid JSON"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *ip = path_in(d, "bad.safetensors.index.json");
        write_text(ip, bad[i].json);
        vd_error_clear(&err);
        s = set_check(ip, 0, &err);
        bool ok = s == bad[i].code && strstr(err.msg, bad[i].needle);
        printf("%s bad index %zu: %s\n", ok ? "ok  " : "FAIL", i, err.msg);
        if (!ok) vt_failures++;
    }
    // A tensor stored in two shards.
    write_one(path_in(d, "dup.safetensors"), "a", 5.0f);
    write_text(path_in(d, "dup.safetensors.index.json"),
               "{\"weight_map\":{\"a\":\"model-00001-of-00002.safetensors\",\"b\":\"dup.safetensors\"}}");
    s = set_check(path_in(d, "dup.safetensors.index.json"), 0, &err);
    VT_EXPECT(s == VD_ERR_FORMAT && strstr(err.msg, "'a'") && strstr(err.msg, "two shards"));
    // The directory now holds three index files; model.safetensors.index.json is preferred.
    VT_EXPECT(set_check(d, 3, &err) == VD_OK);
    printf("ok   sharded index sets\n");
}

static void test_directories(void) {
    char d[600];
    vd_error err = {0};
    snprintf(d, sizeof d, "%s/empty", g_dir);
    VT_EXPECT(mkdir(d, 0700) == 0);
    VT_EXPECT(set_check(d, 0, &err) == VD_ERR_IO && strstr(err.msg, "no .safetensors"));

    snprintf(d, sizeof d, "%s/two", g_dir);
    VT_EXPECT(mkdir(d, 0700) == 0);
    write_one(path_in(d, "x.safetensors"), "x", 1);
    VT_EXPECT(set_check(d, 1, &err) == VD_OK); // the only file
    write_one(path_in(d, "y.safetensors"), "y", 1);
    VT_EXPECT(set_check(d, 0, &err) == VD_ERR_INVALID_ARG && strstr(err.msg, "x.safetensors") &&
              strstr(err.msg, "y.safetensors"));
    write_one(path_in(d, "diffusion_pytorch_model.safetensors"), "c", 30);
    vd_st_set *s = NULL;
    VT_EXPECT(vd_st_set_open(&s, d, &err) == VD_OK && vd_st_set_count(s) == 1 && vd_st_set_find(s, "c"));
    VT_EXPECT(strstr(vd_st_path(vd_st_set_file(s, 0)), "diffusion_pytorch_model.safetensors") != NULL);
    vd_st_set_close(s);
    s = NULL;
    VT_EXPECT(vd_st_set_open(&s, path_in(d, "y.safetensors"), &err) == VD_OK && vd_st_set_find(s, "y"));
    vd_st_set_close(s);
    VT_EXPECT(vd_st_set_open(&s, path_in(d, "nothing.safetensors"), &err) == VD_ERR_IO && s == NULL);
    vd_st_file *f = NULL;
    VT_EXPECT(vd_st_open(&f, d, &err) == VD_ERR_IO && f == NULL && strstr(err.msg, "regular file"));
    printf("ok   directory opening\n");
}

static void test_writer_errors(void) {
    float v[2] = {1, 2};
    vd_error err = {0};
    const char *p = path_in(g_dir, "w.safetensors");
    write_text(p, "previous contents");
    vd_st_write_entry dup[2] = {{"t", VD_F32, 1, (int64_t[]){2}, v}, {"t", VD_F32, 1, (int64_t[]){1}, v}};
    VT_EXPECT(vd_st_write(p, dup, 2, NULL, &err) == VD_ERR_INVALID_ARG && strstr(err.msg, "'t'"));
    vd_st_write_entry one = {"t", VD_F32, 1, (int64_t[]){2}, v};
    VT_EXPECT(vd_st_write(p, &one, 1, "{\"n\":3}", &err) == VD_ERR_INVALID_ARG && strstr(err.msg, "metadata"));
    VT_EXPECT(vd_st_write(p, &one, 1, "[1]", &err) == VD_ERR_INVALID_ARG);
    vd_st_write_entry neg = {"neg", VD_F32, 1, (int64_t[]){-2}, v};
    VT_EXPECT(vd_st_write(p, &neg, 1, NULL, &err) == VD_ERR_INVALID_ARG && strstr(err.msg, "'neg'"));
    vd_st_write_entry meta = {"__metadata__", VD_F32, 1, (int64_t[]){2}, v};
    VT_EXPECT(vd_st_write(p, &meta, 1, NULL, &err) == VD_ERR_INVALID_ARG);
    size_t n;
    uint8_t *b = st_read_bytes(p, &n);
    VT_EXPECT(b && n == 17 && memcmp(b, "previous contents", 17) == 0); // untouched
    free(b);
    VT_EXPECT(!st_file_exists(path_in(g_dir, "w.safetensors.tmp")));
    VT_EXPECT(vd_st_write(path_in(g_dir, "no/such/dir.safetensors"), &one, 1, NULL, &err) == VD_ERR_IO);
    VT_EXPECT(!st_file_exists(path_in(g_dir, "no/such/dir.safetensors")));
    // Zero tensors is a valid file.
    VT_EXPECT(vd_st_write(p, NULL, 0, NULL, &err) == VD_OK);
    vd_st_file *f = NULL;
    VT_EXPECT(vd_st_open(&f, p, &err) == VD_OK && vd_st_count(f) == 0 && vd_st_metadata(f) == NULL);
    vd_st_close(f);
    printf("ok   writer errors leave no output\n");
}

// `--check-py FILE`: a file written by the safetensors Python package (tests/st_interop.py):
// float tensors hold (i - 7) / 2, integer ones i - 7 (U8: i), BOOL i % 2, in row-major order.
static int check_py_file(const char *path) {
    vd_st_file *f = NULL;
    vd_error err = {0};
    if (vd_st_open(&f, path, &err) != VD_OK) {
        printf("FAIL open: %s\n", err.msg);
        return 1;
    }
    for (size_t i = 0; i < vd_st_count(f); i++) {
        const vd_st_tensor *t = vd_st_at(f, i);
        int64_t n = 1;
        for (int d = 0; d < t->ndim; d++) n *= t->shape[d];
        float *got = malloc((size_t)(n ? n : 1) * sizeof *got);
        float *want = malloc((size_t)(n ? n : 1) * sizeof *want);
        bool is_float = t->dtype == VD_F32 || t->dtype == VD_F16 || t->dtype == VD_BF16 || t->dtype == VD_F64;
        for (int64_t k = 0; k < n; k++)
            want[k] = is_float ? (float)(k - 7) * 0.5f : t->dtype == VD_U8 ? (float)k : (float)(k - 7);
        if (strcmp(t->name, "t.scalar") == 0) want[0] = 2.5f;
        if (t->dtype == VD_BOOL) {
            const uint8_t *b = t->data;
            for (int64_t k = 0; k < n; k++) VT_EXPECT(b[k] == (uint8_t)(k % 2));
            printf("ok   %s: %lld bools\n", t->name, (long long)n);
        } else {
            VT_EXPECT(vd_st_read_f32(t, got, 0, NULL, &err) == VD_OK);
            vt_check(t->name, got, want, n, 0.0, 0.0);
        }
        free(got);
        free(want);
    }
    vd_st_close(f);
    return vt_finish("test_safetensors --check-py");
}

static void remove_tree(const char *dir) {
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) printf("note: could not remove %s\n", dir);
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "--check-py") == 0) return check_py_file(argv[2]);
    if (st_mkdtemp(g_dir, sizeof g_dir, "st") != 0) {
        printf("cannot create a temp dir\n");
        return 1;
    }
    test_round_trip();
    test_hand_built();
    test_sharded();
    test_directories();
    test_writer_errors();
    if (!vt_failures) remove_tree(g_dir);
    else printf("files kept in %s\n", g_dir);
    return vt_finish("test_safetensors");
}
