// Leveled logging to stderr. The level comes from vd_log_set_level() or the VDIT_LOG
// environment variable (error|warn|info|debug), read once on first use.
#pragma once
#ifdef __cplusplus
extern "C" {
#endif

typedef enum { VD_LOG_ERROR = 0, VD_LOG_WARN, VD_LOG_INFO, VD_LOG_DEBUG, VD_LOG_LEVEL_COUNT } vd_log_level;

void vd_log_set_level(vd_log_level level);
vd_log_level vd_log_get_level(void);
const char *vd_log_level_name(vd_log_level level);
int vd_log_level_from_name(const char *name, vd_log_level *out); // 0 on success, -1 unknown
void vd_log(vd_log_level level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

#define VD_LOGE(...) vd_log(VD_LOG_ERROR, __VA_ARGS__)
#define VD_LOGW(...) vd_log(VD_LOG_WARN, __VA_ARGS__)
#define VD_LOGI(...) vd_log(VD_LOG_INFO, __VA_ARGS__)
#define VD_LOGD(...) vd_log(VD_LOG_DEBUG, __VA_ARGS__)

#ifdef __cplusplus
}
#endif
