/* Restricted pickle interpreter for torch.save state dicts.  Values live in an
 * arena freed at the end; references (memo, shared tuples) are plain pointers. */
#include "io/unpickle_internal.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_STACK (1 << 20)
#define MAX_MARKS (1 << 16)
#define MAX_MEMO (1 << 20)

typedef enum { V_NONE, V_BOOL, V_INT, V_FLOAT, V_STR, V_TUPLE, V_LIST, V_DICT, V_GLOBAL,
               V_STORAGE, V_TENSOR } vkind;

/* Whitelisted globals: the only callables a state dict needs. */
typedef enum { G_ODICT, G_REBUILD_TENSOR, G_REBUILD_PARAM, G_FLOAT_ST, G_HALF_ST, G_BF16_ST } gid;
static const struct { const char *mod, *name; } GLOBALS[] = {
    [G_ODICT] = {"collections", "OrderedDict"},
    [G_REBUILD_TENSOR] = {"torch._utils", "_rebuild_tensor_v2"},
    [G_REBUILD_PARAM] = {"torch._utils", "_rebuild_parameter"},
    [G_FLOAT_ST] = {"torch", "FloatStorage"},
    [G_HALF_ST] = {"torch", "HalfStorage"},
    [G_BF16_ST] = {"torch", "BFloat16Storage"},
};

typedef struct val {
    vkind k;
    int64_t i;            /* int, bool, global id, storage index */
    char *s;              /* str (NUL-free) */
    struct val **items;   /* tuple/list items; dict: key,value pairs */
    size_t n, cap;        /* item count (dict: 2 * pairs) */
    iv_pk_tensor t;       /* V_TENSOR (name unused) */
} val;

typedef struct {
    const uint8_t *p, *end, *start;
    const char *what;
    iv_err *err;
    val **all; size_t nall, capall;          /* arena */
    val **stack; size_t sp, capst;
    size_t *marks; size_t nmarks, capmarks;
    val **memo; size_t nmemo;                /* memo[i] NULL when unset */
    iv_pk_dict *out;
} pk;

static int perr(pk *u, const char *fmt, const char *arg) {
    return iv_errf(u->err, fmt, u->what, arg, (size_t)(u->p - u->start));
}
#define FAIL(u, msg) perr(u, "%s: %s at byte %zu", msg)

static int grow(void **arr, size_t *cap, size_t need, size_t elt) {
    if (need <= *cap) return 0;
    size_t nc = *cap ? *cap * 2 : 16;
    while (nc < need) nc *= 2;
    void *na = realloc(*arr, nc * elt);
    if (!na) return -1;
    *arr = na;
    *cap = nc;
    return 0;
}

static val *newv(pk *u, vkind k) {
    if (grow((void **)&u->all, &u->capall, u->nall + 1, sizeof *u->all)) return NULL;
    val *v = calloc(1, sizeof *v);
    if (!v) return NULL;
    v->k = k;
    u->all[u->nall++] = v;
    return v;
}

static int push(pk *u, val *v) {
    if (!v) return FAIL(u, "out of memory");
    if (u->sp >= MAX_STACK) return FAIL(u, "stack too deep");
    if (grow((void **)&u->stack, &u->capst, u->sp + 1, sizeof *u->stack))
        return FAIL(u, "out of memory");
    u->stack[u->sp++] = v;
    return 0;
}

static val *pop(pk *u) {
    size_t floor = u->nmarks ? u->marks[u->nmarks - 1] : 0;
    if (u->sp <= floor) { FAIL(u, "stack underflow"); return NULL; }
    return u->stack[--u->sp];
}

/* Appends the items above the last MARK to v (tuple/list/dict) and drops the mark. */
static int take_marked(pk *u, val *v) {
    if (!u->nmarks) return FAIL(u, "no MARK on the stack");
    size_t m = u->marks[--u->nmarks], k = u->sp - m;
    if (grow((void **)&v->items, &v->cap, v->n + k, sizeof *v->items))
        return FAIL(u, "out of memory");
    if (k) memcpy(v->items + v->n, u->stack + m, k * sizeof *v->items);
    v->n += k;
    u->sp = m;
    return 0;
}

