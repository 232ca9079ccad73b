// vdit: the command-line entry point. Each subcommand lives in its own apps/cmd_<name>.c and
// is listed in the table below. Exit codes: 0 ok, 1 runtime error, 2 usage error.
#include <stdio.h>
#include <string.h>

#include "apps/commands.h"

static const vd_command k_commands[] = {
    {"version", "print the version and the build's features", cmd_version},
    {"attention", "attention methods: list (parameters, defaults), config, radial-mask", cmd_attention},
    {"vae-decode", "decode a Wan latent to video frames (Wan2.1 VAE)", cmd_vae_decode},
    {"inspect", "list the tensors, totals and metadata of a safetensors file, index or directory", cmd_inspect},
    {"dit-forward", "one Wan DiT forward on tensors from a safetensors file (parity checks)", cmd_dit_forward},
    {"info", "detected architecture, layout, parameter count and dtypes of a model", cmd_info},
    {"encode", "re-encode frames or a video to mp4/webm/mkv/y4m/png", cmd_encode},
    {"compare", "PSNR and SSIM between two videos or frame sequences", cmd_compare},
    {"tokenize", "print the token ids of a text (umT5 tokenizer.json, as the Wan pipeline tokenizes)", cmd_tokenize},
    {"encode-text", "umT5 text embeddings of a prompt (and a negative prompt) for Wan, to safetensors", cmd_encode_text},
    {"generate", "text-to-video with a Wan2.1 model folder (default: the bundled vdit-tiny)", cmd_generate},
};

static void usage(FILE *f) {
    fprintf(f, "usage: vdit <command> [options]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof k_commands / sizeof k_commands[0]; i++)
        fprintf(f, "  %-14s %s\n", k_commands[i].name, k_commands[i].help);
    fprintf(f, "\n`vdit <command> --help` describes a command's options.\n");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof k_commands / sizeof k_commands[0]; i++)
        if (!strcmp(argv[1], k_commands[i].name)) return k_commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "vdit: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
