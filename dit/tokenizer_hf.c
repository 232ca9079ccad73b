// Loading a tokenizer.json (see tokenizer_hf.h): model, normalizer, pre-tokenizer,
// post-processor, added tokens, padding id. Every field is checked; unsupported components
// are refused with a message naming them.
#include "dit/tokenizer_hf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "dit/tokenizer_json.h"
#include "dit/tokenizer_unicode.h"
#include "lib/log.h"

void vd_tokenize_opts_init(vd_tokenize_opts *o) {
    o->max_len = 512;
    o->pad = true;
    o->add_special = true;
}

// have_vocab: the vocab was already read by the fast scanner (tokenizer_json.c) and cut out of
// the document given to cJSON.
static vd_status load_model(vd_tokenizer *t, const cJSON *model, bool have_vocab, vd_error *err) {
    if (!cJSON_IsObject(model)) return vd_error_set(err, VD_ERR_FORMAT, "tokenizer: no \"model\" object");
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(model, "type");
    if (cJSON_IsString(type) && strcmp(type->valuestring, "Unigram"))
        return vd_error_set(err, VD_ERR_UNSUPPORTED, "tokenizer: model type '%s' is not supported (only Unigram)",
                            type->valuestring);
    const cJSON *vocab = cJSON_GetObjectItemCaseSensitive(model, "vocab");
    if (!cJSON_IsArray(vocab))
        return vd_error_set(err, VD_ERR_FORMAT, "tokenizer: model has no \"vocab\" array (not a Unigram model?)");
    int n = have_vocab ? t->model.n_pieces : cJSON_GetArraySize(vocab);
    if (!have_vocab) VD_TRY(vd_unigram_init(&t->model, n, err));
    int32_t id = 0;
    const cJSON *e;
    if (have_vocab) vocab = NULL;   // entries already added
    cJSON_ArrayForEach(e, vocab) {
        const cJSON *s = cJSON_GetArrayItem(e, 0);
        const cJSON *sc = s ? s->next : NULL;
        if (!cJSON_IsArray(e) || !cJSON_IsString(s) || !cJSON_IsNumber(sc))
            return vd_error_set(err, VD_ERR_FORMAT, "tokenizer: vocab entry %d is not [piece string, score number]", id);
        size_t len = strlen(s->valuestring);
        const uint8_t *u = (const uint8_t *)s->valuestring;
        for (size_t i = 0; i < len;) {
            uint32_t cp;
            bool bad;
            i += vd_utf8_decode(u + i, len - i, &cp, &bad);
            if (bad) return vd_error_set(err, VD_ERR_FORMAT, "tokenizer: vocab piece %d is not valid UTF-8", id);
        }
        if (len == 0) return vd_error_set(err, VD_ERR_FORMAT, "tokenizer: vocab piece %d is empty", id);
        VD_TRY(vd_unigram_add(&t->model, id, s->valuestring, len, sc->valuedouble, err));
        id++;
    }
    const cJSON *unk = cJSON_GetObjectItemCaseSensitive(model, "unk_id");
    int32_t unk_id = -1;
    if (cJSON_IsNumber(unk)) {
        if (unk->valuedouble < 0 || unk->valuedouble >= n)
            return vd_error_set(err, VD_ERR_FORMAT, "tokenizer: unk_id %g is outside the vocab [0, %d)", unk->valuedouble, n);
        unk_id = (int32_t)unk->valuedouble;
    } else if (unk && !cJSON_IsNull(unk)) {
        return vd_error_set(err, VD_ERR_FORMAT, "tokenizer: unk_id is not a number");
    }
    const cJSON *bf = cJSON_GetObjectItemCaseSensitive(model, "byte_fallback");
    return vd_unigram_finish(&t->model, unk_id, cJSON_IsTrue(bf), err);
}