static int need(pk *u, size_t n) {
    if ((size_t)(u->end - u->p) < n) return FAIL(u, "truncated pickle");
    return 0;
}

static uint64_t le(const uint8_t *p, int n) {
    uint64_t x = 0;
    for (int i = n - 1; i >= 0; i--) x = x << 8 | p[i];
    return x;
}

static int push_str(pk *u, uint64_t n) {
    if (need(u, n)) return -1;
    if (memchr(u->p, 0, n)) return FAIL(u, "string contains a NUL byte");
    val *v = newv(u, V_STR);
    if (!v || !(v->s = strndup((const char *)u->p, n))) return FAIL(u, "out of memory");
    u->p += n;
    return push(u, v);
}

static int push_global(pk *u, const char *mod, const char *name) {
    for (size_t g = 0; g < sizeof GLOBALS / sizeof GLOBALS[0]; g++)
        if (strcmp(mod, GLOBALS[g].mod) == 0 && strcmp(name, GLOBALS[g].name) == 0) {
            val *v = newv(u, V_GLOBAL);
            if (v) v->i = (int64_t)g;
            return push(u, v);
        }
    char q[300];
    snprintf(q, sizeof q, "%.140s.%.140s", mod, name);
    size_t nl = strlen(name);
    if (strcmp(mod, "torch") == 0 && nl > 7 && strcmp(name + nl - 7, "Storage") == 0)
        return perr(u, "%s: unsupported tensor type %s (only Float, Half and BFloat16) at byte %zu", q);
    return perr(u, "%s: forbidden GLOBAL '%s' (not a tensor state dict) at byte %zu", q);
}

/* GLOBAL opcode: "module\nname\n". */
static int op_global(pk *u) {
    char part[2][160];
    for (int k = 0; k < 2; k++) {
        const uint8_t *nl = memchr(u->p, '\n', (size_t)(u->end - u->p));
        if (!nl) return FAIL(u, "truncated GLOBAL");
        size_t n = (size_t)(nl - u->p);
        if (n >= sizeof part[k]) return FAIL(u, "GLOBAL name too long");
        memcpy(part[k], u->p, n);
        part[k][n] = 0;
        if (memchr(part[k], 0, n)) return FAIL(u, "GLOBAL name contains a NUL byte");
        u->p = nl + 1;
    }
    return push_global(u, part[0], part[1]);
}

static int op_memo_put(pk *u, uint64_t idx) {
    if (idx >= MAX_MEMO) return FAIL(u, "memo index too large");
    if (u->sp == 0) return FAIL(u, "memo store with an empty stack");
    if (idx >= u->nmemo) {
        size_t nn = (size_t)idx + 1;
        val **nm = realloc(u->memo, nn * sizeof *nm);
        if (!nm) return FAIL(u, "out of memory");
        memset(nm + u->nmemo, 0, (nn - u->nmemo) * sizeof *nm);
        u->memo = nm;
        u->nmemo = nn;
    }
    u->memo[idx] = u->stack[u->sp - 1];
    return 0;
}

static int op_memo_get(pk *u, uint64_t idx) {
    if (idx >= u->nmemo || !u->memo[idx]) return FAIL(u, "memo lookup of an unset index");
    return push(u, u->memo[idx]);
}

static int int_val(const val *v, int64_t lo, int64_t hi, int64_t *out) {
    if (!v || (v->k != V_INT) || v->i < lo || v->i > hi) return -1;
    *out = v->i;
    return 0;
}

