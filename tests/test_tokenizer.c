// Tokenizer parity: ids from the C tokenizer vs the `tokenizers` library on four tokenizer.json
// layouts (umT5 hub layout with the nmt_nfkc charsmap; WhitespaceSplit + byte fallback with a
// custom charsmap; prepend_scheme "first" with lstrip/rstrip and normalized added tokens;
// Strip + "never") and ~80 strings (ASCII, accents, decomposed accents, fullwidth, CJK, Hangul
// jamo, emoji sequences, controls, special tokens in text, invalid UTF-8, over-long text),
// written by scripts/gen_text_fixtures.py. Also: grapheme clusters vs Python `regex` \X,
// U+FFFD repair vs Python's errors="replace", bad files, and the load time of a 256,384-piece
// file. Replay one case: test_tokenizer <case index>.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "dit/tokenizer_charsmap.h"
#include "dit/tokenizer_clean.h"
#include "dit/tokenizer_hf.h"
#include "dit/tokenizer_unicode.h"
#include "lib/log.h"
#include "test_util.h"

static char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = (char *)malloc((size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    if (b) b[n] = 0;
    if (len) *len = (size_t)n;
    return b;
}

static void print_text(const uint8_t *s, size_t n) {
    for (size_t i = 0; i < n && i < 80; i++)
        if (s[i] >= 0x20 && s[i] < 0x7F) fputc(s[i], stderr);
        else fprintf(stderr, "\\x%02x", s[i]);
    if (n > 80) fprintf(stderr, "...(%zu bytes)", n);
}

static void test_parity(int only) {
    char path[1024];
    snprintf(path, sizeof path, "%s", vt_src_path("tests/data/text/tokenizer_cases.json"));
    char *json = slurp(path, NULL);
    VT_EXPECT(json != NULL);
    if (!json) return;
    cJSON *cases = cJSON_Parse(json);
    free(json);
    VT_EXPECT(cJSON_IsArray(cases));
    const char *names[8] = {0};
    vd_tokenizer *toks[8] = {0};
    int n_tok = 0, idx = -1, n_ok = 0, n_fail = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, cases) {
        idx++;
        if (only >= 0 && idx != only) continue;
        const char *name = cJSON_GetObjectItem(c, "tokenizer")->valuestring;
        int k = 0;
        while (k < n_tok && strcmp(names[k], name)) k++;
        if (k == n_tok) {
            char rel[256];
            snprintf(rel, sizeof rel, "tests/data/text/%s", name);
            vd_error err = {0};
            if (vd_tokenizer_load(&toks[k], vt_src_path(rel), &err) != VD_OK) {
                fprintf(stderr, "FAIL loading %s: %s\n", name, err.msg);
                vt_failures++;
                break;
            }
            names[n_tok++] = name;
        }
        uint8_t *text;
        size_t tlen;
        vd_error err = {0};
        VT_EXPECT(vd_base64_decode(cJSON_GetObjectItem(c, "text_b64")->valuestring, &text, &tlen, &err) == VD_OK);
        vd_tokenize_opts o;
        vd_tokenize_opts_init(&o);
        o.max_len = cJSON_GetObjectItem(c, "max_len")->valueint;
        vd_tokens tk;
        vd_status st = vd_tokenizer_encode(toks[k], (const char *)text, tlen, &o, &tk, &err);
        const cJSON *ids = cJSON_GetObjectItem(c, "ids");
        int n_real = cJSON_GetObjectItem(c, "n_real")->valueint;
        bool ok = st == VD_OK && tk.n == o.max_len && tk.n_real == n_real;
        int first_bad = -1;
        for (int i = 0; ok && i < o.max_len; i++) {
            int want = i < n_real ? cJSON_GetArrayItem(ids, i)->valueint : 0;
            if (tk.ids[i] != want || tk.mask[i] != (i < n_real)) {
                ok = false;
                first_bad = i;
            }
        }
        if (ok) {
            n_ok++;
        } else {
            n_fail++;
            vt_failures++;
            fprintf(stderr, "FAIL case %d (%s, max_len %d): \"", idx, name, o.max_len);
            print_text(text, tlen);
            fprintf(stderr, "\"\n  status %s %s; n_real %d want %d; first mismatch at %d\n  got :",
                    vd_status_str(st), st ? err.msg : "", st ? -1 : tk.n_real, n_real, first_bad);
            for (int i = 0; st == VD_OK && i < tk.n_real && i < 40; i++) fprintf(stderr, " %d", tk.ids[i]);
            fprintf(stderr, "\n  want:");
            for (int i = 0; i < n_real && i < 40; i++) fprintf(stderr, " %d", cJSON_GetArrayItem(ids, i)->valueint);
            fprintf(stderr, "\n  replay: test_tokenizer %d\n", idx);
        }
        if (st == VD_OK) vd_tokens_free(&tk);
        free(text);
    }
    printf("parity: %d cases ok, %d failed (%d tokenizer files)\n", n_ok, n_fail, n_tok);
    for (int k = 0; k < n_tok; k++) vd_tokenizer_free(toks[k]);
    cJSON_Delete(cases);
}