static vd_status add_pretok(vd_tokenizer *t, const cJSON *j, int depth, vd_error *err) {
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(j, "type");
    if (!cJSON_IsString(type)) return vd_error_set(err, VD_ERR_FORMAT, "tokenizer: a pre_tokenizer has no \"type\"");
    const char *ty = type->valuestring;
    if (!strcmp(ty, "Sequence") && depth < 4) {
        const cJSON *list = cJSON_GetObjectItemCaseSensitive(j, "pretokenizers");
        if (!cJSON_IsArray(list)) return vd_error_set(err, VD_ERR_FORMAT, "tokenizer: pre_tokenizer Sequence has no list");
        const cJSON *e;
        cJSON_ArrayForEach(e, list) VD_TRY(add_pretok(t, e, depth + 1, err));
        return VD_OK;
    }
    if (t->n_pretok >= 4) return vd_error_set(err, VD_ERR_UNSUPPORTED, "tokenizer: more than 4 pre_tokenizers");
    vd_pretok_step *st = &t->pretok[t->n_pretok];
    memset(st, 0, sizeof *st);
    if (!strcmp(ty, "WhitespaceSplit")) {
        st->kind = VD_PRETOK_WHITESPACE_SPLIT;
        t->n_pretok++;
        return VD_OK;
    }
    if (!strcmp(ty, "Metaspace")) {
        st->kind = VD_PRETOK_METASPACE;
        const cJSON *rep = cJSON_GetObjectItemCaseSensitive(j, "replacement");
        if (!cJSON_IsString(rep) || rep->valuestring[0] == 0 ||
            strlen(rep->valuestring) != vd_utf8_len((uint8_t)rep->valuestring[0]) ||
            !vd_utf8_valid(rep->valuestring, strlen(rep->valuestring)))
            return vd_error_set(err, VD_ERR_FORMAT, "tokenizer: Metaspace replacement must be one character");
        st->rep_len = strlen(rep->valuestring);
        memcpy(st->rep, rep->valuestring, st->rep_len);
        st->prepend = VD_PREPEND_ALWAYS;
        const cJSON *ps = cJSON_GetObjectItemCaseSensitive(j, "prepend_scheme");
        if (cJSON_IsString(ps)) {
            if (!strcmp(ps->valuestring, "always")) st->prepend = VD_PREPEND_ALWAYS;
            else if (!strcmp(ps->valuestring, "first")) st->prepend = VD_PREPEND_FIRST;
            else if (!strcmp(ps->valuestring, "never")) st->prepend = VD_PREPEND_NEVER;
            else return vd_error_set(err, VD_ERR_FORMAT, "tokenizer: Metaspace prepend_scheme '%s' (allowed: always, first, never)", ps->valuestring);
        }
        const cJSON *aps = cJSON_GetObjectItemCaseSensitive(j, "add_prefix_space");
        if (cJSON_IsFalse(aps)) st->prepend = VD_PREPEND_NEVER;
        const cJSON *split = cJSON_GetObjectItemCaseSensitive(j, "split");
        st->split = !cJSON_IsFalse(split);
        t->n_pretok++;
        return VD_OK;
    }
    return vd_error_set(err, VD_ERR_UNSUPPORTED,
                        "tokenizer: pre_tokenizer '%s' is not implemented (supported: Sequence, WhitespaceSplit, Metaspace)", ty);
}

static vd_status load_template(vd_tokenizer *t, const cJSON *pp, vd_error *err) {
    const cJSON *single = cJSON_GetObjectItemCaseSensitive(pp, "single");
    const cJSON *specials = cJSON_GetObjectItemCaseSensitive(pp, "special_tokens");
    if (!cJSON_IsArray(single)) return vd_error_set(err, VD_ERR_FORMAT, "tokenizer: TemplateProcessing has no \"single\" list");
    bool seen_a = false;
    const cJSON *it;
    cJSON_ArrayForEach(it, single) {
        const cJSON *seq = cJSON_GetObjectItemCaseSensitive(it, "Sequence");
        const cJSON *sp = cJSON_GetObjectItemCaseSensitive(it, "SpecialToken");
        if (seq) {
            if (seen_a) return vd_error_set(err, VD_ERR_UNSUPPORTED, "tokenizer: TemplateProcessing uses $A twice");
            seen_a = true;
            continue;
        }
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(sp, "id");
        if (!cJSON_IsString(name)) return vd_error_set(err, VD_ERR_FORMAT, "tokenizer: TemplateProcessing item is neither Sequence nor SpecialToken");
        const cJSON *def = cJSON_GetObjectItemCaseSensitive(specials, name->valuestring);
        const cJSON *ids = cJSON_GetObjectItemCaseSensitive(def, "ids");
        if (!cJSON_IsArray(ids))
            return vd_error_set(err, VD_ERR_FORMAT, "tokenizer: TemplateProcessing special token '%s' has no ids", name->valuestring);
        const cJSON *x;
        cJSON_ArrayForEach(x, ids) {
            if (!cJSON_IsNumber(x) || x->valuedouble < 0)
                return vd_error_set(err, VD_ERR_FORMAT, "tokenizer: special token '%s' has a bad id", name->valuestring);
            int32_t *dst = seen_a ? t->suffix_ids : t->prefix_ids;
            int *cnt = seen_a ? &t->n_suffix : &t->n_prefix;
            if (*cnt >= 8) return vd_error_set(err, VD_ERR_UNSUPPORTED, "tokenizer: more than 8 template special tokens");
            dst[(*cnt)++] = (int32_t)x->valuedouble;
        }
    }
    if (!seen_a) return vd_error_set(err, VD_ERR_FORMAT, "tokenizer: TemplateProcessing \"single\" lacks $A");
    return VD_OK;
}