/* BINPERSID: ('storage', <Storage global>, key, location, numel). */
static int op_persid(pk *u) {
    val *pid = pop(u);
    if (!pid) return -1;
    if (pid->k != V_TUPLE || pid->n != 5 || pid->items[0]->k != V_STR ||
        strcmp(pid->items[0]->s, "storage") != 0 || pid->items[1]->k != V_GLOBAL ||
        pid->items[2]->k != V_STR || pid->items[3]->k != V_STR)
        return FAIL(u, "persistent id is not ('storage', type, key, location, numel)");
    int64_t g = pid->items[1]->i, numel;
    if (g != G_FLOAT_ST && g != G_HALF_ST && g != G_BF16_ST)
        return FAIL(u, "persistent id names a non-storage global");
    if (int_val(pid->items[4], 0, (int64_t)1 << 40, &numel))
        return FAIL(u, "storage element count is not a sane integer");
    iv_dtype dt = g == G_FLOAT_ST ? IV_F32 : g == G_HALF_ST ? IV_F16 : IV_BF16;
    const char *key = pid->items[2]->s;
    if (!*key || strchr(key, '/') || strcmp(key, ".") == 0 || strcmp(key, "..") == 0)
        return FAIL(u, "bad storage key");
    iv_pk_dict *o = u->out;
    size_t si;
    for (si = 0; si < o->ns; si++)
        if (strcmp(o->s[si].key, key) == 0) break;
    if (si < o->ns) {
        if (o->s[si].dtype != dt || o->s[si].numel != numel)
            return FAIL(u, "storage key reused with a different type or size");
    } else {
        iv_pk_storage *ns = realloc(o->s, (o->ns + 1) * sizeof *ns);
        if (!ns) return FAIL(u, "out of memory");
        o->s = ns;
        if (!(ns[o->ns].key = strdup(key))) return FAIL(u, "out of memory");
        ns[o->ns].dtype = dt;
        ns[o->ns].numel = numel;
        o->ns++;
    }
    val *v = newv(u, V_STORAGE);
    if (v) v->i = (int64_t)si;
    return push(u, v);
}

static int int_tuple(const val *v, int64_t *dst, int *n) {
    if (v->k != V_TUPLE || v->n > IV_PK_MAX_DIMS) return -1;
    for (size_t i = 0; i < v->n; i++)
        if (int_val(v->items[i], 0, (int64_t)1 << 48, &dst[i])) return -1;
    *n = (int)v->n;
    return 0;
}

static int is_empty_dict(const val *v) { return v->k == V_DICT && v->n == 0; }

/* REDUCE: call a whitelisted global on an argument tuple, by interpretation. */
static int op_reduce(pk *u) {
    val *args = pop(u), *fn = args ? pop(u) : NULL;
    if (!fn) return -1;
    if (fn->k != V_GLOBAL) return FAIL(u, "REDUCE on a non-callable");
    if (args->k != V_TUPLE) return FAIL(u, "REDUCE arguments are not a tuple");
    val **a = args->items;
    switch ((gid)fn->i) {
    case G_ODICT:
        if (args->n != 0) return FAIL(u, "OrderedDict called with arguments");
        return push(u, newv(u, V_DICT));
    case G_REBUILD_TENSOR: {
        /* (storage, offset, size, stride, requires_grad, backward_hooks[, metadata]) */
        if (args->n != 6 && args->n != 7) return FAIL(u, "_rebuild_tensor_v2: wrong argument count");
        val *t = newv(u, V_TENSOR);
        if (!t) return FAIL(u, "out of memory");
        int ns = 0, nst = 0;
        if (a[0]->k != V_STORAGE) return FAIL(u, "_rebuild_tensor_v2: first argument is not a storage");
        t->t.storage = (int)a[0]->i;
        if (int_val(a[1], 0, (int64_t)1 << 48, &t->t.offset))
            return FAIL(u, "_rebuild_tensor_v2: bad storage offset");
        if (int_tuple(a[2], t->t.shape, &ns))
            return FAIL(u, "_rebuild_tensor_v2: size is not a tuple of at most 8 non-negative ints");
        if (int_tuple(a[3], t->t.stride, &nst) || nst != ns)
            return FAIL(u, "_rebuild_tensor_v2: stride is not a tuple of non-negative ints matching size");
        if (a[4]->k != V_BOOL) return FAIL(u, "_rebuild_tensor_v2: requires_grad is not a bool");
        if (!is_empty_dict(a[5])) return FAIL(u, "_rebuild_tensor_v2: backward hooks are not supported");
        if (args->n == 7 && a[6]->k != V_NONE && !is_empty_dict(a[6]))
            return FAIL(u, "_rebuild_tensor_v2: tensor metadata is not supported");
        t->t.ndim = ns;
        return push(u, t);
    }
    case G_REBUILD_PARAM:
        if (args->n != 3 || a[0]->k != V_TENSOR || a[1]->k != V_BOOL || !is_empty_dict(a[2]))
            return FAIL(u, "_rebuild_parameter: expected (tensor, bool, empty hooks)");
        return push(u, a[0]);
    default:
        return FAIL(u, "REDUCE on a storage type");
    }
}

