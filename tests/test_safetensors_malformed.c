// Malformed safetensors inputs, written byte by byte by this test: each must be refused with
// the expected status (VD_ERR_FORMAT, or VD_ERR_UNSUPPORTED for valid-but-foreign dtypes and
// too many dims) and a message that names the offending tensor and values. Every case runs
// twice: vd_st_parse on an exactly sized heap buffer (so ASan builds catch any over-read) and
// vd_st_open on a file. A few tricky-but-valid files must still open.
#include <string.h>
#include <unistd.h>

#include "lib/safetensors.h"
#include "st_test_files.h"
#include "test_util.h"

static char g_dir[512];

typedef struct {
    const char *what;
    const char *header;
    uint64_t hlen;      // length field; 0 = strlen(header)
    size_t data_len;    // zero bytes appended after the header
    vd_status code;
    const char *needle[3]; // substrings the message must contain (NULL ends)
} bad_case;

#define F32_1 "\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]"

static const bad_case k_cases[] = {
    {"bad JSON: unclosed object", "{\"a\":{" F32_1 "}", 0, 4, VD_ERR_FORMAT, {"invalid", "ends at file byte 61"}},
    {"bad JSON: missing value", "{\"a\":}", 0, 0, VD_ERR_FORMAT, {"invalid"}},
    {"bad JSON: not JSON", "hello world!", 0, 0, VD_ERR_FORMAT, {"invalid", "hello"}},
    {"bad JSON: trailing garbage", "{\"a\":{" F32_1 "}} xx", 0, 4, VD_ERR_FORMAT, {"invalid", "xx"}},
    {"bad JSON: empty header", "", 0, 0, VD_ERR_FORMAT, {"invalid"}},
    {"header is an array", "[1,2,3]", 0, 0, VD_ERR_FORMAT, {"an array", "JSON object"}},
    {"offsets past the end", "{\"w.big\":{\"dtype\":\"F32\",\"shape\":[250],\"data_offsets\":[0,1000]}}", 0, 16,
     VD_ERR_FORMAT, {"'w.big'", "1000", "16 bytes"}},
    {"overlapping tensors", "{\"t.one\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
     "\"t.two\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[8,24]}}", 0, 24, VD_ERR_FORMAT,
     {"'t.one'", "'t.two'", "overlap"}},
    {"identical ranges", "{\"t.one\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
     "\"t.two\":{\"dtype\":\"I32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}", 0, 16, VD_ERR_FORMAT, {"'t.one'", "'t.two'"}},
    {"nested ranges", "{\"outer\":{\"dtype\":\"F32\",\"shape\":[8],\"data_offsets\":[0,32]},"
     "\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[32,36]},"
     "\"inner\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}", 0, 36, VD_ERR_FORMAT, {"'outer'", "'inner'"}},
    {"unknown dtype", "{\"w.x\":{\"dtype\":\"F33\",\"shape\":[1],\"data_offsets\":[0,4]}}", 0, 4, VD_ERR_FORMAT,
     {"'w.x'", "F33"}},
    {"dtype not a string", "{\"w.x\":{\"dtype\":5,\"shape\":[1],\"data_offsets\":[0,4]}}", 0, 4, VD_ERR_FORMAT,
     {"'w.x'", "dtype"}},
    {"foreign dtype F8", "{\"w.x\":{\"dtype\":\"F8_E4M3\",\"shape\":[4],\"data_offsets\":[0,4]}}", 0, 4,
     VD_ERR_UNSUPPORTED, {"'w.x'", "F8_E4M3"}},
    {"byte size mismatch", "{\"w.m\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 0, 8, VD_ERR_FORMAT,
     {"'w.m'", "8 bytes", "needs 12"}},
    {"negative dim", "{\"w.n\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 0, 4, VD_ERR_FORMAT,
     {"'w.n'", "shape[0]", "-1"}},
    {"overflowing dims", "{\"w.h\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,4294967296],"
     "\"data_offsets\":[0,4]}}", 0, 4, VD_ERR_FORMAT, {"'w.h'", "overflows"}},
    {"overflow through dtype size", "{\"w.h\":{\"dtype\":\"F64\",\"shape\":[4294967296,1073741824],"
     "\"data_offsets\":[0,4]}}", 0, 4, VD_ERR_FORMAT, {"'w.h'", "overflows"}},
    {"dim above 2^53", "{\"w.h\":{\"dtype\":\"F32\",\"shape\":[1e300],\"data_offsets\":[0,4]}}", 0, 4, VD_ERR_FORMAT,
     {"'w.h'", "is 1e+300,"}},
    {"fractional dim", "{\"w.h\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", 0, 4, VD_ERR_FORMAT,
     {"'w.h'", "1.5"}},
    {"string dim", "{\"w.h\":{\"dtype\":\"F32\",\"shape\":[\"1\"],\"data_offsets\":[0,4]}}", 0, 4, VD_ERR_FORMAT,
     {"'w.h'", "a string"}},
    {"shape not an array", "{\"w.h\":{\"dtype\":\"F32\",\"shape\":1,\"data_offsets\":[0,4]}}", 0, 4, VD_ERR_FORMAT,
     {"'w.h'", "shape"}},
    {"too many dims", "{\"w.7\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1],\"data_offsets\":[0,4]}}", 0, 4,
     VD_ERR_UNSUPPORTED, {"'w.7'", "7 dims"}},
    {"entry is a number", "{\"w.e\":5}", 0, 0, VD_ERR_FORMAT, {"'w.e'", "a number"}},
    {"entry is an array", "{\"w.e\":[1,2]}", 0, 0, VD_ERR_FORMAT, {"'w.e'", "an array"}},
    {"entry is a string", "{\"ok\":{" F32_1 "},\"w.e\":\"x\"}", 0, 4, VD_ERR_FORMAT, {"'w.e'", "a string"}},
    {"entry is null", "{\"w.e\":null}", 0, 0, VD_ERR_FORMAT, {"'w.e'", "null"}},
    {"metadata not an object", "{\"__metadata__\":3}", 0, 0, VD_ERR_FORMAT, {"__metadata__"}},
    {"metadata twice", "{\"__metadata__\":{},\"__metadata__\":{}}", 0, 0, VD_ERR_FORMAT, {"__metadata__", "once"}},
    {"missing data_offsets", "{\"w.o\":{\"dtype\":\"F32\",\"shape\":[1]}}", 0, 4, VD_ERR_FORMAT,
     {"'w.o'", "'data_offsets' is missing"}},
    {"one offset", "{\"w.o\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", 0, 4, VD_ERR_FORMAT, {"'w.o'"}},
    {"three offsets", "{\"w.o\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}", 0, 8, VD_ERR_FORMAT, {"'w.o'"}},
    {"negative offset", "{\"w.o\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}", 0, 4, VD_ERR_FORMAT,
     {"'w.o'", "is [-4,0]"}},
    {"string offsets", "{\"w.o\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[\"0\",\"4\"]}}", 0, 4, VD_ERR_FORMAT,
     {"'w.o'"}},
    {"begin after end", "{\"w.o\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,4]}}", 0, 8, VD_ERR_FORMAT,
     {"'w.o'", "[8, 4]"}},
    {"offset above 2^64", "{\"w.o\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[18446744073709551612,"
     "18446744073709551616]}}", 0, 4, VD_ERR_FORMAT, {"'w.o'"}},
    {"duplicate names", "{\"dup.w\":{" F32_1 "},\"dup.w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 0, 8,
     VD_ERR_FORMAT, {"'dup.w'", "twice"}},
    {"absurd header length", "{}", 1ull << 63, 0, VD_ERR_FORMAT, {"header length 9223372036854775808", "limit"}},
    {"header length just over the bound", "{}", 100000001, 0, VD_ERR_FORMAT, {"100000001", "limit"}},
    {"header length > file", "{}", 500, 100, VD_ERR_FORMAT, {"header length 500", "102 bytes", "truncated"}},
    {"length field cuts the JSON", "{\"a\":{" F32_1 "}}", 10, 0, VD_ERR_FORMAT, {"invalid"}},
};