static vd_status load_post(vd_tokenizer *t, const cJSON *pp, vd_error *err) {
    if (!pp || cJSON_IsNull(pp)) return VD_OK;
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(pp, "type");
    if (!cJSON_IsString(type)) return vd_error_set(err, VD_ERR_FORMAT, "tokenizer: post_processor has no \"type\"");
    if (!strcmp(type->valuestring, "TemplateProcessing")) return load_template(t, pp, err);
    if (!strcmp(type->valuestring, "Sequence")) {
        const cJSON *list = cJSON_GetObjectItemCaseSensitive(pp, "processors");
        if (cJSON_GetArraySize(list) == 1) return load_post(t, cJSON_GetArrayItem(list, 0), err);
    }
    return vd_error_set(err, VD_ERR_UNSUPPORTED,
                        "tokenizer: post_processor '%s' is not supported (only TemplateProcessing)", type->valuestring);
}

static vd_status load_added(vd_tokenizer *t, const cJSON *list, vd_error *err) {
    if (!list || cJSON_IsNull(list)) return VD_OK;
    if (!cJSON_IsArray(list)) return vd_error_set(err, VD_ERR_FORMAT, "tokenizer: \"added_tokens\" is not a list");
    int n = cJSON_GetArraySize(list);
    t->added = (vd_added_token *)calloc((size_t)(n ? n : 1), sizeof *t->added);
    if (!t->added) return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "tokenizer: out of memory");
    const cJSON *e;
    cJSON_ArrayForEach(e, list) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(e, "id");
        const cJSON *content = cJSON_GetObjectItemCaseSensitive(e, "content");
        if (!cJSON_IsNumber(id) || id->valuedouble < 0 || !cJSON_IsString(content) || content->valuestring[0] == 0)
            return vd_error_set(err, VD_ERR_FORMAT, "tokenizer: added token %d lacks an id or a non-empty content", t->n_added);
        if (!vd_utf8_valid(content->valuestring, strlen(content->valuestring)))
            return vd_error_set(err, VD_ERR_FORMAT, "tokenizer: added token %d's content is not valid UTF-8", t->n_added);
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "single_word")))
            return vd_error_set(err, VD_ERR_UNSUPPORTED, "tokenizer: added token '%s' has single_word=true, which is not "
                                "implemented", content->valuestring);
        vd_added_token *a = &t->added[t->n_added++];
        a->id = (int32_t)id->valuedouble;
        a->lstrip = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "lstrip"));
        a->rstrip = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "rstrip"));
        a->special = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "special"));
        a->normalized = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "normalized"));
        size_t len = strlen(content->valuestring);
        if (a->normalized) {
            VD_TRY(vd_normalizer_apply(&t->norm, content->valuestring, len, &a->content, &a->len, NULL, err));
        } else {
            a->content = (char *)malloc(len + 1);
            if (!a->content) return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "tokenizer: out of memory");
            memcpy(a->content, content->valuestring, len + 1);
            a->len = len;
        }
        if (a->id + 1 > t->vocab_size) t->vocab_size = a->id + 1;
    }
    return VD_OK;
}

static vd_status load_root(vd_tokenizer *t, const cJSON *root, bool have_vocab, vd_error *err) {
    if (!cJSON_IsObject(root)) return vd_error_set(err, VD_ERR_FORMAT, "tokenizer: the JSON root is not an object");
    VD_TRY(load_model(t, cJSON_GetObjectItemCaseSensitive(root, "model"), have_vocab, err));
    t->vocab_size = t->model.n_pieces;
    VD_TRY(vd_normalizer_from_json(&t->norm, cJSON_GetObjectItemCaseSensitive(root, "normalizer"), err));
    const cJSON *pre = cJSON_GetObjectItemCaseSensitive(root, "pre_tokenizer");
    if (pre && !cJSON_IsNull(pre)) VD_TRY(add_pretok(t, pre, 0, err));
    VD_TRY(load_post(t, cJSON_GetObjectItemCaseSensitive(root, "post_processor"), err));
    VD_TRY(load_added(t, cJSON_GetObjectItemCaseSensitive(root, "added_tokens"), err));
    t->pad_id = -1;
    const cJSON *pad = cJSON_GetObjectItemCaseSensitive(root, "padding");
    const cJSON *pid = cJSON_GetObjectItemCaseSensitive(pad, "pad_id");
    if (cJSON_IsNumber(pid)) {
        t->pad_id = (int32_t)pid->valuedouble;
    } else {
        for (int i = 0; i < t->n_added && t->pad_id < 0; i++)
            if (!strcmp(t->added[i].content, "<pad>")) t->pad_id = t->added[i].id;
        if (t->pad_id < 0) t->pad_id = vd_unigram_find(&t->model, "<pad>", 5);
    }
    return VD_OK;
}

