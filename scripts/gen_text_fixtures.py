#!/usr/bin/env python3
"""Fixtures for the umT5 tokenizer and encoder tests (tests/data/text/).

Tokenizer: trains a small SentencePiece Unigram model on a built-in multilingual corpus, takes
its vocab, scores and precompiled_charsmap (the real umT5 normalizer path: a SentencePiece
charsmap inside a tokenizers Precompiled normalizer), assembles several tokenizer.json variants
with the `tokenizers` library the way transformers' T5 converter does (and older/newer layouts),
and records the ids that `tokenizers` produces for a varied set of strings, with truncation and
padding as the Wan pipeline calls it (max_length 512, "$A </s>").

Encoder: random small UMT5EncoderModel configs from transformers, weights in safetensors, input
ids + mask, and the last hidden state with rows past the real length set to zero (as Wan does).

Usage: python3 scripts/gen_text_fixtures.py [--out tests/data/text]
"""
import argparse
import base64
import io
import json
import os
import random
import re
import struct

import sentencepiece as spm
from tokenizers import Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
from tokenizers.models import Unigram

# ---------------------------------------------------------------------------------------------
# corpus

CORPUS = """A cat walks on the grass, realistic style, soft morning light.
A young woman in a red dress dances in the rain on a city street at night.
Two astronauts float inside a space station, looking at the blue Earth through a window.
The camera slowly pans across a snowy mountain range at sunrise, cinematic, 4k.
A golden retriever puppy chases a ball on a sandy beach, waves crashing behind it.
Close-up of a hummingbird drinking nectar from a bright flower, slow motion.
An old fisherman repairs his net on a wooden boat while seagulls circle above.
Bright tones, overexposed, static, blurred details, subtitles, style, works, paintings, images, static,
overall gray, worst quality, low quality, JPEG compression residue, ugly, incomplete, extra fingers,
poorly drawn hands, poorly drawn faces, deformed, disfigured, misshapen limbs, fused fingers,
still picture, messy background, three legs, many people in the background, walking backwards.
Un chat marche sur l'herbe. Café déjà vu, naïve façade, crème brûlée, où est la gare ?
Ein Hund läuft über die Straße. Größe, Übung, Ärger, schön, Fußgänger.
Un perro corre en el parque. Mañana, niño, corazón, ¿dónde está la estación? ¡Qué bonito!
Кошка идёт по траве. Москва, собака, молоко, большой город ночью.
القطة تمشي على العشب في الصباح الباكر.
बिल्ली घास पर चल रही है। सुंदर सुबह का दृश्य।
猫が草の上を歩いている。東京の夜景、桜の花、富士山。
고양이가 잔디 위를 걷는다. 서울의 밤거리, 벚꽃, 바다.
一只猫在草地上行走。色调艳丽，过曝，静态，细节模糊不清，字幕，风格，作品，画作，画面，静止，整体发灰，最差质量，低质量，JPEG压缩残留，丑陋的，残缺的，多余的手指，画得不好的手部，画得不好的脸部，畸形的，毁容的，形态畸形的肢体，手指融合，静止不动的画面，杂乱的背景，三条腿，背景人很多，倒着走
Ångström Øresund æble ÿ ŷ ŵ ĉ ĝ ĥ ĵ ŝ ŭ ł ń ś ź ż ą ę ő ű č ř š ž ď ť ň
Numbers 0123456789, prices $12.50 €30 £7, 50% off, e-mail: test@example.com, #hashtag.
Emoji: 🐱 🌿 😀 👍 ❤ ⭐ 🎬 🚀 🌊 🔥
"""

NEG_ZH = ("色调艳丽，过曝，静态，细节模糊不清，字幕，风格，作品，画作，画面，静止，整体发灰，最差质量，低质量，"
          "JPEG压缩残留，丑陋的，残缺的，多余的手指，画得不好的手部，画得不好的脸部，畸形的，毁容的，形态畸形的肢体，"
          "手指融合，静止不动的画面，杂乱的背景，三条腿，背景人很多，倒着走")