// A nesting bomb must fail cleanly (cJSON caps nesting), not overflow the stack.
static char *deep_header(int depth) {
    char *h = malloc((size_t)depth * 2 + 16);
    size_t o = 0;
    o += (size_t)sprintf(h, "{\"a\":");
    for (int i = 0; i < depth; i++) h[o++] = '[';
    for (int i = 0; i < depth; i++) h[o++] = ']';
    h[o++] = '}';
    h[o] = 0;
    return h;
}

// Runs one buffer through both entry points. needle may be NULL-terminated list; prefix is the
// expected start of the file-path message.
static void expect_bad(const char *what, const uint8_t *bytes, size_t len, vd_status code, const char *const *needle) {
    uint8_t *exact = malloc(len ? len : 1); // exactly sized: ASan catches reads past the end
    if (len) memcpy(exact, bytes, len);
    vd_st_tensor *ts = (vd_st_tensor *)(uintptr_t)1;
    size_t n = 99;
    char *meta = (char *)(uintptr_t)1;
    vd_error err = {0};
    vd_status s = vd_st_parse(exact, len, &ts, &n, &meta, &err);
    bool ok = s == code && ts == NULL && n == 0 && meta == NULL && strncmp(err.msg, "vd_st_parse: ", 13) == 0;
    for (int i = 0; ok && i < 3 && needle[i]; i++) ok = strstr(err.msg, needle[i]) != NULL;
    printf("%s %-34s parse: [%s] %s\n", ok ? "ok  " : "FAIL", what, vd_status_str(s), err.msg);
    if (!ok) vt_failures++;
    if (s == VD_OK) vd_st_tensors_free(ts, n, meta);
    free(exact);

    char path[700];
    snprintf(path, sizeof path, "%s/bad.safetensors", g_dir);
    VT_EXPECT(st_write_bytes(path, bytes, len) == 0);
    vd_st_file *f = (vd_st_file *)(uintptr_t)1;
    vd_error_clear(&err);
    s = vd_st_open(&f, path, &err);
    ok = s == code && f == NULL && strstr(err.msg, "vd_st_open: ") == err.msg && strstr(err.msg, path);
    for (int i = 0; ok && i < 3 && needle[i]; i++) ok = strstr(err.msg, needle[i]) != NULL;
    if (!ok) {
        printf("FAIL %-34s open: [%s] %s\n", what, vd_status_str(s), err.msg);
        vt_failures++;
    }
    if (s == VD_OK) vd_st_close(f);
}

