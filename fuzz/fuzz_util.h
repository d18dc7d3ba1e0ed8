/* Shared by the libFuzzer targets: the parsers take paths, so each input is
 * written to a file in a per-process scratch folder (on /dev/shm when it exists,
 * so the write costs no disk I/O).  The folder is removed at exit. */
#ifndef INTERV_FUZZ_UTIL_H
#define INTERV_FUZZ_UTIL_H
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <ftw.h>
#include <sys/stat.h>

static char fz_dir[256];

static inline int fz_rm_one(const char *p, const struct stat *s, int flag, struct FTW *f) {
    (void)s; (void)flag; (void)f;
    return remove(p);
}
static inline void fz_cleanup(void) {
    if (fz_dir[0]) nftw(fz_dir, fz_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* The scratch folder, created on first use. */
static inline const char *fz_scratch(void) {
    if (!fz_dir[0]) {
        const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
        snprintf(fz_dir, sizeof fz_dir, "%s/interv-fuzz-XXXXXX", base);
        if (!mkdtemp(fz_dir)) { perror("mkdtemp"); abort(); }
        atexit(fz_cleanup);
        /* one thread: the fuzzers measure parsers, not OpenMP */
        setenv("OMP_NUM_THREADS", "1", 1);
        setenv("OPENBLAS_NUM_THREADS", "1", 1);
    }
    return fz_dir;
}

/* Writes data to <scratch>/<rel> (rel may name a subfolder, created as needed)
 * and returns the full path in a static buffer of the caller's choosing. */
static inline const char *fz_write(char *path, size_t cap, const char *rel, const uint8_t *d, size_t n) {
    snprintf(path, cap, "%s/%s", fz_scratch(), rel);
    char *slash = strrchr(path, '/');
    if (slash > path + strlen(fz_dir)) { /* make the subfolder */
        *slash = 0;
        mkdir(path, 0700);
        *slash = '/';
    }
    FILE *f = fopen(path, "wb");
    if (!f) { perror(path); abort(); }
    if (n && fwrite(d, 1, n, f) != n) { perror(path); abort(); }
    fclose(f);
    return path;
}

static inline void fz_unlink(const char *rel) {
    char p[512];
    snprintf(p, sizeof p, "%s/%s", fz_scratch(), rel);
    unlink(p);
}

/* A malformed input may be reported, never crash: a failed call must leave a
 * message (callers clear it first).  A message spanning several lines (a file's
 * bytes echoed into it) is reported once per process, not treated as a crash. */
static inline void fz_check_msg(const char *msg) {
    static int warned;
    if (!msg[0]) {
        fprintf(stderr, "fuzz: call failed without an error message\n");
        abort();
    }
    if (strchr(msg, '\n') && !warned) {
        warned = 1;
        fprintf(stderr, "fuzz: warning: multi-line error message: '%s'\n", msg);
    }
}

/* Splits data at the first NUL byte: [0, k) and [k+1, n).  Without one, the whole
 * input is the first part and the second is empty (second_n = 0, second = NULL). */
static inline size_t fz_split(const uint8_t *d, size_t n, const uint8_t **second, size_t *second_n) {
    const uint8_t *z = memchr(d, 0, n);
    if (!z) { *second = NULL; *second_n = 0; return n; }
    *second = z + 1;
    *second_n = n - (size_t)(z - d) - 1;
    return (size_t)(z - d);
}

#endif
