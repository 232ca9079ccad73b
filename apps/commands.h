// Subcommand table entries. Each cmd_* takes (argc, argv) with argv[0] = the command name
// and returns the process exit code (0 ok, 1 runtime error, 2 usage error).
#pragma once
#include <stdio.h>

typedef struct {
    const char *name;
    const char *help;
    int (*run)(int argc, char **argv);
} vd_command;

int cmd_version(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_dit_forward(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_encode(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_tokenize(int argc, char **argv);
int cmd_vae_decode(int argc, char **argv);
int cmd_attention(int argc, char **argv);
int cmd_encode_text(int argc, char **argv);
int cmd_generate(int argc, char **argv);