static void test_cases(void) {
    for (size_t i = 0; i < sizeof k_cases / sizeof k_cases[0]; i++) {
        const bad_case *c = &k_cases[i];
        uint8_t *zeros = calloc(c->data_len + 1, 1);
        size_t len;
        uint8_t *b = st_build(c->hlen ? c->hlen : strlen(c->header), c->header, zeros, c->data_len, &len);
        expect_bad(c->what, b, len, c->code, c->needle);
        free(b);
        free(zeros);
    }
    // NUL byte inside the header (strlen-based building cannot express it).
    static const char nul_hdr[10] = "{\"a\":\"\0\"}";
    size_t len;
    uint8_t *b = st_build(9, "", NULL, 0, &len);
    b = realloc(b, 8 + 9);
    memcpy(b + 8, nul_hdr, 9);
    expect_bad("NUL byte in header", b, 8 + 9, VD_ERR_FORMAT, (const char *[]){"NUL", "file byte 14", NULL});
    free(b);
    char *deep = deep_header(20000);
    b = st_build(strlen(deep), deep, NULL, 0, &len);
    expect_bad("nesting bomb", b, len, VD_ERR_FORMAT, (const char *[]){"invalid", NULL});
    free(b);
    free(deep);
    uint8_t small[3] = {1, 0, 0};
    expect_bad("empty file", small, 0, VD_ERR_FORMAT, (const char *[]){"0 bytes", "8-byte", NULL});
    expect_bad("3-byte file", small, 3, VD_ERR_FORMAT, (const char *[]){"3 bytes", "truncated", NULL});
}

