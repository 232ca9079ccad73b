// `vdit dit-forward` and `vdit info` end to end: the CLI's output on every fixture matches the
// diffusers golden output (same metric and bound as test_wan_dit: max|a-b|/max|b| <= 1e-4), and
// bad inputs exit non-zero with a message naming the tensor and the shapes.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "lib/safetensors.h"
#include "lib/tensor.h"
#include "test_util.h"
#include "wan_test_util.h"

static char g_vdit[4096];

// Runs `vdit <args>`; stdout+stderr into dir/log.txt; returns the exit code and the log text.
static int run_vdit(const char *dir, const char *args, const char **log) {
    char cmd[16384], logp[4200];
    snprintf(logp, sizeof logp, "%s/log.txt", dir);
    snprintf(cmd, sizeof cmd, "'%s' %s > '%s' 2>&1", g_vdit, args, logp);
    int rc = system(cmd);
    *log = wt_read_text(logp);
    if (!*log) *log = "";
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : 128;
}

static void expect_run(const char *label, const char *dir, const char *args, int want_rc, const char *n1, const char *n2,
                       const char *n3) {
    const char *log;
    int rc = run_vdit(dir, args, &log);
    bool ok = (want_rc < 0 ? rc != 0 : rc == want_rc) && (!n1 || strstr(log, n1)) && (!n2 || strstr(log, n2)) &&
              (!n3 || strstr(log, n3));
    const char *last = log + strlen(log);
    while (last > log && last[-1] == '\n') last--;
    const char *line = last;
    while (line > log && line[-1] != '\n') line--;
    printf("%s %s: exit %d: %.*s\n", ok ? "ok  " : "FAIL", label, rc, (int)(last - line), line);
    if (!ok) {
        printf("---- log ----\n%s-------------\n", log);
        vt_failures++;
    }
}

static void parity(const char *name, const char *tmp) {
    char src[4096], args[16384], outp[4200];
    snprintf(src, sizeof src, "%s", vt_src_path("tests/data/dit"));
    snprintf(outp, sizeof outp, "%s/out_%s.safetensors", tmp, name);
    snprintf(args, sizeof args, "dit-forward --model '%s/%s' --input '%s/%s/io.safetensors' --out '%s'", src, name, src, name, outp);
    const char *log;
    int rc = run_vdit(tmp, args, &log);
    char iop[8400];
    snprintf(iop, sizeof iop, "%s/%s/io.safetensors", src, name);
    wt_io io;
    vd_st_file *f = NULL;
    vd_error err = {0};
    bool ok = rc == 0 && wt_io_load(&io, iop);
    double rel = -1;
    if (ok && vd_st_open(&f, outp, &err) == VD_OK) {
        const vd_st_tensor *t = vd_st_find(f, "output");
        int64_t shape[5] = {io.B, io.Cout, io.F, io.H, io.W}, n = io.B * io.Cout * io.F * io.H * io.W;
        float *out = vd_host_alloc((size_t)n * 4);
        if (t && out && vd_st_read_f32(t, out, 5, shape, &err) == VD_OK) rel = wt_rel_err(out, io.expected, n);
        else printf("     output tensor: %s\n", t ? err.msg : "missing");
        vd_host_free(out);
        vd_st_close(f);
    }
    if (rc == 0) wt_io_free(&io);
    ok = ok && rel >= 0 && rel <= 1e-4;
    printf("%s cli dit-forward %s: exit %d, rel err %.3e (tol 1e-4)\n", ok ? "ok  " : "FAIL", name, rc, rel);
    if (!ok) {
        printf("---- log ----\n%s-------------\n", log);
        vt_failures++;
    }
}

