/* Intervention success: does a text name the concept?  Whole-word,
 * case-insensitive matching of surface forms, plus the concepts.json reader. */
#include <ctype.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>
#include "interv/eval.h"

/* Case-folded, composed copy; invalid UTF-8 (a continuation can end inside a
 * multi-byte character) falls back to ASCII lower-casing of the bytes. */
static char *fold(const char *s) {
    utf8proc_uint8_t *d = NULL;
    utf8proc_ssize_t n = utf8proc_map((const utf8proc_uint8_t *)s, 0, &d,
                                      UTF8PROC_NULLTERM | UTF8PROC_STABLE | UTF8PROC_COMPOSE |
                                          UTF8PROC_CASEFOLD);
    if (n >= 0) return (char *)d;
    char *c = strdup(s);
    if (c)
        for (char *p = c; *p; p++) *p = (char)tolower((unsigned char)*p);
    return c;
}

static int is_word_cp(utf8proc_int32_t cp) {
    switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO: case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ME: case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO:
        return 1;
    default:
        return 0;
    }
}

/* Is the character ending just before byte i of s a word character? */
static int word_before(const char *s, size_t i) {
    if (i == 0) return 0;
    size_t k = i - 1;
    while (k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80) k--;
    utf8proc_int32_t cp;
    if (utf8proc_iterate((const utf8proc_uint8_t *)s + k, (utf8proc_ssize_t)(i - k), &cp) <= 0)
        return isalnum((unsigned char)s[i - 1]) != 0;
    return is_word_cp(cp);
}

static int word_at(const char *s, size_t i) {
    if (!s[i]) return 0;
    utf8proc_int32_t cp;
    if (utf8proc_iterate((const utf8proc_uint8_t *)s + i, -1, &cp) <= 0)
        return isalnum((unsigned char)s[i]) != 0;
    return is_word_cp(cp);
}

int iv_text_mentions(const char *text, const char *const *forms, size_t n_forms) {
    if (!text) return 0;
    char *t = fold(text);
    if (!t) return 0;
    int hit = 0;
    for (size_t f = 0; f < n_forms && !hit; f++) {
        if (!forms[f] || !forms[f][0]) continue;
        char *w = fold(forms[f]);
        if (!w) continue;
        size_t wl = strlen(w);
        for (const char *p = t; wl && (p = strstr(p, w)) != NULL; p++) {
            size_t i = (size_t)(p - t);
            if (!word_before(t, i) && !word_at(t, i + wl)) {
                hit = 1;
                break;
            }
        }
        free(w);
    }
    free(t);
    return hit;
}

int iv_success(const char *prompt, const char *continuation, const char *const *forms,
               size_t n_forms, int match_prompt) {
    if (!match_prompt) return iv_text_mentions(continuation, forms, n_forms);
    size_t a = prompt ? strlen(prompt) : 0, b = continuation ? strlen(continuation) : 0;
    char *j = malloc(a + b + 1);
    if (!j) return 0;
    if (a) memcpy(j, prompt, a);
    if (b) memcpy(j + a, continuation, b);
    j[a + b] = 0;
    int r = iv_text_mentions(j, forms, n_forms);
    free(j);
    return r;
}

/* ---- concepts.json ---------------------------------------------------------------- */

static int add_concept(iv_concept_set *s, const char *path, const char *name, json_t *forms,
                       iv_err *err) {
    if (!name || !name[0]) return iv_errf(err, "%s: a concept has no name", path);
    if (forms && !json_is_array(forms))
        return iv_errf(err, "%s: concept '%s': surface forms must be an array of strings", path, name);
    iv_concept *c = &s->c[s->n];
    memset(c, 0, sizeof *c);
    size_t nf = forms ? json_array_size(forms) : 0;
    c->name = strdup(name);
    c->forms = calloc(nf + 1, sizeof *c->forms);
    if (!c->name || !c->forms) {
        free(c->name);
        free(c->forms);
        return iv_errf(err, "%s: out of memory", path);
    }
    s->n++;
    c->forms[c->n_forms++] = strdup(name);
    for (size_t i = 0; i < nf; i++) {
        json_t *v = json_array_get(forms, i);
        if (!json_is_string(v))
            return iv_errf(err, "%s: concept '%s': surface form %zu is not a string", path, name, i);
        const char *f = json_string_value(v);
        if (!f[0]) return iv_errf(err, "%s: concept '%s': empty surface form", path, name);
        int dup = 0;
        for (size_t k = 0; k < c->n_forms; k++) dup |= c->forms[k] && !strcmp(c->forms[k], f);
        if (!dup) c->forms[c->n_forms++] = strdup(f);
    }
    for (size_t k = 0; k < c->n_forms; k++)
        if (!c->forms[k]) return iv_errf(err, "%s: out of memory", path);
    return 0;
}

static json_t *forms_of(json_t *o) {
    json_t *f = json_object_get(o, "surface_forms");
    return f ? f : json_object_get(o, "forms");
}

