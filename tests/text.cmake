# Tokenizer and UMT5 text encoder (issue 6). Fixtures: scripts/gen_text_fixtures.py.
vdit_add_test(NAME test_tokenizer LABEL cpu SOURCES test_tokenizer.c LIBS vdit_dit TIMEOUT 120)