# Custom SentencePiece normalization rules (source code points -> target code points), so a
# second, small charsmap exercises multi-code-point keys, expansions and deletions.
CUSTOM_RULES = [
    ("FF21", "41"), ("FF22", "42"), ("FF41", "61"),          # fullwidth A B a
    ("65 301", "E9"), ("41 30A", "C5"), ("6E 303", "F1"),    # composed accents
    ("301", "B4"),                                           # lone combining acute -> acute accent
    ("2460", "31"), ("2461", "32"),                          # circled digits
    ("3000", "20"), ("A0", "20"), ("9", "20"),               # spaces
    ("FB01", "66 69"), ("2122", "54 4D"),                    # fi ligature, trade mark
    ("AD", ""),                                              # soft hyphen: deleted
    ("1100 1161", "AC00"),                                   # jamo sequence -> syllable
]


def corpus_lines():
    lines = [l for l in CORPUS.splitlines() if l.strip()]
    rng = random.Random(1)
    # Some extra variety: recombined words.
    words = " ".join(lines).split()
    for _ in range(400):
        lines.append(" ".join(rng.choice(words) for _ in range(rng.randint(3, 12))))
    return lines


def read_varint(b, i):
    v = s = 0
    while True:
        c = b[i]
        i += 1
        v |= (c & 0x7F) << s
        s += 7
        if c < 0x80:
            return v, i


def proto_fields(b):
    """Minimal protobuf wire reader: yields (field, wiretype, value)."""
    i = 0
    while i < len(b):
        key, i = read_varint(b, i)
        f, wt = key >> 3, key & 7
        if wt == 0:
            v, i = read_varint(b, i)
        elif wt == 1:
            v = b[i:i + 8]
            i += 8
        elif wt == 2:
            n, i = read_varint(b, i)
            v = b[i:i + n]
            i += n
        elif wt == 5:
            v = b[i:i + 4]
            i += 4
        else:
            raise ValueError("wire type %d" % wt)
        yield f, wt, v


def spm_model(rules_tsv=None, byte_fallback=False, vocab_size=900):
    buf = io.BytesIO()
    kw = dict(sentence_iterator=iter(corpus_lines()), model_writer=buf, vocab_size=vocab_size, model_type="unigram",
              pad_id=0, eos_id=1, unk_id=2, bos_id=-1, byte_fallback=byte_fallback, hard_vocab_limit=False,
              character_coverage=0.9995, num_threads=1, minloglevel=2, seed_sentencepiece_size=20000)
    if rules_tsv:
        kw["normalization_rule_tsv"] = rules_tsv
    else:
        kw["normalization_rule_name"] = "nmt_nfkc"
    spm.SentencePieceTrainer.train(**kw)
    model = buf.getvalue()
    pieces, charsmap = [], b""
    for f, _, v in proto_fields(model):
        if f == 1:
            piece, score, typ = "", 0.0, 1
            for f2, _, v2 in proto_fields(v):
                if f2 == 1:
                    piece = v2.decode("utf-8")
                elif f2 == 2:
                    score = struct.unpack("<f", v2)[0]
                elif f2 == 3:
                    typ = v2
            pieces.append((piece, score, typ))
        elif f == 3:
            for f2, _, v2 in proto_fields(v):
                if f2 == 2:
                    charsmap = bytes(v2)
    return pieces, charsmap


