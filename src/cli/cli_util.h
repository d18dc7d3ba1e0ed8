/* Helpers shared by the CLI commands. */
#ifndef INTERV_CLI_UTIL_H
#define INTERV_CLI_UTIL_H
#include "interv/model.h"

/* Loads a model (and its tokenizer) and reports failures as
 * "interv <cmd>: <message>" on stderr.  Returns NULL on failure. */
iv_model *cli_load_model(const char *cmd, const char *path, const char *tok_path);
/* Sets OpenMP and BLAS threads (n <= 0: leave the default). */
void cli_set_threads(int n);
/* Parses a number option; on failure prints the error and returns -1. */
int cli_parse_int(const char *cmd, const char *opt, const char *s, long lo, long hi, long *out);
int cli_parse_float(const char *cmd, const char *opt, const char *s, double *out);
/* Reads a text file of one item per line (empty lines skipped); returns count or -1. */
int cli_read_lines(const char *cmd, const char *path, char ***lines);
void cli_free_lines(char **lines, int n);
#endif