static int op_setitems(pk *u, val *d, size_t from) {
    if (d->k != V_DICT) return FAIL(u, "SETITEM(S) on a non-dict");
    size_t k = u->sp - from;
    if (k % 2) return FAIL(u, "SETITEMS with an odd number of items");
    if (grow((void **)&d->items, &d->cap, d->n + k, sizeof *d->items))
        return FAIL(u, "out of memory");
    if (k) memcpy(d->items + d->n, u->stack + from, k * sizeof *d->items);
    d->n += k;
    u->sp = from;
    return 0;
}

/* One opcode; returns 1 at STOP, 0 to continue, -1 on error. */
static int step(pk *u, val **result) {
    if (need(u, 1)) return -1;
    uint8_t op = *u->p++;
    val *v, *w;
    switch (op) {
    case 0x80: /* PROTO */
        if (need(u, 1)) return -1;
        if (*u->p < 2 || *u->p > 5) return FAIL(u, "unsupported pickle protocol");
        u->p++;
        return 0;
    case 0x95: /* FRAME (protocol 4): a length hint only */
        if (need(u, 8)) return -1;
        u->p += 8;
        return 0;
    case '.': /* STOP */
        if (!(*result = pop(u))) return -1;
        return 1;
    case '(': /* MARK */
        if (u->nmarks >= MAX_MARKS) return FAIL(u, "too many MARKs");
        if (grow((void **)&u->marks, &u->capmarks, u->nmarks + 1, sizeof *u->marks))
            return FAIL(u, "out of memory");
        u->marks[u->nmarks++] = u->sp;
        return 0;
    case '}': return push(u, newv(u, V_DICT));
    case ']': return push(u, newv(u, V_LIST));
    case ')': return push(u, newv(u, V_TUPLE));
    case 'N': return push(u, newv(u, V_NONE));
    case 0x88: case 0x89: /* NEWTRUE, NEWFALSE */
        if ((v = newv(u, V_BOOL))) v->i = op == 0x88;
        return push(u, v);
    case 'J': case 'K': case 'M': { /* BININT, BININT1, BININT2 */
        int n = op == 'J' ? 4 : op == 'K' ? 1 : 2;
        if (need(u, (size_t)n)) return -1;
        uint64_t x = le(u->p, n);
        u->p += n;
        if ((v = newv(u, V_INT))) v->i = op == 'J' ? (int64_t)(int32_t)(uint32_t)x : (int64_t)x;
        return push(u, v);
    }
    case 0x8a: { /* LONG1: n-byte two's complement */
        if (need(u, 1)) return -1;
        int n = *u->p++;
        if (n > 8) return FAIL(u, "LONG1 integer wider than 64 bits");
        if (need(u, (size_t)n)) return -1;
        uint64_t x = le(u->p, n);
        if (n > 0 && n < 8 && (u->p[n - 1] & 0x80)) x |= ~(uint64_t)0 << (8 * n);
        u->p += n;
        if ((v = newv(u, V_INT))) v->i = (int64_t)x;
        return push(u, v);
    }
    case 'G': /* BINFLOAT: value unused by state dicts, kept as a placeholder */
        if (need(u, 8)) return -1;
        u->p += 8;
        return push(u, newv(u, V_FLOAT));
    case 'X': case 0x8c: case 0x8d: { /* BINUNICODE, SHORT_BINUNICODE, BINUNICODE8 */
        int n = op == 'X' ? 4 : op == 0x8c ? 1 : 8;
        if (need(u, (size_t)n)) return -1;
        uint64_t len = le(u->p, n);
        u->p += n;
        return push_str(u, len);
    }
    case 'c': return op_global(u);
    case 0x93: /* STACK_GLOBAL */
        if (!(w = pop(u)) || !(v = pop(u))) return -1;
        if (v->k != V_STR || w->k != V_STR) return FAIL(u, "STACK_GLOBAL on non-strings");
        return push_global(u, v->s, w->s);
    case 'q': case 'r': { /* BINPUT, LONG_BINPUT */
        int n = op == 'q' ? 1 : 4;
        if (need(u, (size_t)n)) return -1;
        uint64_t idx = le(u->p, n);
        u->p += n;
        return op_memo_put(u, idx);
    }
    case 0x94: return op_memo_put(u, u->nmemo); /* MEMOIZE */
    case 'h': case 'j': { /* BINGET, LONG_BINGET */
        int n = op == 'h' ? 1 : 4;
        if (need(u, (size_t)n)) return -1;
        uint64_t idx = le(u->p, n);
        u->p += n;
        return op_memo_get(u, idx);
    }
    case 't': /* TUPLE */
        if (!(v = newv(u, V_TUPLE))) return FAIL(u, "out of memory");
        if (take_marked(u, v)) return -1;
        return push(u, v);
    case 0x85: case 0x86: case 0x87: { /* TUPLE1..3 */
        size_t n = (size_t)(op - 0x84);
        size_t floor = u->nmarks ? u->marks[u->nmarks - 1] : 0;
        if (u->sp < floor + n) return FAIL(u, "stack underflow");
        if (!(v = newv(u, V_TUPLE)) || !(v->items = malloc(n * sizeof *v->items)))
            return FAIL(u, "out of memory");
        v->cap = v->n = n;
        memcpy(v->items, u->stack + u->sp - n, n * sizeof *v->items);
        u->sp -= n;
        return push(u, v);
    }
    case 'a': /* APPEND */
        if (!(w = pop(u))) return -1;
        if (u->sp == 0 || u->stack[u->sp - 1]->k != V_LIST) return FAIL(u, "APPEND to a non-list");
        v = u->stack[u->sp - 1];
        if (grow((void **)&v->items, &v->cap, v->n + 1, sizeof *v->items))
            return FAIL(u, "out of memory");
        v->items[v->n++] = w;
        return 0;
    case 'e': { /* APPENDS */
        if (!u->nmarks) return FAIL(u, "APPENDS without MARK");
        size_t m = u->marks[u->nmarks - 1];
        if (m == 0 || u->stack[m - 1]->k != V_LIST) return FAIL(u, "APPENDS to a non-list");
        return take_marked(u, u->stack[m - 1]);
    }
    case 's': { /* SETITEM */
        size_t floor = u->nmarks ? u->marks[u->nmarks - 1] : 0;
        if (u->sp < floor + 3) return FAIL(u, "stack underflow");
        return op_setitems(u, u->stack[u->sp - 3], u->sp - 2);
    }
    case 'u': { /* SETITEMS */
        if (!u->nmarks) return FAIL(u, "SETITEMS without MARK");
        size_t m = u->marks[u->nmarks - 1];
        size_t floor = u->nmarks > 1 ? u->marks[u->nmarks - 2] : 0;
        if (m <= floor) return FAIL(u, "SETITEMS without a dict");
        u->nmarks--;
        return op_setitems(u, u->stack[m - 1], m);
    }
    case 'Q': return op_persid(u);
    case 'R': return op_reduce(u);
    case 'b': /* BUILD: only OrderedDict's attribute state (_metadata) is accepted */
        if (!(w = pop(u))) return -1;
        if (u->sp == 0 || u->stack[u->sp - 1]->k != V_DICT)
            return FAIL(u, "BUILD on something other than a dict");
        if (w->k != V_DICT && w->k != V_NONE) return FAIL(u, "BUILD with a non-dict state");
        return 0;
    default: {
        char nm[24];
        snprintf(nm, sizeof nm, op >= 0x21 && op < 0x7f ? "0x%02x '%c'" : "0x%02x", op, op);
        u->p--;
        return perr(u, "%s: unsupported pickle opcode %s at byte %zu", nm);
    }
    }
}

