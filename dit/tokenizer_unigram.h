// Unigram model (SentencePiece / Hugging Face tokenizers "Unigram"): pieces with log-probability
// scores, segmented by Viterbi as tokenizers' encode_optimized does:
//   - every vocab piece (control pieces included) is a candidate wherever its bytes occur;
//   - at a position where no piece covers exactly one character, that character gets the unk
//     piece with score min_score - 10;
//   - a candidate replaces the best path into its end only when strictly better, candidates
//     visited shortest first (ties keep the earlier one);
//   - consecutive unk pieces are fused into one string, which is then looked up (if absent:
//     byte fallback to <0xXX> pieces when enabled and all 256 exist for its bytes, else unk_id).
// Lookup is an open-addressing hash of the piece bytes (FNV-1a 64): building it for 256k pieces
// takes a few milliseconds, and the prefix search hashes incrementally.
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dit/tokenizer_buf.h"
#include "lib/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int32_t n_pieces;
    char *blob;          // all piece bytes, each NUL-terminated
    size_t blob_len, blob_cap;
    uint64_t *off;       // [n_pieces] byte offset of piece i in blob
    uint32_t *len;       // [n_pieces] piece length in bytes
    double *score;       // [n_pieces]
    int32_t *table;      // [mask + 1] piece ids, -1 = empty
    uint64_t mask;
    size_t max_piece_len;
    double min_score;
    int32_t unk_id;      // -1: none (an unknown character is then an error)
    bool byte_fallback;
    int32_t byte_id[256]; // <0xXX> piece ids, -1 when missing
} vd_unigram;

// Starts an empty model with room for n pieces.
vd_status vd_unigram_init(vd_unigram *m, int32_t n, vd_error *err);
// Appends piece `id` (ids must be added in order 0..n-1).
vd_status vd_unigram_add(vd_unigram *m, int32_t id, const char *piece, size_t len, double score, vd_error *err);
// Builds the hash after all pieces are added; checks unk_id < n.
vd_status vd_unigram_finish(vd_unigram *m, int32_t unk_id, bool byte_fallback, vd_error *err);
void vd_unigram_free(vd_unigram *m);
// Id of the piece with exactly these bytes, or -1.
int32_t vd_unigram_find(const vd_unigram *m, const char *s, size_t len);
// Appends the ids of one pre-token s[0..len) (well-formed UTF-8) to out.
vd_status vd_unigram_encode(const vd_unigram *m, const char *s, size_t len, vd_ibuf *out, vd_error *err);

#ifdef __cplusplus
}
#endif
