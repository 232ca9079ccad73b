// The DiT's attention seam: builds the attention layer's params for contiguous [B, N, NH, D]
// tensors and dispatches to the configured method (self-attention) or to dense attention.
#include "dit/wan_attention.h"

#include <limits.h>

static vd_status check_sizes(const char *fn, int64_t B, int64_t Nq, int64_t Nk, int64_t NH, int64_t D, vd_error *err) {
    if (B < 1 || Nq < 1 || Nk < 1 || NH < 1 || D < 1 || B > INT_MAX || Nq > INT_MAX || Nk > INT_MAX || NH > INT_MAX || D > INT_MAX)
        return vd_error_set(err, VD_ERR_INVALID_ARG, "%s: B %lld, Nq %lld, Nk %lld, NH %lld, D %lld must be in [1, %d]", fn,
                            (long long)B, (long long)Nq, (long long)Nk, (long long)NH, (long long)D, INT_MAX);
    return VD_OK;
}

static vd_status dense(vd_device_kind device, const vd_attn_params *p, void *stream, vd_error *err) {
    if (device == VD_DEVICE_CPU) return vd_attn_dense_cpu(p, err);
    return vd_attn_dense_cuda(p, stream, err);
}

size_t vd_wan_self_attention_ws(const vd_wan_attn_call *call, vd_device_kind device, int64_t B, int64_t N, int64_t NH,
                                int64_t D) {
    if (!call->method) return 0;
    vd_attn_params p;
    vd_attn_params_contiguous(&p, device, NULL, NULL, NULL, NULL, (int)B, (int)N, (int)N, (int)NH, (int)NH, (int)D);
    return vd_attn_workspace_bytes(call->method, &p, &call->ctx);
}

vd_status vd_wan_self_attention(const vd_wan_attn_call *call, vd_device_kind device, void *o, const void *q,
                                const void *k, const void *v, int64_t B, int64_t N, int64_t NH, int64_t D, vd_error *err) {
    VD_TRY(check_sizes("vd_wan_self_attention", B, N, N, NH, D, err));
    vd_attn_params p;
    vd_attn_params_contiguous(&p, device, q, k, v, o, (int)B, (int)N, (int)N, (int)NH, (int)NH, (int)D);
    if (!call->method) return dense(device, &p, call->stream, err);
    size_t need = vd_attn_workspace_bytes(call->method, &p, &call->ctx);
    if (need > call->ws_bytes)
        return vd_error_set(err, VD_ERR_INTERNAL, "vd_wan_self_attention: method '%s' needs %zu workspace bytes, %zu given",
                            vd_attn_get_method(call->method)->name, need, call->ws_bytes);
    return vd_attn_run(call->method, &p, &call->ctx, call->ws, call->stream, err);
}

vd_status vd_wan_cross_attention(const vd_wan_attn_call *call, vd_device_kind device, void *o, const void *q,
                                 const void *k, const void *v, int64_t B, int64_t Nq, int64_t Nk, int64_t NH, int64_t D,
                                 vd_error *err) {
    VD_TRY(check_sizes("vd_wan_cross_attention", B, Nq, Nk, NH, D, err));
    vd_attn_params p;
    vd_attn_params_contiguous(&p, device, q, k, v, o, (int)B, (int)Nq, (int)Nk, (int)NH, (int)NH, (int)D);
    return dense(device, &p, call->stream, err);
}