// A valid two-tensor file cut at many points: every cut is refused, with the message that fits
// the region the cut falls in.
static void test_truncation(void) {
    float w[16] = {0}, bias[4] = {0};
    vd_st_write_entry e[2] = {{"blocks.3.ffn.0.weight", VD_F32, 2, (int64_t[]){4, 4}, w},
                              {"blocks.3.ffn.0.bias", VD_F32, 1, (int64_t[]){4}, bias}};
    char path[700];
    snprintf(path, sizeof path, "%s/full.safetensors", g_dir);
    vd_error err = {0};
    VT_EXPECT(vd_st_write(path, e, 2, NULL, &err) == VD_OK);
    size_t len = 0;
    uint8_t *full = st_read_bytes(path, &len);
    if (!full) {
        vt_failures++;
        return;
    }
    uint64_t h = 0;
    for (int i = 7; i >= 0; i--) h = h << 8 | full[i];
    size_t cuts[] = {0, 1, 7, 8, 9, 8 + h / 2, 8 + h - 1, 8 + h, 8 + h + 1, 8 + h + 16, len - 17, len - 16, len - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        size_t c = cuts[i];
        char what[64];
        snprintf(what, sizeof what, "truncated at %zu of %zu", c, len);
        const char *needle[4] = {NULL, NULL, NULL, NULL};
        char ends[64];
        if (c < 8) {
            needle[0] = "8-byte";
            needle[1] = "truncated";
        } else if (c < 8 + h) {
            needle[0] = "only";
            needle[1] = "truncated";
        } else {
            // The weight (64 bytes) is stored first, the bias (16 bytes) after it.
            bool bias_only = c - 8 - h >= 64;
            needle[0] = bias_only ? "'blocks.3.ffn.0.bias'" : "'blocks.3.ffn.0.weight'";
            snprintf(ends, sizeof ends, "ends at byte %d but the data region has %zu bytes", bias_only ? 80 : 64,
                     (size_t)(c - 8 - h));
            needle[1] = ends;
            needle[2] = "truncated";
        }
        expect_bad(what, full, c, VD_ERR_FORMAT, needle);
    }
    // The uncut file is fine.
    vd_st_tensor *ts = NULL;
    size_t n = 0;
    VT_EXPECT(vd_st_parse(full, len, &ts, &n, NULL, &err) == VD_OK && n == 2);
    vd_st_tensors_free(ts, n, NULL);
    free(full);
}

// Valid edge cases that must not be mistaken for corruption.
static void test_valid_edges(void) {
    const char *hdrs[] = {
        "{}",
        "{\"z0\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,8]},"
        "\"z1\":{\"dtype\":\"BF16\",\"shape\":[3,0],\"data_offsets\":[8,8]},"
        "\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", // empty tensors inside another's range
        "{\"a\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[10,12]}}     ", // a hole and trailing spaces
        "{\"s\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[0,8]},\"__metadata__\":{\"k\":\"v\",\"n\":\"1\"}}",
    };
    size_t expect_n[] = {0, 3, 1, 1};
    for (size_t i = 0; i < sizeof hdrs / sizeof hdrs[0]; i++) {
        uint8_t zeros[16] = {0};
        size_t len;
        uint8_t *b = st_build(strlen(hdrs[i]), hdrs[i], zeros, 16, &len);
        vd_st_tensor *ts = NULL;
        size_t n = 0;
        char *meta = NULL;
        vd_error err = {0};
        vd_status s = vd_st_parse(b, len, &ts, &n, &meta, &err);
        bool ok = s == VD_OK && n == expect_n[i];
        printf("%s valid edge case %zu (%zu tensors)%s%s\n", ok ? "ok  " : "FAIL", i, n, s ? ": " : "", s ? err.msg : "");
        if (!ok) vt_failures++;
        if (s == VD_OK && i == 3) VT_EXPECT(meta && strstr(meta, "\"k\":\"v\"") && ts[0].ndim == 0);
        vd_st_tensors_free(ts, n, meta);
        free(b);
    }
}

int main(void) {
    if (st_mkdtemp(g_dir, sizeof g_dir, "stbad") != 0) return 1;
    test_cases();
    test_truncation();
    test_valid_edges();
    char path[700];
    snprintf(path, sizeof path, "%s/bad.safetensors", g_dir);
    remove(path);
    snprintf(path, sizeof path, "%s/full.safetensors", g_dir);
    remove(path);
    rmdir(g_dir);
    return vt_finish("test_safetensors_malformed");
}