def build(pieces, charsmap, norm_kind, pre_kind, byte_fallback, n_extra=10, extra_added=()):
    vocab = [(p, float(s)) for p, s, _ in pieces] + [("<extra_id_%d>" % i, 0.0) for i in range(n_extra - 1, -1, -1)]
    tk = Tokenizer(Unigram(vocab, unk_id=2, byte_fallback=byte_fallback))
    pc = [normalizers.Precompiled(charsmap)] if charsmap else []
    if norm_kind == "umt5":       # transformers SpmConverter (2023+), the umT5 hub layout
        tk.normalizer = normalizers.Sequence(pc + [normalizers.Strip(left=False, right=True),
                                                   normalizers.Replace(Regex(" {2,}"), "▁")])
    elif norm_kind == "precompiled":
        tk.normalizer = pc[0]
    elif norm_kind == "replace_old":  # older converter + a literal Replace
        tk.normalizer = normalizers.Sequence([normalizers.Replace("``", '"'), normalizers.Replace(Regex(" {2,}"), " ")])
    elif norm_kind == "pc_lstrip":
        tk.normalizer = normalizers.Sequence(pc + [normalizers.Strip(left=True, right=False)])
    elif norm_kind == "strip_both":
        tk.normalizer = normalizers.Sequence(pc + [normalizers.Strip(left=True, right=True)])
    if pre_kind == "metaspace":
        tk.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    elif pre_kind == "ws_metaspace":  # transformers 5 T5Tokenizer layout
        tk.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.WhitespaceSplit(),
                                                    pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)])
    elif pre_kind == "first_nosplit":
        tk.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first", split=False)
    elif pre_kind == "first_split":
        tk.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first", split=True)
    elif pre_kind == "never_nosplit":
        tk.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="never", split=False)
    tk.post_processor = processors.TemplateProcessing(single=["$A", "</s>"], pair=["$A", "</s>", "$B", "</s>"],
                                                      special_tokens=[("</s>", 1)])
    tk.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    from tokenizers import AddedToken
    specials = [AddedToken(p, special=True, normalized=False) for p, _, t in pieces if t in (2, 3)]
    specials += [AddedToken("<extra_id_%d>" % i, special=True, normalized=False) for i in range(n_extra)]
    tk.add_special_tokens(specials)
    for a in extra_added:
        tk.add_tokens([a])
    return tk


def test_strings():
    s = [
        "A cat walks on the grass, realistic style.",
        "",
        " ",
        "   leading and trailing   ",
        "multiple     spaces\tand\ttabs\nnew\r\nlines",
        "Café déjà vu — naïve façade, Ångström, Straße",
        "Cafe\u0301 e\u0301\u0301 A\u030a n\u0303o \u0301 x\u0301\u0301\u0301",
        "ＡＢＣ１２３！ ａｂｃ ①②③ ﬁne ™ ½ ㍻ ｶﾀｶﾅ",
        NEG_ZH,
        "猫が草の上を歩いている", "고양이가 잔디 위를 걷는다 \u1100\u1161\u11a8", "Кошка идёт по траве",
        "القطة تمشي", "बिल्ली घास पर चल रही है", "क्षि",
        "🐱🌿 cat 👍🏽 👨\u200d👩\u200d👧 🇫🇷🇩🇪 ❤️ ☺︎ 1️⃣",
        "a\x00b\x07c\x1fd \x7f",
        "hello </s> world <pad> x<unk>y <extra_id_0> <extra_id_9>",
        "soft\u00adhyphen non\u00a0breaking ideo\u3000space zw\u200bj\u200dx",
        "▁ already ▁▁ metaspace ▁",
        "``quoted''  text",
        "rare 龘 𠀀 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ꙮ",
        "tab\tonly",
        "e\u0301x y", "\u00adx y", " x y", "\u00ad\u00ad", "ＡＢ c", "\ufb01x", "\u2122 x", "``x", "`x",
        "A\u030a\u0301", "\u1100\u1161x",
        "A" * 300,
        "word " * 600,
        ("A cat walks on the grass. " * 60).strip(),
    ]
    rng = random.Random(7)
    blocks = [(0x20, 0x7E), (0xA0, 0x24F), (0x300, 0x36F), (0x370, 0x3FF), (0x400, 0x4FF), (0x600, 0x6FF),
              (0x900, 0x97F), (0x1100, 0x11FF), (0x2000, 0x206F), (0x2460, 0x24FF), (0x3000, 0x30FF),
              (0x4E00, 0x9FFF), (0xAC00, 0xD7A3), (0xFB00, 0xFB4F), (0xFE00, 0xFE0F), (0xFF00, 0xFFEF),
              (0x1F300, 0x1F6FF), (0x1F3FB, 0x1F3FF), (0x20000, 0x2000F), (0xE0100, 0xE0103)]
    for _ in range(40):
        n = rng.randint(1, 40)
        chars = []
        for _ in range(n):
            lo, hi = rng.choice(blocks)
            chars.append(chr(rng.randint(lo, hi)))
        s.append("".join(chars))
    return [x.encode("utf-8") for x in s]