int main(void) {
    const char *bin = getenv("VDIT_BINARY_DIR");
    snprintf(g_vdit, sizeof g_vdit, "%s/apps/vdit", bin ? bin : "../build");
    const char *tmp = wt_tmpdir();
    VT_EXPECT(tmp != NULL);
    if (!tmp) return vt_finish("test_wan_cli");
    char tmpd[64];
    snprintf(tmpd, sizeof tmpd, "%s", tmp);
    const char *cases[] = {"d32h2l2", "d16h3l3", "orig_d24h2l1"};
    for (int i = 0; i < 3; i++) parity(cases[i], tmpd);

    char src[4096], a[16384];
    snprintf(src, sizeof src, "%s", vt_src_path("tests/data/dit"));
    snprintf(a, sizeof a, "info --model '%s/orig_d24h2l1'", src);
    expect_run("info (orig layout)", tmpd, a, 0, "layout:      orig", "2 heads x 24", "parameters:");
    snprintf(a, sizeof a, "info --model '%s/d16h3l3'", src);
    expect_run("info (diffusers layout)", tmpd, a, 0, "layout:      diffusers", "cross_attn_norm off", "f32");

    // Self-attention through a configured method of the attention layer.
    snprintf(a, sizeof a, "dit-forward --model '%s/d32h2l2' --input '%s/d32h2l2/io.safetensors' --out '%s/o.st' --attention dense",
             src, src, tmpd);
    expect_run("--attention dense", tmpd, a, 0, "wrote", NULL, NULL);
    snprintf(a, sizeof a, "dit-forward --model '%s/d32h2l2' --input '%s/d32h2l2/io.safetensors' --out '%s/o.st' --attention nosuch",
             src, src, tmpd);
    expect_run("--attention unknown", tmpd, a, 1, "nosuch", "known:", NULL);

    // Bad inputs: usage errors exit 2, data errors exit 1 with the tensor named.
    expect_run("no --model", tmpd, "dit-forward --input x --out y", 2, "--model", NULL, NULL);
    snprintf(a, sizeof a, "dit-forward --model '%s/d32h2l2' --input '%s/d32h2l2/io.safetensors' --out '%s/o.st' --device tpu", src,
             src, tmpd);
    expect_run("bad --device", tmpd, a, 2, "tpu", NULL, NULL);
    snprintf(a, sizeof a, "dit-forward --model '%s/nonexistent' --input '%s/d32h2l2/io.safetensors' --out '%s/o.st'", tmpd, src, tmpd);
    expect_run("missing model dir", tmpd, a, 1, "nonexistent", NULL, NULL);

    // Model with a dropped tensor / wrong shape / unknown names.
    char mdir[4096], cfgp[8400], cfg[8192];
    snprintf(mdir, sizeof mdir, "%s/model", tmpd);
    snprintf(a, sizeof a, "mkdir -p '%s'", mdir);
    VT_EXPECT(system(a) == 0);
    snprintf(cfgp, sizeof cfgp, "%s/d32h2l2/config.json", src);
    snprintf(cfg, sizeof cfg, "%s", wt_read_text(cfgp) ? wt_read_text(cfgp) : "{}");
    char srcm[8400];
    snprintf(srcm, sizeof srcm, "%s/d32h2l2", src);
    wt_rewrite rw = {.layout = VD_WAN_LAYOUT_DIFFUSERS, .config_json = cfg, .drop_name = "blocks.0.attn2.norm_k.weight"};
    VT_EXPECT(wt_rewrite_model(srcm, mdir, &rw));
    snprintf(a, sizeof a, "dit-forward --model '%s' --input '%s/d32h2l2/io.safetensors' --out '%s/o.st'", mdir, src, tmpd);
    expect_run("missing tensor", tmpd, a, 1, "missing tensor", "blocks.0.attn2.norm_k.weight", NULL);
    snprintf(a, sizeof a, "info --model '%s'", mdir);
    expect_run("info: missing tensor", tmpd, a, 1, "blocks.0.attn2.norm_k.weight", NULL, NULL);

    rw = (wt_rewrite){.layout = VD_WAN_LAYOUT_DIFFUSERS, .config_json = cfg, .shrink_name = "blocks.1.attn1.to_out.0.weight"};
    VT_EXPECT(wt_rewrite_model(srcm, mdir, &rw));
    snprintf(a, sizeof a, "dit-forward --model '%s' --input '%s/d32h2l2/io.safetensors' --out '%s/o.st'", mdir, src, tmpd);
    expect_run("wrong shape", tmpd, a, 1, "blocks.1.attn1.to_out.0.weight", "expected shape [64, 64]", "found [64, 63]");

    rw = (wt_rewrite){.layout = VD_WAN_LAYOUT_DIFFUSERS, .prefix = "unet.", .config_json = cfg};
    VT_EXPECT(wt_rewrite_model(srcm, mdir, &rw));
    expect_run("unknown layout", tmpd, a, 1, "unknown key layout", NULL, NULL);

    // Input file whose latent has the wrong channel count (model d32h2l2 wants 4; d16h3l3's has 5).
    snprintf(a, sizeof a, "dit-forward --model '%s/d32h2l2' --input '%s/d16h3l3/io.safetensors' --out '%s/o.st'", src, src, tmpd);
    expect_run("latent channels", tmpd, a, 1, "'latent'", "[1, 5, 1, 4, 6]", "[B, 4, F, H, W]");
    // Input file lacking `context` (a model file has none of the input names).
    snprintf(a, sizeof a, "dit-forward --model '%s/d32h2l2' --input '%s/d32h2l2/config.json' --out '%s/o.st'", src, src, tmpd);
    expect_run("input not safetensors", tmpd, a, 1, "config.json", NULL, NULL);
    snprintf(a, sizeof a, "dit-forward --model '%s/d32h2l2' --input '%s/d32h2l2/diffusion_pytorch_model.safetensors' --out '%s/o.st'",
             src, src, tmpd);
    expect_run("input without latent", tmpd, a, 1, "no tensor 'latent'", NULL, NULL);
    wt_rmdir(tmpd);
    return vt_finish("test_wan_cli");
}