static void test_unicode(void) {
    char *json = slurp(vt_src_path("tests/data/text/unicode_cases.json"), NULL);
    VT_EXPECT(json != NULL);
    if (!json) return;
    cJSON *cases = cJSON_Parse(json);
    free(json);
    int idx = 0, bad_g = 0, bad_s = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, cases) {
        uint8_t *raw, *want;
        size_t rlen, wlen, clen, nrep;
        vd_error err = {0};
        VT_EXPECT(vd_base64_decode(cJSON_GetObjectItem(c, "text_b64")->valuestring, &raw, &rlen, &err) == VD_OK);
        VT_EXPECT(vd_base64_decode(cJSON_GetObjectItem(c, "sanitized_b64")->valuestring, &want, &wlen, &err) == VD_OK);
        char *clean = vd_utf8_sanitize((const char *)raw, rlen, &clen, &nrep);
        if (clen != wlen || memcmp(clean, want, wlen)) {
            bad_s++;
            fprintf(stderr, "FAIL unicode case %d: U+FFFD repair differs from Python\n", idx);
        }
        uint8_t *wsc;
        size_t wlen2, olen;
        VT_EXPECT(vd_base64_decode(cJSON_GetObjectItem(c, "ws_clean_b64")->valuestring, &wsc, &wlen2, &err) == VD_OK);
        char *cl = vd_text_whitespace_clean(clean, clen, &olen);
        if (olen != wlen2 || memcmp(cl, wsc, olen)) {
            bad_s++;
            fprintf(stderr, "FAIL unicode case %d: whitespace_clean differs from Python's re.sub(r'\\s+', ' ', t).strip()\n", idx);
        }
        free(cl);
        free(wsc);
        const cJSON *g = cJSON_GetObjectItem(c, "graphemes");
        size_t pos = 0;
        int gi = 0;
        bool gok = true;
        while (pos < clen) {
            size_t n = vd_grapheme_len((const uint8_t *)clean + pos, clen - pos);
            const cJSON *w = cJSON_GetArrayItem(g, gi++);
            if (!w || (size_t)w->valueint != n) {
                gok = false;
                fprintf(stderr, "FAIL unicode case %d: grapheme %d at byte %zu has %zu bytes, regex \\X says %d\n",
                        idx, gi - 1, pos, n, w ? w->valueint : -1);
                break;
            }
            pos += n;
        }
        if (gok && gi != cJSON_GetArraySize(g)) gok = false;
        bad_g += !gok;
        free(raw);
        free(want);
        free(clean);
        idx++;
    }
    printf("unicode: %d strings, %d grapheme mismatches, %d U+FFFD-repair or whitespace_clean mismatches (tables: Unicode %s)\n", idx,
           bad_g, bad_s, vd_unicode_data_version);
    vt_failures += bad_g + bad_s;
    cJSON_Delete(cases);
}