INVALID = [b"abc\xff\xfe def \xe4\xbd", b"\xc3\x28 \xe2\x82 x \xf0\x9f\x98", b"\xed\xa0\x80 surrogate \xc0\xaf",
           b"\xf4\x90\x80\x80 big \xe0\x80\x80 overlong \x80\x80 cont", b"ok \xf0\x9f\x98\x80 \xf0\x9f"]


def gen_tokenizers(out):
    cases = []
    rules_path = os.path.join(out, "_rules.tsv")
    with open(rules_path, "w") as f:
        for src, dst in CUSTOM_RULES:
            f.write("%s\t%s\n" % (src, dst))
    p_nfkc, cm_nfkc = spm_model(byte_fallback=True)
    p_custom, cm_custom = spm_model(rules_tsv=rules_path, byte_fallback=True)
    os.remove(rules_path)
    from tokenizers import AddedToken
    variants = {
        # umT5 hub layout: nmt_nfkc charsmap, Strip right, Replace " {2,}" -> "▁", Metaspace always.
        # The vocab has <0xXX> pieces but the converter leaves byte_fallback off, as for umT5.
        "tok_umt5.json": build(p_nfkc, cm_nfkc, "umt5", "metaspace", False),
        "tok_ws_bytes.json": build(p_custom, cm_custom, "precompiled", "ws_metaspace", True),
        "tok_first.json": build(p_nfkc, None, "replace_old", "first_nosplit", False,
                                extra_added=[AddedToken("<mask>", lstrip=True, rstrip=True, normalized=False),
                                             AddedToken("sunny day", normalized=True)]),
        "tok_strip_never.json": build(p_custom, cm_custom, "strip_both", "never_nosplit", False),
        "tok_first_pc.json": build(p_custom, cm_custom, "pc_lstrip", "first_split", False),
    }
    strings = test_strings()
    strings_mask = [s.replace(b"rare", b"rare <mask>  x<mask>y sunny  day sunny day") for s in strings[:6]]
    for name, tk in variants.items():
        path = os.path.join(out, name)
        tk.save(path)
        tk = Tokenizer.from_file(path)  # what the C loader sees
        for i, raw in enumerate(strings + INVALID + (strings_mask if name == "tok_first.json" else [])):
            for max_len in ([512, 16] if i % 9 == 0 else [512]):
                tk.enable_truncation(max_length=max_len)
                tk.enable_padding(length=max_len, pad_id=0, pad_token="<pad>")
                enc = tk.encode(raw.decode("utf-8", errors="replace"))
                n_real = sum(enc.attention_mask)
                cases.append({"tokenizer": name, "text_b64": base64.b64encode(raw).decode(), "max_len": max_len,
                              "ids": enc.ids[:n_real], "n_real": n_real})
        size = os.path.getsize(path)
        print("%s: %d pieces, %d bytes" % (name, tk.get_vocab_size(), size))
    # Cross-check: transformers' fast T5 tokenizer, called as the Wan pipeline calls it.
    try:
        from transformers import T5TokenizerFast
        hf = T5TokenizerFast(tokenizer_file=os.path.join(out, "tok_umt5.json"), extra_ids=10)
        bad = 0
        for c in cases:
            if c["tokenizer"] != "tok_umt5.json" or c["max_len"] != 512:
                continue
            text = base64.b64decode(c["text_b64"]).decode("utf-8", errors="replace")
            r = hf(text, padding="max_length", max_length=512, truncation=True, add_special_tokens=True,
                   return_attention_mask=True)
            n = sum(r["attention_mask"])
            bad += r["input_ids"][:n] != c["ids"]
        print("transformers T5TokenizerFast agrees with tokenizers on %s cases" % ("all" if not bad else "NOT all (%d differ)" % bad))
    except Exception as e:  # noqa: BLE001
        print("transformers cross-check skipped: %s" % e)
    # Grapheme clusters (the `regex` module's \X, an independent UAX #29 implementation) and the
    # U+FFFD repair of invalid UTF-8 (Python's errors="replace"), for the unit checks.
    import regex
    uni = []
    for raw in strings + INVALID:
        text = raw.decode("utf-8", errors="replace")
        uni.append({"text_b64": base64.b64encode(raw).decode(),
                    "sanitized_b64": base64.b64encode(text.encode("utf-8")).decode(),
                    "graphemes": [len(g.encode("utf-8")) for g in regex.findall(r"\X", text)],
                    # Wan's whitespace_clean (diffusers pipeline_wan.py)
                    "ws_clean_b64": base64.b64encode(re.sub(r"\s+", " ", text).strip().encode("utf-8")).decode()})
    with open(os.path.join(out, "unicode_cases.json"), "w") as f:
        json.dump(uni, f, separators=(",", ":"))
    # Prompt cleaning: html.unescape (exact, Python's), ftfy's uncurl_quotes regexes, and the
    # recipe of vd_wan_prompt_clean (ftfy's HTML step when there is no '<', uncurl, html.unescape
    # twice, whitespace_clean). ftfy itself is not used here (not installed).
    import html as _html

    def uncurl(t):
        return re.sub("[\u201c-\u201f]", '"', re.sub("[\u2018-\u201b]", "'", t))

    def recipe(t):
        if "<" not in t:
            t = _html.unescape(t)
        t = _html.unescape(_html.unescape(uncurl(t)))
        return re.sub(r"\s+", " ", t).strip()

    html_strings = [
        "&amp;", "&amp", "&AMP;", "&ampx", "&notit;", "&notin;", "&#65;&#x41;&#X41", "&#0;", "&#128;&#x9f;",
        "&#x110000;", "&#xD800;", "&#1;&#11;&#x7f;&#xFDD0;&#xFFFF;&#x10FFFE;", "&#99999999999999999999;", "&;",
        "&#;", "&#x;", "& amp;", "&&amp;", "&" + "a" * 40 + ";", "&" + "b" * 31 + ";", "&ldquo;quoted&rdquo;",
        "&amp;lt;b&amp;gt;", "&amp;amp;amp;", "&nbsp;x", "&\u00e9acute;", "&Eacute", "a < b &amp; c &ldquo;q&rdquo;",
        "&lt;&lt", "\u201ccurly\u201d \u2018single\u2019 \u201alow\u201b \u201edbl\u201f",
        "&aacute;&Aacute;&eacutex", "&frac12;&frac12", "&zwj;&zwnj;&NotNestedGreaterGreater;&nGt;",
        "&copy2024 &copy;2024 &COPY &reg", "  &nbsp; two &#32; spaces  ", "&#x1F600;&#128512;", "x&\r\namp;",
    ]
    cl = []
    for t in html_strings + [x.decode("utf-8", errors="replace") for x in strings + INVALID]:
        cl.append({"text_b64": base64.b64encode(t.encode("utf-8")).decode(),
                   "unescape_b64": base64.b64encode(_html.unescape(t).encode("utf-8")).decode(),
                   "uncurl_b64": base64.b64encode(uncurl(t).encode("utf-8")).decode(),
                   "clean_b64": base64.b64encode(recipe(t).encode("utf-8")).decode()})
    with open(os.path.join(out, "clean_cases.json"), "w") as f:
        json.dump(cl, f, separators=(",", ":"))
    with open(os.path.join(out, "tokenizer_cases.json"), "w") as f:
        json.dump(cases, f, ensure_ascii=True, separators=(",", ":"))
    print("tokenizer_cases.json: %d cases" % len(cases))


