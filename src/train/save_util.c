/* Folder and JSON writing for trained artefacts. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "interv/io.h"
#include "train/internal.h"

int iv_train_mkdir(const char *dir, iv_err *err) {
    struct stat st;
    if (mkdir(dir, 0777) == 0) return 0;
    if (errno == EEXIST && stat(dir, &st) == 0 && S_ISDIR(st.st_mode)) return 0;
    return iv_errf(err, "%s: cannot create folder: %s", dir, errno == EEXIST ? "a file is in the way" : strerror(errno));
}

int iv_train_write_json(const char *path, json_t *j, iv_err *err) {
    char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (!s) return iv_errf(err, "%s: cannot serialise JSON", path);
    size_t n = strlen(s);
    char *t = realloc(s, n + 2);  /* end the file with a newline */
    if (t) { s = t; s[n++] = '\n'; s[n] = 0; }
    int rc = iv_write_atomic(path, s, n, err);
    free(s);
    return rc;
}