vd_status vd_tokenizer_load_json(vd_tokenizer **out, const char *json, size_t len, vd_error *err) {
    *out = NULL;
    vd_tokenizer *t = (vd_tokenizer *)calloc(1, sizeof *t);
    if (!t) return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "tokenizer: out of memory");
    // The vocab array goes through the fast scanner; cJSON sees the document with "[]" in its place.
    size_t va, vb;
    bool have_vocab = false;
    char *rest = NULL;
    const char *doc = json;
    size_t doc_len = len;
    if (vd_json_find_model_vocab(json, len, &va, &vb) == 0 && json[va] == '[') {
        vd_status s = vd_json_parse_vocab(json + va, vb - va, &t->model, err);
        if (s != VD_OK) {
            vd_tokenizer_free(t);
            return s;
        }
        have_vocab = true;
        rest = (char *)malloc(len - (vb - va) + 3);
        if (!rest) {
            vd_tokenizer_free(t);
            return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "tokenizer: out of memory");
        }
        memcpy(rest, json, va);
        memcpy(rest + va, "[]", 2);
        memcpy(rest + va + 2, json + vb, len - vb);
        doc = rest;
        doc_len = len - (vb - va) + 2;
    }
    cJSON *root = cJSON_ParseWithLength(doc, doc_len);
    if (!root) {
        const char *ep = cJSON_GetErrorPtr();
        size_t at = ep && ep >= doc && ep <= doc + doc_len ? (size_t)(ep - doc) : 0;
        if (have_vocab && at > va) at += vb - va - 2;   // offset in the original text
        free(rest);
        vd_tokenizer_free(t);
        return vd_error_set(err, VD_ERR_FORMAT, "tokenizer: invalid JSON near byte %zu of %zu%s", at, len,
                            at + 16 >= len ? " (hint: the file looks truncated; re-download it)" : "");
    }
    free(rest);
    vd_status s = load_root(t, root, have_vocab, err);
    cJSON_Delete(root);
    if (s != VD_OK) {
        vd_tokenizer_free(t);
        return s;
    }
    *out = t;
    return VD_OK;
}

vd_status vd_tokenizer_load(vd_tokenizer **out, const char *path, vd_error *err) {
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return vd_error_set(err, VD_ERR_IO, "tokenizer: cannot open '%s': %s", path, strerror(errno));
    char *buf = NULL;
    long size = -1;
    if (fseek(f, 0, SEEK_END) == 0) size = ftell(f);
    if (size < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return vd_error_set(err, VD_ERR_IO, "tokenizer: cannot determine the size of '%s'", path);
    }
    buf = (char *)malloc((size_t)size + 1);
    if (!buf) {
        fclose(f);
        return vd_error_set(err, VD_ERR_OUT_OF_MEMORY, "tokenizer: cannot allocate %ld bytes for '%s'", size, path);
    }
    size_t got = fread(buf, 1, (size_t)size, f);
    fclose(f);
    if (got != (size_t)size) {
        free(buf);
        return vd_error_set(err, VD_ERR_IO, "tokenizer: read %zu of %ld bytes from '%s'", got, size, path);
    }
    buf[size] = 0;
    vd_status s = vd_tokenizer_load_json(out, buf, (size_t)size, err);
    free(buf);
    if (s != VD_OK) {
        vd_error_prefix(err, "%s", path);
        return s;
    }
    VD_LOGD("tokenizer: %s: %d pieces, %d added tokens, %d normalizer steps, %d pre-tokenizers", path,
            (*out)->model.n_pieces, (*out)->n_added, (*out)->norm.n_steps, (*out)->n_pretok);
    return VD_OK;
}

void vd_tokenizer_free(vd_tokenizer *t) {
    if (!t) return;
    vd_unigram_free(&t->model);
    vd_normalizer_free(&t->norm);
    for (int i = 0; i < t->n_added; i++) free(t->added[i].content);
    free(t->added);
    free(t);
}

const char *vd_tokenizer_piece(const vd_tokenizer *t, int32_t id, size_t *len) {
    for (int i = 0; i < t->n_added; i++)
        if (t->added[i].id == id) {
            *len = t->added[i].len;
            return t->added[i].content;
        }
    if (id < 0 || id >= t->model.n_pieces) return NULL;
    *len = t->model.len[id];
    return t->model.blob + t->model.off[id];
}
