#!/usr/bin/env python3
"""The vdit-tiny tokenizer: a Unigram model (tokenizers library) over the caption language.

The tokenizers UnigramTrainer collapses to single characters on a corpus this small (a few dozen
distinct words), so the vocabulary is estimated directly: every caption word becomes a piece
'▁word' scored by its log relative frequency, every character seen (with and without '▁') becomes
a fallback piece with a lower score, so unseen words still segment. Normalizer: the same kind umT5
ships, a sentencepiece Precompiled charsmap (here nmt_nfkc_cf: NFKC + case folding, taken from a
sentencepiece model trained on the captions), then runs of spaces collapsed; Metaspace
pre-tokenizer (prepend always); '</s>' appended, as umT5 does. Ids: 0 <pad>, 1 </s>, 2 <unk>.
Needs sentencepiece + protobuf (for the charsmap) and tokenizers + transformers.
"""
import collections
import math

from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors


def charsmap_nfkc_cf(captions):
    """The precompiled NFKC + case-fold charsmap sentencepiece embeds in its models."""
    import io
    import sentencepiece as spm
    from sentencepiece import sentencepiece_model_pb2 as pb
    buf = io.BytesIO()
    spm.SentencePieceTrainer.train(sentence_iterator=iter(captions), model_writer=buf, model_type="unigram",
                                   vocab_size=40, hard_vocab_limit=False, pad_id=0, eos_id=1, unk_id=2, bos_id=-1,
                                   normalization_rule_name="nmt_nfkc_cf", minloglevel=2)
    proto = pb.ModelProto()
    proto.ParseFromString(buf.getvalue())
    return proto.normalizer_spec.precompiled_charsmap


def build(captions):
    words = collections.Counter(w for c in captions for w in c.lower().split())
    chars = collections.Counter(ch for w in words.elements() for ch in w)
    total_w = sum(words.values())
    total_c = sum(chars.values())
    vocab = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)]
    for w, n in sorted(words.items()):
        vocab.append(("\u2581" + w, math.log(n / total_w)))
    floor = min(s for _, s in vocab[3:]) - 5.0   # characters are a last resort
    vocab.append(("\u2581", floor))
    for ch, n in sorted(chars.items()):
        vocab.append((ch, floor + math.log(n / total_c)))
        vocab.append(("\u2581" + ch, floor + math.log(n / total_c) - 1.0))
    seen = set()
    vocab = [p for p in vocab if not (p[0] in seen or seen.add(p[0]))]
    tk = Tokenizer(models.Unigram(vocab, unk_id=2, byte_fallback=False))
    tk.normalizer = normalizers.Sequence([normalizers.Precompiled(charsmap_nfkc_cf(captions)),
                                          normalizers.Replace(Regex(" {2,}"), " ")])
    tk.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always")
    tk.post_processor = processors.TemplateProcessing(single="$A </s>", special_tokens=[("</s>", 1)])
    tk.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="always")
    from transformers import T5TokenizerFast
    return T5TokenizerFast(tokenizer_object=tk, pad_token="<pad>", eos_token="</s>", unk_token="<unk>",
                           extra_ids=0, model_max_length=512)