// Prompt cleaning vs Python: html.unescape (exact), ftfy's uncurl_quotes regexes, and the
// vd_wan_prompt_clean recipe (see tokenizer_clean.h; ftfy itself is only partly reproduced).
static void test_clean(void) {
    char *json = slurp(vt_src_path("tests/data/text/clean_cases.json"), NULL);
    VT_EXPECT(json != NULL);
    if (!json) return;
    cJSON *cases = cJSON_Parse(json);
    free(json);
    int idx = 0, bad = 0;
    const cJSON *c;
    static const char *fields[3] = {"unescape_b64", "uncurl_b64", "clean_b64"};
    cJSON_ArrayForEach(c, cases) {
        uint8_t *text;
        size_t tlen;
        vd_error err = {0};
        VT_EXPECT(vd_base64_decode(cJSON_GetObjectItem(c, "text_b64")->valuestring, &text, &tlen, &err) == VD_OK);
        for (int f = 0; f < 3; f++) {
            uint8_t *want;
            size_t wlen, glen = 0;
            VT_EXPECT(vd_base64_decode(cJSON_GetObjectItem(c, fields[f])->valuestring, &want, &wlen, &err) == VD_OK);
            char *got = f == 0 ? vd_text_html_unescape((const char *)text, tlen, &glen)
                      : f == 1 ? vd_text_uncurl_quotes((const char *)text, tlen, &glen)
                               : vd_wan_prompt_clean((const char *)text, tlen, &glen);
            if (!got || glen != wlen || memcmp(got, want, wlen)) {
                bad++;
                fprintf(stderr, "FAIL clean case %d (%s): \"", idx, fields[f]);
                print_text(text, tlen);
                fprintf(stderr, "\"\n  got  \"");
                if (got) print_text((const uint8_t *)got, glen);
                fprintf(stderr, "\"\n  want \"");
                print_text(want, wlen);
                fprintf(stderr, "\"\n");
            }
            free(got);
            free(want);
        }
        free(text);
        idx++;
    }
    printf("clean: %d strings x (html.unescape, uncurl_quotes, prompt_clean recipe), %d mismatches\n", idx, bad);
    vt_failures += bad;
    cJSON_Delete(cases);
}

// A JSON tokenizer around a small vocab, with a replaceable normalizer and model fragment.
static vd_status load_variant(const char *model, const char *normalizer, vd_error *err) {
    char buf[4096];
    snprintf(buf, sizeof buf,
             "{\"version\":\"1.0\",\"added_tokens\":[],\"normalizer\":%s,\"pre_tokenizer\":{\"type\":\"Metaspace\","
             "\"replacement\":\"\\u2581\",\"prepend_scheme\":\"always\",\"split\":true},\"post_processor\":null,"
             "\"model\":%s}", normalizer, model);
    vd_tokenizer *t = NULL;
    vd_status s = vd_tokenizer_load_json(&t, buf, strlen(buf), err);
    vd_tokenizer_free(t);
    return s;
}

typedef struct {
    const char *what;
    vd_status got, want;
} bad_case;

static void test_bad_input(void) {
    const char *good_model = "{\"type\":\"Unigram\",\"unk_id\":0,\"vocab\":[[\"<unk>\",0.0],[\"a\",-1.0]]}";
    vd_error err = {0};
    vd_tokenizer *t = NULL;
    bad_case r[16];
    int n = 0;
    r[n++] = (bad_case){"missing file", vd_tokenizer_load(&t, "/nonexistent/tokenizer.json", &err), VD_ERR_IO};
    printf("  missing file: %s\n", err.msg);
    r[n++] = (bad_case){"good", load_variant(good_model, "null", &err), VD_OK};
    r[n++] = (bad_case){"NFKC", load_variant(good_model, "{\"type\":\"NFKC\"}", &err), VD_ERR_UNSUPPORTED};
    printf("  NFKC: %s\n", err.msg);
    r[n++] = (bad_case){"Lowercase in Sequence",
                            load_variant(good_model, "{\"type\":\"Sequence\",\"normalizers\":[{\"type\":\"Lowercase\"}]}", &err),
                            VD_ERR_UNSUPPORTED};
    r[n++] = (bad_case){"regex", load_variant(good_model, "{\"type\":\"Replace\",\"pattern\":{\"Regex\":\"\\\\s+\"},\"content\":\" \"}", &err),
                            VD_ERR_UNSUPPORTED};
    printf("  regex: %s\n", err.msg);
    r[n++] = (bad_case){"bad base64", load_variant(good_model, "{\"type\":\"Precompiled\",\"precompiled_charsmap\":\"@@@@\"}", &err),
                            VD_ERR_FORMAT};
    // "AAEAAA==" = u32 256: a 256-byte trie in a 4-byte blob.
    r[n++] = (bad_case){"short charsmap", load_variant(good_model, "{\"type\":\"Precompiled\",\"precompiled_charsmap\":\"AAEAAA==\"}", &err),
                            VD_ERR_FORMAT};
    printf("  short charsmap: %s\n", err.msg);
    r[n++] = (bad_case){"BPE", load_variant("{\"type\":\"BPE\",\"vocab\":{},\"merges\":[]}", "null", &err), VD_ERR_UNSUPPORTED};
    r[n++] = (bad_case){"bad vocab entry", load_variant("{\"type\":\"Unigram\",\"unk_id\":0,\"vocab\":[[\"<unk>\"]]}", "null", &err),
                            VD_ERR_FORMAT};
    r[n++] = (bad_case){"unk out of range", load_variant("{\"type\":\"Unigram\",\"unk_id\":5,\"vocab\":[[\"<unk>\",0]]}", "null", &err),
                            VD_ERR_FORMAT};
    const char *trunc = "{\"model\":{\"type\":\"Unigram\",\"vocab\":[[\"a\",";
    r[n++] = (bad_case){"truncated JSON", vd_tokenizer_load_json(&t, trunc, strlen(trunc), &err), VD_ERR_FORMAT};
    printf("  truncated JSON: %s\n", err.msg);
    for (int i = 0; i < n; i++) {
        if (r[i].got != r[i].want) {
            fprintf(stderr, "FAIL bad input '%s': got %s, want %s\n", r[i].what, vd_status_str(r[i].got),
                    vd_status_str(r[i].want));
            vt_failures++;
        }
    }
    // An unknown character with no unk_id is an error, not a crash.
    const char *nounk = "{\"model\":{\"type\":\"Unigram\",\"unk_id\":null,\"vocab\":[[\"\\u2581a\",-1.0],[\"a\",-1.0],[\"\\u2581\",-2.0]]},"
                        "\"pre_tokenizer\":{\"type\":\"Metaspace\",\"replacement\":\"\\u2581\"}}";
    VT_EXPECT(vd_tokenizer_load_json(&t, nounk, strlen(nounk), &err) == VD_OK);
    if (t) {
        vd_tokenize_opts o;
        vd_tokenize_opts_init(&o);
        o.pad = false;
        vd_tokens tk;
        vd_status es = vd_tokenizer_encode(t, "a a", 3, &o, &tk, &err);
        VT_EXPECT(es == VD_OK);
        if (es == VD_OK) {
            VT_EXPECT(tk.n == 2 && tk.ids[0] == 0 && tk.ids[1] == 0);
            vd_tokens_free(&tk);
        }
        VT_EXPECT(vd_tokenizer_encode(t, "b", 1, &o, &tk, &err) == VD_ERR_UNSUPPORTED);
        o.pad = true;
        o.max_len = 8;
        VT_EXPECT(vd_tokenizer_encode(t, "a", 1, &o, &tk, &err) == VD_ERR_UNSUPPORTED);   // no pad id
        vd_tokenizer_free(t);
    }
}

