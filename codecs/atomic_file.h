// Atomic outputs: every file the codecs write is first created under a temporary name in the
// target's own directory (same filesystem, so rename(2) is atomic) and renamed onto the requested
// name only when it is complete. On failure the temporary is removed. A reader therefore never sees
// a half-written file under the requested name, and a failed run leaves nothing behind.
//
// Temporary names: "<dir>/.<basename>.tmp-XXXXXX" (mkstemp / mkdtemp). A process killed by a signal
// can leave such a hidden temporary behind; it never leaves a partial file under the final name.
// Final permissions follow the umask (0666 & ~umask for files, 0777 & ~umask for directories),
// not mkstemp's 0600.
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "lib/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VD_PATH_MAX 4096

typedef struct {
    char final_path[VD_PATH_MAX]; // the requested name
    char tmp_path[VD_PATH_MAX];   // where the data is written until commit
    int fd;                       // open descriptor on tmp_path (-1 once closed or handed over)
    bool active;                  // tmp_path exists and is owned by this object
} vd_atomic_file;

// Creates the temporary file next to path (fd open for writing). Fails with VD_ERR_IO and a message
// naming the directory when it does not exist or is not writable.
vd_status vd_atomic_file_open(vd_atomic_file *af, const char *path, vd_error *err);
// Closes fd if still open, fixes permissions and renames tmp_path onto final_path.
// On failure the temporary is removed.
vd_status vd_atomic_file_commit(vd_atomic_file *af, vd_error *err);
// Closes fd if open and removes the temporary. Safe to call twice or after commit (then a no-op).
void vd_atomic_file_discard(vd_atomic_file *af);

// Same for a directory of files (PNG frame sequences): files are written inside tmp_path; commit
// renames the directory onto final_path when that does not exist yet, else moves each file into it
// (overwriting same-named files) and removes the temporary directory.
typedef struct {
    char final_path[VD_PATH_MAX];
    char tmp_path[VD_PATH_MAX];
    bool active;
} vd_atomic_dir;

vd_status vd_atomic_dir_open(vd_atomic_dir *ad, const char *path, vd_error *err);
vd_status vd_atomic_dir_commit(vd_atomic_dir *ad, vd_error *err);
void vd_atomic_dir_discard(vd_atomic_dir *ad);

// Splits path into its directory ("." when none) and base name. Returns false when a part does
// not fit in cap bytes or the base name is empty.
bool vd_path_split(const char *path, char *dir, size_t dir_cap, char *base, size_t base_cap);
// Lower-case extension of path without the dot ("" when none), e.g. "mp4".
void vd_path_ext(const char *path, char *ext, size_t cap);

#ifdef __cplusplus
}
#endif
