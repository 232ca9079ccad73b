// `vdit tokenize --tokenizer FILE [options] "text"`: prints the token ids of a text as the
// Wan pipeline computes them (umT5 tokenizer.json; </s> appended; truncated to --max-len).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apps/commands.h"
#include "dit/tokenizer_hf.h"

static void tokenize_usage(FILE *f) {
    fprintf(f,
            "usage: vdit tokenize --tokenizer FILE [options] \"text\"\n"
            "  --tokenizer FILE  tokenizer.json with a Unigram model (e.g. Wan2.1 .../tokenizer/tokenizer.json)\n"
            "  --max-len N       truncate to N tokens, special tokens included (default 512; 0: no limit)\n"
            "  --pad             print all N ids, padded with the pad id (default: only the real tokens)\n"
            "  --no-special      do not append the post-processor's special tokens (</s>)\n"
            "  --pieces          print one \"id<TAB>piece\" line per token instead of one line of ids\n"
            "  --stdin           read the text from standard input instead of the argument\n");
}

static char *read_stdin(size_t *len) {
    size_t cap = 4096, n = 0;
    char *buf = (char *)malloc(cap);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n, stdin);
        n += got;
        if (got == 0) break;
        if (n == cap) {
            char *b = (char *)realloc(buf, cap * 2);
            if (!b) {
                free(buf);
                return NULL;
            }
            buf = b;
            cap *= 2;
        }
    }
    *len = n;
    return buf;
}

int cmd_tokenize(int argc, char **argv) {
    const char *path = NULL, *text = NULL;
    vd_tokenize_opts o;
    vd_tokenize_opts_init(&o);
    o.pad = false;
    bool pieces = false, from_stdin = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            tokenize_usage(stdout);
            return 0;
        } else if (!strcmp(a, "--tokenizer") && i + 1 < argc) {
            path = argv[++i];
        } else if (!strcmp(a, "--max-len") && i + 1 < argc) {
            char *end;
            long v = strtol(argv[++i], &end, 10);
            if (*end || v < 0 || v > 1 << 24) {
                fprintf(stderr, "vdit tokenize: --max-len '%s' must be an integer in [0, 16777216]\n", argv[i]);
                return 2;
            }
            o.max_len = (int)v;
        } else if (!strcmp(a, "--pad")) {
            o.pad = true;
        } else if (!strcmp(a, "--no-special")) {
            o.add_special = false;
        } else if (!strcmp(a, "--pieces")) {
            pieces = true;
        } else if (!strcmp(a, "--stdin")) {
            from_stdin = true;
        } else if (a[0] == '-' && a[1] == '-') {
            fprintf(stderr, "vdit tokenize: unknown option '%s' (or missing value)\n", a);
            tokenize_usage(stderr);
            return 2;
        } else if (!text) {
            text = a;
        } else {
            fprintf(stderr, "vdit tokenize: more than one text given ('%s'); quote the text\n", a);
            return 2;
        }
    }
    if (!path || (!text && !from_stdin) || (text && from_stdin)) {
        fprintf(stderr, "vdit tokenize: need --tokenizer FILE and exactly one text (argument or --stdin)\n");
        tokenize_usage(stderr);
        return 2;
    }
    size_t len = 0;
    char *owned = NULL;
    if (from_stdin) {
        owned = read_stdin(&len);
        if (!owned) {
            fprintf(stderr, "vdit tokenize: out of memory reading stdin\n");
            return 1;
        }
        text = owned;
    } else {
        len = strlen(text);
    }
    vd_error err = {0};
    vd_tokenizer *tok = NULL;
    vd_tokens tk;
    int rc = 1;
    if (vd_tokenizer_load(&tok, path, &err) != VD_OK) goto fail;
    if (vd_tokenizer_encode(tok, text, len, &o, &tk, &err) != VD_OK) goto fail;
    for (int i = 0; i < tk.n; i++) {
        if (pieces) {
            size_t pl = 0;
            const char *p = vd_tokenizer_piece(tok, tk.ids[i], &pl);
            printf("%d\t%.*s\n", tk.ids[i], (int)pl, p ? p : "");
        } else {
            printf(i ? " %d" : "%d", tk.ids[i]);
        }
    }
    if (!pieces) printf("\n");
    vd_tokens_free(&tk);
    rc = 0;
fail:
    if (rc) fprintf(stderr, "vdit tokenize: %s (%s)\n", err.msg, vd_status_str(err.code));
    vd_tokenizer_free(tok);
    free(owned);
    return rc;
}