// 256,384 pieces (the umT5 vocab size) with the nmt_nfkc charsmap of the umT5-layout fixture.
static void test_load_time(void) {
    char *small = slurp(vt_src_path("tests/data/text/tok_umt5.json"), NULL);
    VT_EXPECT(small != NULL);
    if (!small) return;
    cJSON *root = cJSON_Parse(small);
    free(small);
    cJSON *model = cJSON_GetObjectItem(root, "model");
    cJSON *vocab = cJSON_GetObjectItem(model, "vocab");
    int have = cJSON_GetArraySize(vocab);
    vt_rng rng;
    vt_rng_seed(&rng, 3);
    static const char *syll[] = {"ka", "ne", "▁", "zo", "ш", "ä", "猫", "한", "ri", "st", "ö", "语", "mu", "é", "qu", "ñ"};
    for (int i = have; i < 256384; i++) {
        char p[64];
        int len = 0, k = 1 + (int)(vt_uniform(&rng) * 6);
        for (int j = 0; j < k; j++) len += snprintf(p + len, sizeof p - (size_t)len, "%s", syll[(int)(vt_uniform(&rng) * 16)]);
        snprintf(p + len, sizeof p - (size_t)len, "%d", i);
        cJSON *e = cJSON_CreateArray();
        cJSON_AddItemToArray(e, cJSON_CreateString(p));
        cJSON_AddItemToArray(e, cJSON_CreateNumber(-5.0 - 10.0 * vt_uniform(&rng)));
        cJSON_AddItemToArray(vocab, e);
    }
    char *big = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    size_t blen = strlen(big);
    // The bound is on CPU time: wall time on a shared CI box measures the other jobs too.
    struct timespec t0, t1, c0, c1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
    vd_tokenizer *t = NULL;
    vd_error err = {0};
    vd_status s = vd_tokenizer_load_json(&t, big, blen, &err);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double wall = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    double sec = (double)(c1.tv_sec - c0.tv_sec) + 1e-9 * (double)(c1.tv_nsec - c0.tv_nsec);
    printf("load: %d pieces, %.1f MB of JSON in %.3f s CPU (%.3f s wall; bound 0.5 s CPU)\n",
           t ? t->model.n_pieces : -1, (double)blen / 1e6, sec, wall);
    VT_EXPECT(s == VD_OK && t && t->model.n_pieces == 256384);
    VT_EXPECT(sec < 0.5);
    if (t) {
        // A few lookups of synthetic pieces resolve to their ids.
        vd_tokenize_opts o;
        vd_tokenize_opts_init(&o);
        vd_tokens tk;
        vd_status es = vd_tokenizer_encode(t, "A cat walks on the grass.", 25, &o, &tk, &err);
        VT_EXPECT(es == VD_OK);
        if (es == VD_OK) vd_tokens_free(&tk);
    }
    vd_tokenizer_free(t);
    free(big);
}

