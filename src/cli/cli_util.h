/* Helpers shared by the CLI commands. */
#ifndef INTERV_CLI_UTIL_H
#define INTERV_CLI_UTIL_H
#include "interv/model.h"

/* Loads a model (and its tokenizer) and reports failures as
 * "interv <cmd>: <message>" on stderr.  Returns NULL on failure. */
iv_model *cli_load_model(const char *cmd, const char *path, const char *tok_path);
/* --compute MODE: returns the iv_compute for "f32" / "bf16" (NULL: f32), or
 * -1 after printing one line: a bad value, or bf16 on a CPU without
 * AVX512-BF16 ("unavailable").  Checked before a model is loaded. */
int cli_compute(const char *cmd, const char *mode);
/* Puts m in compute mode c (after cli_compute); -1 after printing the error. */
int cli_set_compute(const char *cmd, iv_model *m, int c);
#define CLI_COMPUTE_HELP "  --compute f32|bf16 f32 (default): weights widened to f32, f32 products; bf16: weights\n" \
                         "                     in bf16, activations rounded to bf16, f32 sums (needs AVX512-BF16)\n"
/* Sets OpenMP and BLAS threads (n <= 0: leave the default). */
void cli_set_threads(int n);
/* Parses a number option; on failure prints the error and returns -1. */
int cli_parse_int(const char *cmd, const char *opt, const char *s, long lo, long hi, long *out);
int cli_parse_float(const char *cmd, const char *opt, const char *s, double *out);
/* Reads a text file of one item per line (empty lines skipped); returns count or -1. */
int cli_read_lines(const char *cmd, const char *path, char ***lines);
void cli_free_lines(char **lines, int n);
#endif
