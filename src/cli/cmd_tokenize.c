/* interv tokenize: text lines -> id lines (or ids -> text with --decode). */
#include <errno.h>
#include <getopt.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "interv/tokenizer.h"

static void usage(FILE *f) {
    fprintf(f,
        "usage: interv tokenize (--model PATH | --tokenizer PATH) [--no-special] [--decode]\n"
        "\n"
        "Reads UTF-8 text from stdin, one text per line (the newline is not part of\n"
        "the text), and prints one line of space-separated token ids per input line.\n"
        "Special tokens (BOS etc.) are added as the tokenizer's post-processor says.\n"
        "Input that is not valid UTF-8 is rejected (error naming the line).\n"
        "\n"
        "  --model PATH      a Hugging Face model folder (tokenizer.json, else\n"
        "                    vocab.json + merges.txt), or a model file: the first\n"
        "                    tok*.bin beside it (sorted) is used\n"
        "  --tokenizer PATH  tokenizer.json, vocab.json/encoder.json (merges.txt/\n"
        "                    vocab.bpe beside it), a llama2.c tok*.bin, or a folder\n"
        "                    holding one of them\n"
        "  --no-special      do not add special tokens\n"
        "  --decode          read lines of ids instead and print one text per line;\n"
        "                    inside a decoded text a newline is written as \\n and a\n"
        "                    backslash as \\\\ (nothing else is escaped)\n"
        "  -h, --help        this help\n");
}

static int err_line(const char *msg) {
    fprintf(stderr, "interv tokenize: %s\n", msg);
    return 1;
}

/* The first tok*.bin (sorted) in the folder of `model`. */
static int load_beside(const char *model, iv_tokenizer **t, iv_err *err) {
    char pat[4096];
    const char *slash = strrchr(model, '/');
    if (slash) snprintf(pat, sizeof pat, "%.*s/tok*.bin", (int)(slash - model), model);
    else snprintf(pat, sizeof pat, "tok*.bin");
    glob_t g;
    int rc = glob(pat, 0, NULL, &g);   /* glob sorts by default */
    if (rc != 0 || !g.gl_pathc) {
        if (rc == 0) globfree(&g);
        return iv_errf(err, "%s: no tok*.bin beside the model file", model);
    }
    rc = iv_tok_load(g.gl_pathv[0], t, err);
    globfree(&g);
    return rc;
}

static int encode_lines(const iv_tokenizer *t, int special) {
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    ssize_t len;
    iv_err err;
    while ((len = getline(&line, &cap, stdin)) >= 0) {
        lineno++;
        if (len && line[len - 1] == '\n') len--;
        int32_t *ids; size_t n;
        if (iv_tok_encode(t, line, (size_t)len, special, &ids, &n, &err)) {
            fprintf(stderr, "interv tokenize: line %zu: %s\n", lineno, err.msg);
            free(line);
            return 1;
        }
        for (size_t i = 0; i < n; i++) printf(i ? " %d" : "%d", ids[i]);
        putchar('\n');
        free(ids);
    }
    free(line);
    return 0;
}

static int decode_lines(const iv_tokenizer *t) {
    char *line = NULL;
    size_t cap = 0, lineno = 0, idcap = 0;
    int32_t *ids = NULL;
    ssize_t len;
    iv_err err;
    int rc = 0;
    while (!rc && (len = getline(&line, &cap, stdin)) >= 0) {
        lineno++;
        size_t n = 0;
        char *p = line;
        for (;;) {
            while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
            if (!*p) break;
            char *end;
            errno = 0;
            long v = strtol(p, &end, 10);
            if (end == p || errno || v < 0 || v > INT32_MAX ||
                (*end && *end != ' ' && *end != '\t' && *end != '\n' && *end != '\r')) {
                int w = (int)strcspn(p, " \t\r\n");
                fprintf(stderr, "interv tokenize: line %zu: \"%.*s\" is not a token id\n", lineno, w > 20 ? 20 : w, p);
                rc = 1;
                break;
            }
            if (n == idcap) {
                idcap = idcap ? idcap * 2 : 64;
                int32_t *q = realloc(ids, idcap * sizeof *q);
                if (!q) { rc = err_line("out of memory"); break; }
                ids = q;
            }
            ids[n++] = (int32_t)v;
            p = end;
        }
        if (rc) break;
        char *text; size_t tl;
        if (iv_tok_decode(t, ids, n, 0, &text, &tl, &err)) {
            fprintf(stderr, "interv tokenize: line %zu: %s\n", lineno, err.msg);
            rc = 1;
            break;
        }
        for (size_t i = 0; i < tl; i++) {
            if (text[i] == '\n') fputs("\\n", stdout);
            else if (text[i] == '\\') fputs("\\\\", stdout);
            else putchar(text[i]);
        }
        putchar('\n');
        free(text);
    }
    free(ids);
    free(line);
    return rc;
}

int cmd_tokenize(int argc, char **argv) {
    static const struct option opts[] = {
        {"model", required_argument, 0, 'm'}, {"tokenizer", required_argument, 0, 't'},
        {"no-special", no_argument, 0, 'n'},  {"decode", no_argument, 0, 'd'},
        {"help", no_argument, 0, 'h'},        {0, 0, 0, 0}};
    const char *model = NULL, *tokfile = NULL;
    int special = 1, decode = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'm': model = optarg; break;
        case 't': tokfile = optarg; break;
        case 'n': special = 0; break;
        case 'd': decode = 1; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) { fprintf(stderr, "interv tokenize: unexpected argument '%s'\n", argv[optind]); return 2; }
    if (!model == !tokfile) return err_line("give exactly one of --model PATH or --tokenizer PATH"), 2;
    iv_tokenizer *t = NULL;
    iv_err err;
    int rc;
    if (tokfile) rc = iv_tok_load(tokfile, &t, &err);
    else {
        struct stat st;
        if (stat(model, &st) != 0) {
            fprintf(stderr, "interv tokenize: %s: %s\n", model, strerror(errno));
            return 1;
        }
        rc = S_ISDIR(st.st_mode) ? iv_tok_load_dir(model, &t, &err) : load_beside(model, &t, &err);
    }
    if (rc) return err_line(err.msg);
    static char obuf[1 << 16];
    setvbuf(stdout, obuf, _IOFBF, sizeof obuf);
    rc = decode ? decode_lines(t) : encode_lines(t, special);
    if (fflush(stdout) != 0) rc = err_line("cannot write the output");
    iv_tok_free(t);
    return rc;
}
