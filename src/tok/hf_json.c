/* Validating JSON scanner (RFC 8259 syntax) used for the large tokenizer.json
 * members; see hf_json.h for why. */
#include <stdio.h>
#include <string.h>
#include "tok/hf_json.h"

const char *hf_json_fail(hf_js *j, const char *at, const char *what) {
    if (at > j->end) at = j->end;
    size_t line = 1, col = 1;
    for (const char *p = j->base; p < at; p++) {
        if (*p == '\n') { line++; col = 1; } else col++;
    }
    snprintf(j->msg, j->cap, "%s: malformed JSON at line %zu, column %zu: %s", j->path, line, col, what);
    return NULL;
}

const char *hf_json_ws(const char *p, const char *end) {
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++;
    return p;
}

static int hexv(char c) {
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}
static long hex4(const char *p, const char *end) {
    if (end - p < 4) return -1;
    long v = 0;
    for (int i = 0; i < 4; i++) {
        int d = hexv(p[i]);
        if (d < 0) return -1;
        v = v * 16 + d;
    }
    return v;
}

const char *hf_json_str(hf_js *j, const char *p, hf_buf *out) {
    const char *end = j->end;
    if (p >= end || *p != '"') return hf_json_fail(j, p, "expected a string");
    p++;
    if (out) out->n = 0;
    for (;;) {
        const char *q = p;   /* copy the plain run in one go */
        while (q < end && *q != '"' && *q != '\\' && (unsigned char)*q >= 0x20) q++;
        if (out && q > p && hf_buf_put(out, p, (size_t)(q - p))) return hf_json_fail(j, p, "out of memory");
        p = q;
        if (p >= end) return hf_json_fail(j, p, "unterminated string");
        if (*p == '"') break;
        if ((unsigned char)*p < 0x20) return hf_json_fail(j, p, "control character in a string");
        p++;   /* backslash */
        if (p >= end) return hf_json_fail(j, p, "unterminated string");
        char c = *p++, o;
        switch (c) {
        case '"': o = '"'; break;
        case '\\': o = '\\'; break;
        case '/': o = '/'; break;
        case 'b': o = '\b'; break;
        case 'f': o = '\f'; break;
        case 'n': o = '\n'; break;
        case 'r': o = '\r'; break;
        case 't': o = '\t'; break;
        case 'u': {
            long cp = hex4(p, end);
            if (cp < 0) return hf_json_fail(j, p, "bad \\u escape");
            p += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                long lo = (end - p >= 6 && p[0] == '\\' && p[1] == 'u') ? hex4(p + 2, end) : -1;
                if (lo < 0xDC00 || lo > 0xDFFF) return hf_json_fail(j, p, "unpaired surrogate in \\u escape");
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                p += 6;
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) return hf_json_fail(j, p, "unpaired surrogate in \\u escape");
            char u[4];
            int k = hf_utf8_put(u, (uint32_t)cp);
            if (out && hf_buf_put(out, u, (size_t)k)) return hf_json_fail(j, p, "out of memory");
            continue;
        }
        default: return hf_json_fail(j, p - 1, "bad escape in a string");
        }
        if (out && hf_buf_putc(out, o)) return hf_json_fail(j, p, "out of memory");
    }
    if (out && !out->p && hf_buf_put(out, "", 0)) return hf_json_fail(j, p, "out of memory");
    return p + 1;
}

static const char *number(hf_js *j, const char *p) {
    const char *end = j->end, *s = p;
    if (p < end && *p == '-') p++;
    if (p >= end || *p < '0' || *p > '9') return hf_json_fail(j, s, "bad number");
    if (*p == '0') p++;
    else while (p < end && *p >= '0' && *p <= '9') p++;
    if (p < end && *p == '.') {
        p++;
        if (p >= end || *p < '0' || *p > '9') return hf_json_fail(j, s, "bad number");
        while (p < end && *p >= '0' && *p <= '9') p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-')) p++;
        if (p >= end || *p < '0' || *p > '9') return hf_json_fail(j, s, "bad number");
        while (p < end && *p >= '0' && *p <= '9') p++;
    }
    return p;
}

const char *hf_json_skip(hf_js *j, const char *p, int depth) {
    const char *end = j->end;
    p = hf_json_ws(p, end);
    if (p >= end) return hf_json_fail(j, p, "unexpected end of file");
    if (depth > 200) return hf_json_fail(j, p, "nested too deeply");
    switch (*p) {
    case '"': return hf_json_str(j, p, NULL);
    case '{': case '[': {
        char close = *p == '{' ? '}' : ']';
        int obj = *p == '{';
        p = hf_json_ws(p + 1, end);
        if (p < end && *p == close) return p + 1;
        for (;;) {
            if (obj) {
                p = hf_json_str(j, hf_json_ws(p, end), NULL);
                if (!p) return NULL;
                p = hf_json_ws(p, end);
                if (p >= end || *p != ':') return hf_json_fail(j, p, "expected ':'");
                p++;
            }
            p = hf_json_skip(j, p, depth + 1);
            if (!p) return NULL;
            p = hf_json_ws(p, end);
            if (p < end && *p == ',') { p++; continue; }
            if (p < end && *p == close) return p + 1;
            return hf_json_fail(j, p, obj ? "expected ',' or '}'" : "expected ',' or ']'");
        }
    }
    case 't': if (end - p >= 4 && !memcmp(p, "true", 4)) return p + 4; break;
    case 'f': if (end - p >= 5 && !memcmp(p, "false", 5)) return p + 5; break;
    case 'n': if (end - p >= 4 && !memcmp(p, "null", 4)) return p + 4; break;
    default:
        if (*p == '-' || (*p >= '0' && *p <= '9')) return number(j, p);
    }
    return hf_json_fail(j, p, "unexpected character");
}