static int collect(pk *u, const val *top) {
    iv_pk_dict *o = u->out;
    if (top->k == V_TENSOR) { /* torch.save(tensor): one tensor, named "" */
        if (!(o->t = calloc(1, sizeof *o->t))) return iv_errf(u->err, "%s: out of memory", u->what);
        o->t[0] = top->t;
        if (!(o->t[0].name = strdup(""))) return iv_errf(u->err, "%s: out of memory", u->what);
        o->nt = 1;
        return 0;
    }
    if (top->k != V_DICT)
        return iv_errf(u->err, "%s: top-level object is not a dict of tensors or a tensor", u->what);
    size_t np = top->n / 2;
    o->t = calloc(np ? np : 1, sizeof *o->t);
    if (!o->t) return iv_errf(u->err, "%s: out of memory", u->what);
    for (size_t i = 0; i < np; i++) {
        const val *k = top->items[2 * i], *v = top->items[2 * i + 1];
        if (k->k != V_STR) return iv_errf(u->err, "%s: a state-dict key is not a string", u->what);
        if (v->k != V_TENSOR)
            return iv_errf(u->err, "%s: entry '%s' is not a tensor", u->what, k->s);
        for (size_t j = 0; j < o->nt; j++)
            if (strcmp(o->t[j].name, k->s) == 0)
                return iv_errf(u->err, "%s: key '%s' appears twice", u->what, k->s);
        o->t[o->nt] = v->t;
        if (!(o->t[o->nt].name = strdup(k->s))) return iv_errf(u->err, "%s: out of memory", u->what);
        o->nt++;
    }
    return 0;
}

int iv_unpickle_state_dict(const uint8_t *buf, size_t len, const char *what, iv_pk_dict *out,
                           iv_err *err) {
    memset(out, 0, sizeof *out);
    pk u = {.p = buf, .end = buf + len, .start = buf, .what = what, .err = err, .out = out};
    val *result = NULL;
    int rc;
    while ((rc = step(&u, &result)) == 0) {}
    if (rc == 1 && u.p != u.end) rc = iv_errf(err, "%s: trailing bytes after STOP", what);
    if (rc == 1) rc = collect(&u, result);
    for (size_t i = 0; i < u.nall; i++) {
        free(u.all[i]->s);
        free(u.all[i]->items);
        free(u.all[i]);
    }
    free(u.all);
    free(u.stack);
    free(u.marks);
    free(u.memo);
    if (rc != 0) {
        iv_pk_dict_free(out);
        return -1;
    }
    return 0;
}

void iv_pk_dict_free(iv_pk_dict *d) {
    for (size_t i = 0; i < d->nt; i++) free(d->t[i].name);
    for (size_t i = 0; i < d->ns; i++) free(d->s[i].key);
    free(d->t);
    free(d->s);
    memset(d, 0, sizeof *d);
}