// Corrupted files and random bytes must give a status, never a crash (run under ASan in the
// sanitizer build): 300 copies of a tokenizer.json with 1..8 random bytes overwritten (the
// charsmap, vocab and structure all get hit), each loaded and, when it loads, fed random text.
static void test_mutations(void) {
    size_t len;
    char *src = slurp(vt_src_path("tests/data/text/tok_ws_bytes.json"), &len);
    VT_EXPECT(src != NULL);
    if (!src) return;
    char *buf = (char *)malloc(len + 1);
    vt_rng rng;
    vt_rng_seed(&rng, 11);
    int loaded = 0, refused = 0;
    // Odd iterations: base64 characters of the charsmap replaced by other base64 characters, so
    // the file still parses and the double-array walk meets corrupt units and offsets.
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const char *cm = strstr(src, "\"precompiled_charsmap\":");
    size_t cm_a = 0, cm_n = 0;
    if (cm) {
        cm_a = (size_t)(strchr(cm + 23, '"') - src) + 1;
        cm_n = (size_t)(strchr(src + cm_a, '"') - src) - cm_a;
    }
    VT_EXPECT(cm_n > 1000);
    for (int it = 0; it < 300; it++) {
        memcpy(buf, src, len + 1);
        int k = 1 + (int)(vt_uniform(&rng) * 8);
        for (int j = 0; j < k; j++) {
            if (it & 1) buf[cm_a + (size_t)(vt_uniform(&rng) * (float)(cm_n - 4)) % (cm_n - 4)] = b64[(int)(vt_uniform(&rng) * 64) & 63];
            else buf[(size_t)(vt_uniform(&rng) * (float)len) % len] = (char)(vt_uniform(&rng) * 256);
        }
        vd_tokenizer *t = NULL;
        vd_error err = {0};
        if (vd_tokenizer_load_json(&t, buf, len, &err) != VD_OK) {
            VT_EXPECT(t == NULL && err.msg[0] != 0);
            refused++;
            continue;
        }
        loaded++;
        for (int r = 0; r < 4; r++) {
            // Random bytes, and random characters from a mixed alphabet (more charsmap hits).
            static const char *alpha[] = {"a", " ", "é", "e\xcc\x81", "\xef\xbc\xa1", "\xe2\x91\xa0", "\xef\xac\x81", "\xc2\xad", "猫", "\t", "😀"};
            char text[256];
            int n = 0;
            if (r & 1) {
                n = (int)(vt_uniform(&rng) * 63);
                for (int i = 0; i < n; i++) text[i] = (char)(vt_uniform(&rng) * 256);
            } else {
                for (int i = 0; i < 30; i++) {
                    const char *a = alpha[(int)(vt_uniform(&rng) * 11) % 11];
                    memcpy(text + n, a, strlen(a));
                    n += (int)strlen(a);
                }
            }
            vd_tokenize_opts o;
            vd_tokenize_opts_init(&o);
            vd_tokens tk;
            if (vd_tokenizer_encode(t, text, (size_t)n, &o, &tk, &err) == VD_OK) {
                for (int i = 0; i < tk.n; i++) VT_EXPECT(tk.ids[i] >= 0 && tk.ids[i] < t->vocab_size);
                vd_tokens_free(&tk);
            }
        }
        vd_tokenizer_free(t);
    }
    printf("mutations: 300 corrupted files, %d refused with a message, %d loaded and encoded random bytes\n", refused, loaded);
    free(buf);
    free(src);
}

int main(int argc, char **argv) {
    vd_log_set_level(VD_LOG_ERROR);   // the cases trigger truncation / invalid UTF-8 warnings on purpose
    int only = argc > 1 ? atoi(argv[1]) : -1;
    test_parity(only);
    if (only < 0) {
        test_unicode();
        test_clean();
        test_bad_input();
        test_mutations();
        test_load_time();
    }
    return vt_finish("test_tokenizer");
}