int iv_concepts_load(const char *path, iv_concept_set *out, iv_err *err) {
    memset(out, 0, sizeof *out);
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    if (!root) return iv_errf(err, "%s: line %d: %s", path, je.line, je.text);
    int rc = 0;
    size_t n = json_is_object(root) ? json_object_size(root) : json_is_array(root) ? json_array_size(root) : 0;
    if (n == 0) {
        json_decref(root);
        return iv_errf(err, "%s: expected a non-empty object or array of concepts", path);
    }
    out->c = calloc(n, sizeof *out->c);
    if (!out->c) {
        json_decref(root);
        return iv_errf(err, "%s: out of memory", path);
    }
    if (json_is_object(root)) {
        const char *k;
        json_t *v;
        json_object_foreach(root, k, v) {
            if (rc) break;
            if (json_is_array(v)) rc = add_concept(out, path, k, v, err);
            else if (json_is_object(v)) rc = add_concept(out, path, k, forms_of(v), err);
            else rc = iv_errf(err, "%s: concept '%s': expected an array or object", path, k);
        }
    } else {
        for (size_t i = 0; i < n && !rc; i++) {
            json_t *v = json_array_get(root, i);
            json_t *nm = json_is_object(v) ? json_object_get(v, "concept") : NULL;
            if (!nm && json_is_object(v)) nm = json_object_get(v, "name");
            if (!json_is_string(nm))
                rc = iv_errf(err, "%s: entry %zu: expected an object with a \"concept\" string", path, i);
            else
                rc = add_concept(out, path, json_string_value(nm), forms_of(v), err);
        }
    }
    json_decref(root);
    if (rc) iv_concepts_free(out);
    return rc;
}

const iv_concept *iv_concept_find(const iv_concept_set *s, const char *name) {
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->c[i].name, name)) return &s->c[i];
    return NULL;
}

void iv_concepts_free(iv_concept_set *s) {
    for (size_t i = 0; i < s->n; i++) {
        for (size_t k = 0; k < s->c[i].n_forms; k++) free(s->c[i].forms[k]);
        free(s->c[i].forms);
        free(s->c[i].name);
    }
    free(s->c);
    memset(s, 0, sizeof *s);
}

/* ---- default surface forms ------------------------------------------------------------ */

static int is_vowel(char c) { return strchr("aeiou", c) != NULL; }

static int ends(const char *s, size_t n, const char *suf) {
    size_t k = strlen(suf);
    return n >= k && !strcmp(s + n - k, suf);
}

/* "box" -> "boxes", "berry" -> "berries", "dog" -> "dogs" (lower-case ASCII word). */
static char *plural_of(const char *w, size_t n) {
    char *p = malloc(n + 3);
    if (!p) return NULL;
    memcpy(p, w, n);
    p[n] = 0;
    if (n >= 2 && w[n - 1] == 'y' && !is_vowel(w[n - 2])) strcpy(p + n - 1, "ies");
    else if (ends(w, n, "s") || ends(w, n, "x") || ends(w, n, "z") || ends(w, n, "ch") || ends(w, n, "sh"))
        strcpy(p + n, "es");
    else strcpy(p + n, "s");
    return p;
}

/* "dogs" -> "dog", "berries" -> "berry", "boxes" -> "box", "glass" -> NULL. */
static char *singular_of(const char *w, size_t n) {
    if (n < 3 || w[n - 1] != 's' || ends(w, n, "ss") || ends(w, n, "us") || ends(w, n, "is")) return NULL;
    char *p = malloc(n + 1);
    if (!p) return NULL;
    memcpy(p, w, n);
    p[n] = 0;
    if (n > 4 && ends(w, n, "ies")) strcpy(p + n - 3, "y");
    else if (n > 4 && (ends(w, n, "sses") || ends(w, n, "xes") || ends(w, n, "zes") || ends(w, n, "ches") ||
                       ends(w, n, "shes")))
        p[n - 2] = 0;
    else p[n - 1] = 0;
    return p;
}

int iv_concept_default_forms(const char *concept, char ***forms_out, size_t *n_out) {
    *forms_out = NULL;
    *n_out = 0;
    char **f = calloc(3, sizeof *f);
    if (!f || !(f[0] = strdup(concept))) { free(f); return -1; }
    size_t n = strlen(concept), nf = 1;
    int word = n > 0;
    for (size_t i = 0; i < n; i++) word &= isalpha((unsigned char)concept[i]) != 0;
    if (word) {
        char *low = strdup(concept);
        if (!low) { free(f[0]); free(f); return -1; }
        for (char *p = low; *p; p++) *p = (char)tolower((unsigned char)*p);
        char *sg = singular_of(low, n);
        /* a singular ending in s ("bus", "glass") is not a plural: pluralise it */
        char *other = sg ? sg : plural_of(low, n);
        free(low);
        if (other) f[nf++] = other;
    }
    *forms_out = f;
    *n_out = nf;
    return 0;
}

/* ---- the reference study's success rule ------------------------------------------------ */

static char *ascii_lower(const char *a, const char *b) {
    size_t na = a ? strlen(a) : 0, nb = b ? strlen(b) : 0;
    char *s = malloc(na + nb + 1);
    if (!s) return NULL;
    if (na) memcpy(s, a, na);
    if (nb) memcpy(s + na, b, nb);
    s[na + nb] = 0;
    for (char *p = s; *p; p++) *p = (char)tolower((unsigned char)*p);
    return s;
}

int iv_success_paper(const char *concept, const char *prompt, const char *continuation, int *special) {
    if (special) *special = 0;
    char *text = ascii_lower(prompt, continuation), *c = ascii_lower(concept, NULL);
    int hit = 0;
    if (text && c) {
        hit = c[0] && strstr(text, c) != NULL;
        int extra = (!strcmp(c, "beauty") && strstr(text, "beautiful")) ||
                    (strstr(c, "dog") && strstr(text, "dog"));
        if (!hit && extra) {
            hit = 1;
            if (special) *special = 1;
        }
    }
    free(text);
    free(c);
    return hit;
}