# ---------------------------------------------------------------------------------------------
# UMT5 encoder

UMT5_CONFIGS = [
    # name, d_model, d_kv, heads, d_ff, layers, vocab, buckets, max_distance, L (positions), real length
    ("umt5_a", 32, 8, 4, 48, 2, 64, 32, 128, 24, 17),
    ("umt5_b", 48, 16, 3, 72, 3, 80, 8, 20, 40, 40),
    ("umt5_c", 64, 16, 4, 96, 2, 96, 32, 128, 160, 150),
    ("umt5_tok", 32, 8, 4, 40, 2, None, 32, 128, 20, 20),   # vocab = tok_umt5.json's, for the text path
]
# Storage variants: umt5_b as two shards + model.safetensors.index.json (Diffusers text_encoder
# layout); umt5_c stored in float16 and in bfloat16 (ComfyUI / orig bf16 checkpoints), with the
# reference computed in fp32 from the rounded weights.
STORAGE = {"umt5_b": "sharded", "umt5_c": ("float16", "bfloat16")}

WAN_PROMPTS = ["A cat walks on the grass, realistic style.", "", NEG_ZH]


def gen_umt5(out):
    import torch
    from safetensors.torch import save_file
    from transformers import UMT5Config, UMT5EncoderModel
    for name, d, dkv, nh, dff, nl, vocab, nb, md, L, n_real in UMT5_CONFIGS:
        if vocab is None:
            vocab = Tokenizer.from_file(os.path.join(out, "tok_umt5.json")).get_vocab_size()
        torch.manual_seed(len(name) * 1000 + d)
        cfg = UMT5Config(vocab_size=vocab, d_model=d, d_kv=dkv, num_heads=nh, d_ff=dff, num_layers=nl,
                         relative_attention_num_buckets=nb, relative_attention_max_distance=md,
                         feed_forward_proj="gated-gelu", layer_norm_epsilon=1e-6, dropout_rate=0.0,
                         tie_word_embeddings=False)
        model = UMT5EncoderModel(cfg).eval().float()
        with torch.no_grad():
            for p in model.parameters():   # O(1) activations at every depth
                p.copy_(torch.randn_like(p) * (0.5 if p.dim() == 1 else 1.0 / max(1, p.shape[-1]) ** 0.5))
            for n_, p in model.named_parameters():
                if n_.endswith("layer_norm.weight"):
                    p.add_(1.0)
                if "relative_attention_bias" in n_:
                    p.mul_(2.0)
        ids = torch.randint(3, vocab, (1, L))
        ids[0, n_real - 1] = 1
        ids[0, n_real:] = 0
        mask = torch.zeros(1, L, dtype=torch.long)
        mask[0, :n_real] = 1
        with torch.no_grad():
            h = model(input_ids=ids, attention_mask=mask).last_hidden_state[0]
        h[n_real:] = 0.0   # Wan: rows past the real length are exactly zero
        sd = {k: v.contiguous() for k, v in model.state_dict().items() if k != "encoder.embed_tokens.weight"}
        os.makedirs(os.path.join(out, name), exist_ok=True)
        if STORAGE.get(name) == "sharded":
            keys = sorted(sd)
            half = len(keys) // 2
            shards = {"model-00001-of-00002.safetensors": keys[:half], "model-00002-of-00002.safetensors": keys[half:]}
            wm = {}
            for fn, ks in shards.items():
                save_file({k: sd[k] for k in ks}, os.path.join(out, name, fn))
                wm.update({k: fn for k in ks})
            total = sum(v.numel() * v.element_size() for v in sd.values())
            with open(os.path.join(out, name, "model.safetensors.index.json"), "w") as f:
                json.dump({"metadata": {"total_size": total}, "weight_map": wm}, f, indent=1)
        else:
            save_file(sd, os.path.join(out, name, "model.safetensors"))
        with open(os.path.join(out, name, "config.json"), "w") as f:
            json.dump(cfg.to_dict() | {"architectures": ["UMT5EncoderModel"]}, f, indent=1, default=str)
        if isinstance(STORAGE.get(name), tuple):
            for dt in STORAGE[name]:
                tdt = getattr(torch, dt)
                vname = "%s_%s" % (name, {"float16": "f16", "bfloat16": "bf16"}[dt])
                rounded = UMT5EncoderModel(cfg).eval().float()
                rounded.load_state_dict({k: v.to(tdt).float() for k, v in model.state_dict().items()})
                with torch.no_grad():
                    hr = rounded(input_ids=ids, attention_mask=mask).last_hidden_state[0]
                hr[n_real:] = 0.0
                os.makedirs(os.path.join(out, vname), exist_ok=True)
                save_file({k: v.to(tdt) for k, v in sd.items()}, os.path.join(out, vname, "model.safetensors"))
                with open(os.path.join(out, vname, "config.json"), "w") as f:
                    json.dump(cfg.to_dict() | {"architectures": ["UMT5EncoderModel"]}, f, indent=1, default=str)
                rel = torch.arange(-(L - 1), L)
                bk = model.encoder.block[0].layer[0].SelfAttention._relative_position_bucket(rel)
                save_file({"input_ids": ids[0].to(torch.int32), "attention_mask": mask[0].to(torch.int32),
                           "hidden": hr.contiguous(), "buckets": bk.to(torch.int32)},
                          os.path.join(out, vname + "_io.safetensors"))
                print("%s: %s storage" % (vname, dt))
        rel = torch.arange(-(L - 1), L)
        buckets = model.encoder.block[0].layer[0].SelfAttention._relative_position_bucket(rel)
        io_t = {"input_ids": ids[0].to(torch.int32), "attention_mask": mask[0].to(torch.int32),
                "hidden": h.contiguous(), "buckets": buckets.to(torch.int32)}
        if name == "umt5_tok":
            # The Wan call: tokenizer (max_length 64 here) -> encoder with the mask -> zero rows.
            tk = Tokenizer.from_file(os.path.join(out, "tok_umt5.json"))
            tk.enable_truncation(max_length=64)
            tk.enable_padding(length=64, pad_id=0, pad_token="<pad>")
            hs = []
            for t in WAN_PROMPTS:
                e = tk.encode(t)
                ii = torch.tensor([e.ids])
                mm = torch.tensor([e.attention_mask])
                with torch.no_grad():
                    hh = model(input_ids=ii, attention_mask=mm).last_hidden_state[0]
                hh[int(mm.sum()):] = 0.0
                hs.append(hh)
            io_t["prompt_hidden"] = torch.stack(hs).contiguous()
        save_file(io_t, os.path.join(out, name + "_io.safetensors"))
        print("%s: d=%d heads=%d dkv=%d ff=%d layers=%d vocab=%d buckets=%d maxdist=%d L=%d real=%d, |h| max %.3f"
              % (name, d, nh, dkv, dff, nl, vocab, nb, md, L, n_real, h.abs().max().item()))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "tests", "data", "text"))
    ap.add_argument("--only", choices=["tokenizer", "umt5"])
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    if a.only != "umt5":
        gen_tokenizers(a.out)
    if a.only != "tokenizer":
        gen_umt5(a.out)


if __name__ == "__main__":
    main()
