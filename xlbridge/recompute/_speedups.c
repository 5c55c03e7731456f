/* The worksheet scan's compiled fast path (see sheetxml.py, scan_sheet).
 *
 * scan(data, start, end, sheet_bits, values, sst, decode, errors, value_error)
 *
 * Reads the <sheetData> region data[start:end] when every element in it has one of the
 * usual layouts that sheetxml._scan's regular expression takes apart itself: <row> with its
 * usual attributes, </row>, and <c r=".." s=".." t=".."> (attributes in Excel's order, double
 * quotes) holding nothing, a lone <v>, a formula <f ...>…</f> with <v>, <v/> or no value, or a
 * plain inline string <is><t>…</t></is>. The result is exactly what _scan would produce for
 * the region — every value put into ``values`` and the formula cells' columns for the
 * FormulaTable — and is returned as a tuple.
 *
 * Anything else (another attribute, a namespace prefix, rich text, a number that is not a
 * plain decimal, a cell beyond Excel's grid, a shared-string index that does not exist, …)
 * returns None *before anything is changed*: the caller then scans the region with _scan,
 * which handles — or refuses with its message — every layout. The region is parsed into C
 * buffers first; ``values`` is filled only once the whole region has been read.
 *
 * Texts with an entity or an _xHHHH_ escape are decoded by ``decode`` (xmltext.decode_text,
 * the one decoder), others as UTF-8, as decode_text does for them.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#define ROW_SHIFT 15
#define MAX_ROW 1048576
#define MAX_COL 16384

/* kinds and t codes: sheetxml.NORMAL… and T_CODES */
enum { K_NORMAL = 0, K_SHARED = 1, K_ARRAY = 2, K_TABLE = 3 };
enum { T_NONE = 0, T_N = 1, T_STR = 2, T_B = 3, T_E = 4, T_S = 5, T_INLINE = 6 };

/* a value to store: a double, a shared string (index), a bool, None, or an object made
 * during the parse (kept in ``objs``) */
enum { V_NONE = 0, V_DOUBLE = 1, V_SST = 2, V_TRUE = 3, V_FALSE = 4, V_OBJ = 5 };

typedef struct {  /* 24 bytes: 50,000 rows of 15 cells hold 18 MB here while being read */
    int64_t key;
    union {
        double d;
        int64_t i;    /* sst index or objs index */
    };
    int32_t formula;  /* index into the formula rows, -1 for a value cell */
    uint8_t tag;
} rec_t;

typedef struct {
    int64_t start;
    int32_t size, si;
    uint8_t kind, tcode;
    int32_t sp[7];
    int32_t ref_obj;     /* objs index of the ref attribute, -1 for none */
} frow_t;

typedef struct {
    rec_t *recs; Py_ssize_t nrec, caprec;
    frow_t *rows; Py_ssize_t nrow, caprow;
    int64_t *hidden; Py_ssize_t nhid, caphid;
    PyObject *objs;   /* list */
} out_t;

static int grow(void **p, Py_ssize_t *cap, Py_ssize_t need, size_t item) {
    if (need <= *cap) return 0;
    Py_ssize_t ncap = *cap ? *cap * 2 : 1024;
    if (*cap == 0 && ncap < need) ncap = need;
    while (ncap < need) ncap *= 2;
    void *np = PyMem_Realloc(*p, (size_t)ncap * item);
    if (np == NULL) { PyErr_NoMemory(); return -1; }
    *p = np; *cap = ncap;
    return 0;
}

/* occurrences of "<" + ch followed by a space or '>' in [p, e): room for the cells and
 * formulas before they are read, instead of growing (and copying) the buffers */
static Py_ssize_t count_tags(const char *p, const char *e, char ch) {
    Py_ssize_t n = 0;
    while (p < e && (p = memchr(p, '<', (size_t)(e - p))) != NULL) {
        if (p + 2 < e && p[1] == ch && (p[2] == ' ' || p[2] == '>')) n++;
        p++;
    }
    return n;
}

static inline int is_ws(unsigned char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
static inline int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
static inline int is_name_char(unsigned char c) {
    return is_digit(c) || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}
static inline int starts(const char *p, const char *e, const char *lit, size_t n) {
    return (size_t)(e - p) >= n && memcmp(p, lit, n) == 0;
}

/* status of a parse step */
#define OK 0
#define UNSUPPORTED 1   /* not a layout this path takes: the caller falls back to _scan */
#define FAILED 2        /* a Python error is set (memory) */

/* ---------------------------------------------------------------- values */

/* A plain decimal number, as float(text) reads it: optional sign, digits with an optional
 * point, optional exponent. Anything else (spaces, underscores, inf, nan) is left to _scan. */
static int parse_double(const char *s, Py_ssize_t n, double *out) {
    Py_ssize_t k = 0;
    int digits = 0;
    if (n <= 0 || n > 400) return UNSUPPORTED;
    if (s[k] == '+' || s[k] == '-') k++;
    while (k < n && is_digit((unsigned char)s[k])) { k++; digits++; }
    if (k < n && s[k] == '.') {
        k++;
        while (k < n && is_digit((unsigned char)s[k])) { k++; digits++; }
    }
    if (!digits) return UNSUPPORTED;
    if (k < n && (s[k] == 'e' || s[k] == 'E')) {
        k++;
        if (k < n && (s[k] == '+' || s[k] == '-')) k++;
        if (k >= n || !is_digit((unsigned char)s[k])) return UNSUPPORTED;
        while (k < n && is_digit((unsigned char)s[k])) k++;
    }
    if (k != n) return UNSUPPORTED;
    char buf[408];
    memcpy(buf, s, (size_t)n);
    buf[n] = '\0';
    char *endp = NULL;
    double d = PyOS_string_to_double(buf, &endp, NULL);
    if (d == -1.0 && PyErr_Occurred()) { PyErr_Clear(); return UNSUPPORTED; }
    if (endp != buf + n) return UNSUPPORTED;
    *out = d;
    return OK;
}

static Py_ssize_t put_utf8(char *o, uint32_t cp) {
    if (cp < 0x80) { o[0] = (char)cp; return 1; }
    if (cp < 0x800) { o[0] = (char)(0xC0 | (cp >> 6)); o[1] = (char)(0x80 | (cp & 0x3F)); return 2; }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12)); o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F)); return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18)); o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); o[3] = (char)(0x80 | (cp & 0x3F)); return 4;
}

/* decode_text for a text whose only entities are character references (&#20013; &#x4E2D;),
 * as openpyxl writes CJK text: each becomes its character's UTF-8 and the whole is decoded.
 * Where decode_text would do more (a named entity, a reference to '&', a surrogate, an _x
 * escape in the result) it returns NULL with *st OK, and decode_text is called. */
static PyObject *char_refs(const char *s, Py_ssize_t n, int *st) {
    char small[512];
    char *o = (size_t)n <= sizeof(small) ? small : PyMem_Malloc((size_t)n);
    if (o == NULL) { PyErr_NoMemory(); *st = FAILED; return NULL; }
    Py_ssize_t k = 0, w = 0;
    PyObject *r = NULL;
    while (k < n) {
        char ch = s[k];
        if (ch != '&') {
            if (ch == '_' && k + 1 < n && s[k + 1] == 'x') goto done;
            o[w++] = ch;
            k++;
            continue;
        }
        if (k + 3 >= n || s[k + 1] != '#') goto done;  /* a named entity: decode_text */
        Py_ssize_t j = k + 2;
        int hex = s[j] == 'x' || s[j] == 'X';
        if (hex) j++;
        uint32_t cp = 0;
        int nd = 0;
        for (; j < n && s[j] != ';'; j++, nd++) {
            unsigned char d = (unsigned char)s[j];
            int v = is_digit(d) ? d - '0' : !hex ? -1 : (d >= 'a' && d <= 'f') ? d - 'a' + 10
                    : (d >= 'A' && d <= 'F') ? d - 'A' + 10 : -1;
            if (v < 0 || nd >= 7) goto done;
            cp = cp * (hex ? 16 : 10) + (uint32_t)v;
        }
        if (j >= n || nd == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF) || cp == '&')
            goto done;
        /* "_x" made by a reference: decode_text would then unescape it */
        if ((cp == 'x' && w > 0 && o[w - 1] == '_') || (cp == '_' && j + 1 < n && s[j + 1] == 'x'))
            goto done;
        w += put_utf8(o + w, cp);  /* never longer than the reference it replaces */
        k = j + 1;
    }
    r = PyUnicode_DecodeUTF8(o, w, NULL);
    if (r == NULL) {
        if (PyErr_ExceptionMatches(PyExc_MemoryError)) *st = FAILED;
        else { PyErr_Clear(); *st = UNSUPPORTED; }
    }
done:
    if (o != small) PyMem_Free(o);
    return r;
}

/* decode_text(raw): through ``decode`` when the text has an entity or an _x escape, else
 * UTF-8 (strict: a text that is not UTF-8 is left to _scan). New reference or NULL with
 * *st set. */
static PyObject *text_obj(const char *s, Py_ssize_t n, PyObject *decode, int *st) {
    int special = memchr(s, '&', (size_t)n) != NULL;
    if (!special) {
        for (Py_ssize_t k = 0; k + 1 < n; k++)
            if (s[k] == '_' && s[k + 1] == 'x') { special = 1; break; }
    }
    PyObject *r;
    if (special && (r = char_refs(s, n, st)) != NULL) return r;
    if (*st != OK) return NULL;
    if (special) {
        PyObject *raw = PyBytes_FromStringAndSize(s, n);
        if (raw == NULL) { *st = FAILED; return NULL; }
        r = PyObject_CallOneArg(decode, raw);
        Py_DECREF(raw);
    } else {
        r = PyUnicode_DecodeUTF8(s, n, NULL);
    }
    if (r == NULL) {
        if (PyErr_ExceptionMatches(PyExc_MemoryError)) { *st = FAILED; return NULL; }
        PyErr_Clear();
        *st = UNSUPPORTED;
    }
    return r;
}

static int keep_obj(out_t *o, PyObject *obj, int64_t *idx) {
    *idx = PyList_GET_SIZE(o->objs);
    int rc = PyList_Append(o->objs, obj);
    Py_DECREF(obj);
    return rc < 0 ? FAILED : OK;
}

/* _value(ctype, v, b"", …) for the t codes this path takes; ``v`` non-empty unless noted */
static int cell_value(int tcode, const char *v, Py_ssize_t n, PyObject *sst, PyObject *decode,
                      PyObject *errors, PyObject *value_error, out_t *o, rec_t *r) {
    int st = OK;
    if (tcode == T_NONE || tcode == T_N) {
        if (parse_double(v, n, &r->d) != OK) return UNSUPPORTED;
        r->tag = V_DOUBLE;
        return OK;
    }
    if (tcode == T_B) {  /* v.strip() in (b"1", b"true") */
        while (n > 0 && is_ws((unsigned char)*v)) { v++; n--; }
        while (n > 0 && is_ws((unsigned char)v[n - 1])) n--;
        r->tag = ((n == 1 && v[0] == '1') || (n == 4 && memcmp(v, "true", 4) == 0))
                 ? V_TRUE : V_FALSE;
        return OK;
    }
    if (tcode == T_STR) {
        PyObject *s = text_obj(v, n, decode, &st);
        if (s == NULL) return st;
        r->tag = V_OBJ;
        return keep_obj(o, s, &r->i);
    }
    if (tcode == T_E) {  /* ERRORS.get(decode_text(v).strip().upper(), #VALUE!) */
        PyObject *s = text_obj(v, n, decode, &st);
        if (s == NULL) return st;
        PyObject *s2 = PyObject_CallMethod(s, "strip", NULL);
        Py_DECREF(s);
        if (s2 == NULL) return FAILED;
        PyObject *s3 = PyObject_CallMethod(s2, "upper", NULL);
        Py_DECREF(s2);
        if (s3 == NULL) return FAILED;
        PyObject *err = PyDict_GetItemWithError(errors, s3);
        Py_DECREF(s3);
        if (err == NULL) {
            if (PyErr_Occurred()) return FAILED;
            err = value_error;
        }
        Py_INCREF(err);
        r->tag = V_OBJ;
        return keep_obj(o, err, &r->i);
    }
    return UNSUPPORTED;
}

/* ---------------------------------------------------------------- attributes */

/* One attribute ` name="value"` at *pp (leading whitespace required); returns 1 and sets
 * name/value spans, 0 at the end of the tag (*pp at '>' or "/>"), -1 for anything else. */
static int next_attr(const char **pp, const char *e, const char **name, Py_ssize_t *nlen,
                     const char **val, Py_ssize_t *vlen) {
    const char *p = *pp;
    if (p < e && (*p == '>' || (*p == '/' && p + 1 < e && p[1] == '>'))) return 0;
    if (p >= e || !is_ws((unsigned char)*p)) return -1;
    while (p < e && is_ws((unsigned char)*p)) p++;
    if (p < e && (*p == '>' || *p == '/')) return -1;  /* trailing space: _scan's business */
    const char *n0 = p;
    while (p < e && (is_name_char((unsigned char)*p) || *p == '_' || *p == ':' || *p == '.' ||
                     *p == '-'))
        p++;
    if (p == n0 || p + 1 >= e || p[0] != '=' || p[1] != '"') return -1;
    *name = n0; *nlen = p - n0;
    p += 2;
    const char *v0 = p;
    while (p < e && *p != '"' && *p != '>' && *p != '<') p++;
    if (p >= e || *p != '"') return -1;
    *val = v0; *vlen = p - v0;
    *pp = p + 1;
    return 1;
}

static inline int name_is(const char *n, Py_ssize_t len, const char *lit) {
    return (size_t)len == strlen(lit) && memcmp(n, lit, (size_t)len) == 0;
}

static int all_digits(const char *s, Py_ssize_t n) {
    if (n <= 0) return 0;
    for (Py_ssize_t k = 0; k < n; k++) if (!is_digit((unsigned char)s[k])) return 0;
    return 1;
}

/* <row …> or <row …/>: *pp after "<row". Sets *row as _scan does (r, else row + 1) and
 * records a hidden row. */
static int parse_row(const char **pp, const char *e, int64_t *row, out_t *o) {
    const char *p = *pp, *name, *val;
    Py_ssize_t nl, vl;
    int have_r = 0, hidden = 0, got;
    int64_t r = 0;
    while ((got = next_attr(&p, e, &name, &nl, &val, &vl)) == 1) {
        if (name_is(name, nl, "r")) {
            if (have_r || !all_digits(val, vl) || vl > 9) return UNSUPPORTED;
            r = 0;
            for (Py_ssize_t k = 0; k < vl; k++) r = r * 10 + (val[k] - '0');
            have_r = 1;
        } else if (name_is(name, nl, "hidden")) {
            hidden = (vl == 1 && val[0] == '1') || (vl == 4 && memcmp(val, "true", 4) == 0);
        } else if (!(name_is(name, nl, "spans") || name_is(name, nl, "s") ||
                     name_is(name, nl, "customFormat") || name_is(name, nl, "ht") ||
                     name_is(name, nl, "customHeight") || name_is(name, nl, "outlineLevel") ||
                     name_is(name, nl, "collapsed") || name_is(name, nl, "thickTop") ||
                     name_is(name, nl, "thickBot") || name_is(name, nl, "ph") ||
                     name_is(name, nl, "x14ac:dyDescent"))) {
            return UNSUPPORTED;
        }
    }
    if (got < 0) return UNSUPPORTED;
    *row = have_r ? r : *row + 1;
    if (hidden) {
        if (grow((void **)&o->hidden, &o->caphid, o->nhid + 1, sizeof(int64_t)) < 0)
            return FAILED;
        o->hidden[o->nhid++] = *row;
    }
    p += (*p == '/') ? 2 : 1;
    *pp = p;
    return OK;
}

/* ---------------------------------------------------------------- cells */

typedef struct {
    PyObject *sst, *decode, *errors, *value_error;
    int64_t sheet_bits;
    int64_t max_row, max_col, ncells;
    int64_t row;  /* the current row: a <row> without r is the one after it */
} ctx_t;

static int add_rec(out_t *o, rec_t **r) {
    if (grow((void **)&o->recs, &o->caprec, o->nrec + 1, sizeof(rec_t)) < 0) return FAILED;
    *r = &o->recs[o->nrec++];
    (*r)->formula = -1;
    (*r)->tag = V_NONE;
    return OK;
}

/* <c …>: *pp at "<c". One cell, as _scan's branches treat it. */
static int parse_cell(const char **pp, const char *e, const char *base, ctx_t *c, out_t *o) {
    const char *c0 = *pp, *p = *pp + 2;
    /* r="A1" (required here), then s="…", then t="…": Excel's order */
    if (!starts(p, e, " r=\"", 4)) return UNSUPPORTED;
    p += 4;
    int64_t col = 0, row = 0;
    int nl = 0, nd = 0;
    while (p < e && *p >= 'A' && *p <= 'Z' && nl < 4) { col = col * 26 + (*p - 'A' + 1); p++; nl++; }
    while (p < e && is_digit((unsigned char)*p) && nd < 8) { row = row * 10 + (*p - '0'); p++; nd++; }
    if (nl < 1 || nl > 3 || nd < 1 || nd > 7 || p >= e || *p != '"') return UNSUPPORTED;
    p++;
    if (starts(p, e, " s=\"", 4)) {
        p += 4;
        while (p < e && is_digit((unsigned char)*p)) p++;
        if (p >= e || *p != '"') return UNSUPPORTED;
        p++;
    }
    int tcode = T_NONE, have_t = 0;
    Py_ssize_t t_off = -1, t_len = 0;
    if (starts(p, e, " t=\"", 4)) {
        p += 4;
        const char *t0 = p;
        while (p < e && ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z'))) p++;
        if (p >= e || *p != '"' || p == t0) return UNSUPPORTED;
        Py_ssize_t n = p - t0;
        if (n == 1 && t0[0] == 'n') tcode = T_N;
        else if (n == 3 && memcmp(t0, "str", 3) == 0) tcode = T_STR;
        else if (n == 1 && t0[0] == 'b') tcode = T_B;
        else if (n == 1 && t0[0] == 'e') tcode = T_E;
        else if (n == 1 && t0[0] == 's') tcode = T_S;
        else if (n == 9 && memcmp(t0, "inlineStr", 9) == 0) tcode = T_INLINE;
        else return UNSUPPORTED;  /* d and others: _scan */
        have_t = 1;
        t_off = t0 - c0;
        t_len = n;
        p++;
    }
    if (row > MAX_ROW || col > MAX_COL) return UNSUPPORTED;  /* _scan refuses it, with a message */
    c->row = row;
    if (row > c->max_row) c->max_row = row;
    if (col > c->max_col) c->max_col = col;
    int64_t key = c->sheet_bits | (row << ROW_SHIFT) | col;
    if (starts(p, e, "/>", 2)) {  /* a formatted empty cell */
        *pp = p + 2;
        return OK;
    }
    if (p >= e || *p != '>') return UNSUPPORTED;  /* another attribute, or a space */
    const char *gt = p;  /* where a new t attribute goes (m.end(4)) */
    p++;
    rec_t *r;
    int st;
    if (starts(p, e, "<v>", 3)) {  /* a lone value */
        const char *v0 = p + 3, *v1 = v0;
        while (v1 < e && *v1 != '<') v1++;
        if (!starts(v1, e, "</v></c>", 8)) return UNSUPPORTED;
        c->ncells++;
        *pp = v1 + 8;
        Py_ssize_t n = v1 - v0;
        /* _value gives None for an empty value, except t="str": "" */
        if (n == 0 && tcode != T_STR) return OK;
        if ((st = add_rec(o, &r)) != OK) return st;
        r->key = key;
        if (tcode == T_INLINE) tcode = T_STR;  /* a value in <v>: decode_text(v) */
        if (tcode == T_S) {
            if (!all_digits(v0, n) || n > 12) return UNSUPPORTED;
            int64_t idx = 0;
            for (Py_ssize_t k = 0; k < n; k++) idx = idx * 10 + (v0[k] - '0');
            if (idx >= PyList_GET_SIZE(c->sst)) return UNSUPPORTED;
            r->tag = V_SST;
            r->i = idx;
            return OK;
        }
        return cell_value(tcode, v0, n, c->sst, c->decode, c->errors, c->value_error, o, r);
    }
    if (starts(p, e, "<f", 2) && p + 2 < e && (is_ws((unsigned char)p[2]) || p[2] == '/' ||
                                                p[2] == '>')) {
        if (tcode == T_S || tcode == T_INLINE) return UNSUPPORTED;
        const char *fa0 = p + 2, *fa1 = fa0;
        while (fa1 < e && *fa1 != '>') fa1++;
        if (fa1 >= e) return UNSUPPORTED;
        int self_closing = fa1 > fa0 && fa1[-1] == '/';
        const char *q = fa1 + 1;
        const char *ft0 = NULL, *ft1 = NULL;
        if (!self_closing) {
            ft0 = q;
            ft1 = q;
            while (ft1 < e && *ft1 != '<') ft1++;
            if (!starts(ft1, e, "</f>", 4)) return UNSUPPORTED;
            q = ft1 + 4;
        }
        const char *v0 = NULL, *v1 = NULL, *vempty = NULL;
        if (starts(q, e, "<v>", 3)) {
            v0 = q + 3;
            v1 = v0;
            while (v1 < e && *v1 != '<') v1++;
            if (!starts(v1, e, "</v>", 4)) return UNSUPPORTED;
            q = v1 + 4;
        } else if (starts(q, e, "<v/>", 4)) {
            vempty = q;
            q += 4;
        }
        if (!starts(q, e, "</c>", 4)) return UNSUPPORTED;
        const char *cend = q + 4;
        c->ncells++;
        /* the formula's kind, from its attributes (t, si, ref; ca and aca change nothing) */
        int kind = K_NORMAL;
        int64_t si = -1;
        const char *ref = NULL;
        Py_ssize_t ref_len = 0;
        {
            const char *ap = fa0, *ae = self_closing ? fa1 - 1 : fa1, *name, *val;
            Py_ssize_t an, vl;
            int got, have_si = 0;
            const char *tv = NULL;
            Py_ssize_t tvl = 0;
            /* next_attr wants the tag's end: walk to ae, then expect nothing else */
            while (ap < ae) {
                got = next_attr(&ap, fa1 + 1, &name, &an, &val, &vl);
                if (got != 1 || ap > ae) return UNSUPPORTED;
                if (name_is(name, an, "t")) { if (tv) return UNSUPPORTED; tv = val; tvl = vl; }
                else if (name_is(name, an, "si")) {
                    if (have_si || !all_digits(val, vl) || vl > 9) return UNSUPPORTED;
                    si = 0;
                    for (Py_ssize_t k = 0; k < vl; k++) si = si * 10 + (val[k] - '0');
                    have_si = 1;
                } else if (name_is(name, an, "ref")) { if (ref) return UNSUPPORTED; ref = val; ref_len = vl; }
                else if (name_is(name, an, "ca") || name_is(name, an, "aca") ||
                         name_is(name, an, "dt2D") || name_is(name, an, "dtr") ||
                         name_is(name, an, "del1") || name_is(name, an, "del2") ||
                         name_is(name, an, "r1") || name_is(name, an, "r2") ||
                         name_is(name, an, "bx")) { }  /* nothing _scan reads */
                else return UNSUPPORTED;
            }
            if (tv != NULL) {
                if (tvl == 6 && memcmp(tv, "shared", 6) == 0) kind = K_SHARED;
                else if (tvl == 5 && memcmp(tv, "array", 5) == 0) kind = K_ARRAY;
                else if (tvl == 9 && memcmp(tv, "dataTable", 9) == 0) kind = K_TABLE;
                else if (!(tvl == 6 && memcmp(tv, "normal", 6) == 0)) return UNSUPPORTED;
            }
            if (kind != K_SHARED) si = -1;  /* _scan reads si for shared formulas only */
        }
        /* the stored value */
        if ((st = add_rec(o, &r)) != OK) return st;
        r->key = key;
        if (v0 != NULL && v1 > v0) {
            if ((st = cell_value(tcode, v0, v1 - v0, c->sst, c->decode, c->errors,
                                 c->value_error, o, r)) != OK)
                return st;
        } else if (tcode == T_STR && (v0 != NULL || vempty != NULL)) {
            PyObject *s = PyUnicode_FromStringAndSize("", 0);
            if (s == NULL) return FAILED;
            r->tag = V_OBJ;
            if ((st = keep_obj(o, s, &r->i)) != OK) return st;
        }
        *pp = cend;
        if (kind == K_NORMAL && (ft0 == NULL || ft1 == ft0)) {
            /* <f/> or an empty formula: nothing to compute; the value stays (not None) */
            if (r->tag == V_NONE) o->nrec--;
            return OK;
        }
        if (grow((void **)&o->rows, &o->caprow, o->nrow + 1, sizeof(frow_t)) < 0) return FAILED;
        frow_t *f = &o->rows[o->nrow];
        r->formula = (int)o->nrow;
        o->nrow++;
        f->start = c0 - base;
        f->size = (int32_t)(cend - c0);
        f->si = (int32_t)si;
        f->kind = (uint8_t)kind;
        f->tcode = (uint8_t)tcode;
        f->sp[0] = ft0 != NULL ? (int32_t)(ft0 - c0) : -1;
        f->sp[1] = ft0 != NULL ? (int32_t)(ft1 - ft0) : 0;
        if (have_t) { f->sp[2] = (int32_t)t_off; f->sp[3] = (int32_t)t_len; }
        else { f->sp[2] = (int32_t)(gt - c0); f->sp[3] = 0; }
        if (v0 != NULL) { f->sp[4] = (int32_t)(v0 - c0); f->sp[5] = (int32_t)(v1 - v0); f->sp[6] = 0; }
        else if (vempty != NULL) { f->sp[4] = (int32_t)(vempty - c0); f->sp[5] = 4; f->sp[6] = 1; }
        else { f->sp[4] = (int32_t)(cend - 4 - c0); f->sp[5] = 0; f->sp[6] = 2; }
        f->ref_obj = -1;
        if (kind != K_NORMAL && ref != NULL) {
            PyObject *s = PyUnicode_Decode(ref, ref_len, "ascii", "replace");
            if (s == NULL) return FAILED;
            int64_t at;
            if ((st = keep_obj(o, s, &at)) != OK) return st;
            f->ref_obj = (int32_t)at;
        }
        return OK;
    }
    if (starts(p, e, "<is><t", 6) && p + 6 < e && (p[6] == '>' || is_ws((unsigned char)p[6]))) {
        const char *q = p + 6;
        while (q < e && *q != '>') q++;
        if (q >= e) return UNSUPPORTED;
        const char *s0 = q + 1, *s1 = s0;
        while (s1 < e && *s1 != '<') s1++;
        if (!starts(s1, e, "</t></is></c>", 13)) return UNSUPPORTED;
        c->ncells++;
        st = OK;
        PyObject *s = text_obj(s0, s1 - s0, c->decode, &st);
        if (s == NULL) return st;
        if ((st = add_rec(o, &r)) != OK) { Py_DECREF(s); return st; }
        r->key = key;
        r->tag = V_OBJ;
        if ((st = keep_obj(o, s, &r->i)) != OK) return st;
        *pp = s1 + 13;
        return OK;
    }
    if (starts(p, e, "</c>", 4)) {  /* <c …></c>: counted, nothing stored */
        c->ncells++;
        *pp = p + 4;
        return OK;
    }
    return UNSUPPORTED;
}

/* ---------------------------------------------------------------- entry point */

static PyObject *value_of(rec_t *r, PyObject *sst, PyObject *objs) {
    PyObject *v;
    switch (r->tag) {
    case V_DOUBLE: return PyFloat_FromDouble(r->d);
    case V_SST: v = PyList_GET_ITEM(sst, r->i); break;
    case V_TRUE: v = Py_True; break;
    case V_FALSE: v = Py_False; break;
    case V_OBJ: v = PyList_GET_ITEM(objs, r->i); break;
    default: v = Py_None; break;
    }
    Py_INCREF(v);
    return v;
}

static PyObject *scan(PyObject *self, PyObject *args) {
    Py_buffer buf;
    Py_ssize_t start, end;
    long long sheet_bits;
    PyObject *values, *sst, *decode, *errors, *value_error;
    if (!PyArg_ParseTuple(args, "y*nnLO!O!OO!O", &buf, &start, &end, &sheet_bits,
                          &PyDict_Type, &values, &PyList_Type, &sst, &decode,
                          &PyDict_Type, &errors, &value_error))
        return NULL;
    PyObject *result = NULL;
    out_t o = {0};
    const char *base = (const char *)buf.buf;
    if (start < 0 || end > buf.len || start > end) {
        PyErr_SetString(PyExc_ValueError, "region outside the data");
        goto done;
    }
    o.objs = PyList_New(0);
    if (o.objs == NULL) goto done;
    ctx_t c = {sst, decode, errors, value_error, (int64_t)sheet_bits, 0, 0, 0, 0};
    const char *p = base + start, *e = base + end;
    int st = OK;
    if (grow((void **)&o.recs, &o.caprec, count_tags(p, e, 'c') + 1, sizeof(rec_t)) < 0 ||
        grow((void **)&o.rows, &o.caprow, count_tags(p, e, 'f') + 1, sizeof(frow_t)) < 0)
        goto done;
    while (p < e) {
        unsigned char ch = (unsigned char)*p;
        if (is_ws(ch)) { p++; continue; }
        if (ch != '<') { st = UNSUPPORTED; break; }
        if (p + 2 < e && p[1] == 'c' && (is_ws((unsigned char)p[2]) || p[2] == '>' || p[2] == '/')) {
            st = parse_cell(&p, e, base, &c, &o);
        } else if (starts(p, e, "</row>", 6)) {
            p += 6;
        } else if (starts(p, e, "<row", 4) && p + 4 < e &&
                   (is_ws((unsigned char)p[4]) || p[4] == '>' || p[4] == '/')) {
            p += 4;
            st = parse_row(&p, e, &c.row, &o);
        } else {
            st = UNSUPPORTED;
        }
        if (st != OK) break;
    }
    if (st == FAILED) goto done;
    if (st == UNSUPPORTED) { result = Py_NewRef(Py_None); goto done; }

    /* the whole region is read: fill values and the table's columns */
    Py_ssize_t nrow = o.nrow;
    PyObject *keys = PyList_New(nrow), *cached = PyList_New(nrow);
    PyObject *starts_b = PyBytes_FromStringAndSize(NULL, nrow * 8);
    PyObject *size_b = PyBytes_FromStringAndSize(NULL, nrow * 4);
    PyObject *si_b = PyBytes_FromStringAndSize(NULL, nrow * 4);
    PyObject *meta_b = PyBytes_FromStringAndSize(NULL, nrow * 3);
    int wide = 0;
    for (Py_ssize_t k = 0; k < nrow && !wide; k++)
        for (int j = 0; j < 7; j++)
            if (o.rows[k].sp[j] > 32767) { wide = 1; break; }
    PyObject *spans_b = PyBytes_FromStringAndSize(NULL, nrow * 7 * (wide ? 4 : 2));
    PyObject *refs = PyList_New(0), *hidden = PyList_New(o.nhid);
    if (!keys || !cached || !starts_b || !size_b || !si_b || !meta_b || !spans_b || !refs ||
        !hidden)
        goto fail;
    {
        int64_t *sb = (int64_t *)PyBytes_AS_STRING(starts_b);
        int32_t *zb = (int32_t *)PyBytes_AS_STRING(size_b);
        int32_t *ib = (int32_t *)PyBytes_AS_STRING(si_b);
        uint8_t *mb = (uint8_t *)PyBytes_AS_STRING(meta_b);
        char *pb = PyBytes_AS_STRING(spans_b);
        for (Py_ssize_t k = 0; k < nrow; k++) {
            frow_t *f = &o.rows[k];
            sb[k] = f->start;
            zb[k] = f->size;
            ib[k] = f->si;
            mb[3 * k] = f->kind;
            mb[3 * k + 1] = f->tcode;
            mb[3 * k + 2] = 0;
            for (int j = 0; j < 7; j++) {
                if (wide) ((int32_t *)pb)[7 * k + j] = f->sp[j];
                else ((int16_t *)pb)[7 * k + j] = (int16_t)f->sp[j];
            }
            if (f->ref_obj >= 0) {
                PyObject *pair = Py_BuildValue("(nO)", k, PyList_GET_ITEM(o.objs, f->ref_obj));
                if (pair == NULL || PyList_Append(refs, pair) < 0) { Py_XDECREF(pair); goto fail; }
                Py_DECREF(pair);
            }
        }
        for (Py_ssize_t k = 0; k < o.nhid; k++) {
            PyObject *h = PyLong_FromLongLong(o.hidden[k]);
            if (h == NULL) goto fail;
            PyList_SET_ITEM(hidden, k, h);
        }
        for (Py_ssize_t k = 0; k < o.nrec; k++) {
            rec_t *r = &o.recs[k];
            PyObject *key = PyLong_FromLongLong(r->key);
            if (key == NULL) goto fail;
            PyObject *v = value_of(r, sst, o.objs);
            if (v == NULL) { Py_DECREF(key); goto fail; }
            int rc = PyDict_SetItem(values, key, v);
            if (rc == 0 && r->formula >= 0) {
                PyList_SET_ITEM(keys, r->formula, Py_NewRef(key));
                PyList_SET_ITEM(cached, r->formula, Py_NewRef(v));
            }
            Py_DECREF(key);
            Py_DECREF(v);
            if (rc < 0) goto fail;
        }
    }
    result = Py_BuildValue("(NNNNNNNsNNLLL)", keys, cached, starts_b, size_b, si_b, meta_b,
                           spans_b, wide ? "i" : "h", refs, hidden, (long long)c.max_row,
                           (long long)c.max_col, (long long)c.ncells);
    goto done;
fail:
    Py_XDECREF(keys); Py_XDECREF(cached); Py_XDECREF(starts_b); Py_XDECREF(size_b);
    Py_XDECREF(si_b); Py_XDECREF(meta_b); Py_XDECREF(spans_b); Py_XDECREF(refs);
    Py_XDECREF(hidden);
done:
    PyMem_Free(o.recs);
    PyMem_Free(o.rows);
    PyMem_Free(o.hidden);
    Py_XDECREF(o.objs);
    PyBuffer_Release(&buf);
    return result;
}

/* ---------------------------------------------------------------- the writer's splice
 *
 * splice(data, rows, k, pos, limit, keys, starts, spans, meta, values, kept, numbers, texts,
 *        value_xml) -> (piece, k, pos)
 *
 * writer.sheet_chunks' loop over the formula cells to rewrite (``rows``, from index k; the
 * sheet copied from byte ``pos``), for the usual cell: its new value's t attribute and <v>
 * text spliced in place. It stops when the piece reaches byte ``limit`` of the sheet, at the
 * end of the rows, or before a row it leaves to sheet_chunks (a kept value, an error value —
 * #CALC! and #SPILL! get a vm —, a cell rewritten in full): sheet_chunks does that row and
 * calls again. The caller leaves sheets with dropped formulas or vm cells to itself.
 * ``numbers``/``texts`` are sheet_chunks' caches of value_xml's answers (texts: 4,096 at most).
 */

static const char *T_NAME[] = {NULL, NULL, "str", "b", "e", "s", "inlineStr", "d"};

typedef struct { char *b; Py_ssize_t n, cap; } obuf_t;

static int put(obuf_t *o, const char *s, Py_ssize_t n) {
    if (n <= 0) return 0;
    if (o->n + n > o->cap) {
        Py_ssize_t ncap = o->cap ? o->cap : 1 << 16;
        while (ncap < o->n + n) ncap *= 2;
        char *nb = PyMem_Realloc(o->b, (size_t)ncap);
        if (nb == NULL) { PyErr_NoMemory(); return -1; }
        o->b = nb; o->cap = ncap;
    }
    memcpy(o->b + o->n, s, (size_t)n);
    o->n += n;
    return 0;
}

static inline Py_ssize_t item(const Py_buffer *b, Py_ssize_t i) {
    switch (b->itemsize) {
    case 1: return ((const uint8_t *)b->buf)[i];
    case 2: return ((const int16_t *)b->buf)[i];
    case 4: return ((const int32_t *)b->buf)[i];
    default: return (Py_ssize_t)((const int64_t *)b->buf)[i];
    }
}

/* (t, v) of value_xml(new), from ``cache`` (or stored there while it holds fewer than
 * ``cap``); a new reference, NULL on an error */
static PyObject *xml_of(PyObject *new, PyObject *cache, Py_ssize_t cap, PyObject *value_xml) {
    PyObject *tv = cache != NULL ? PyDict_GetItemWithError(cache, new) : NULL;
    if (tv != NULL) return Py_NewRef(tv);
    if (PyErr_Occurred()) return NULL;
    tv = PyObject_CallOneArg(value_xml, new);
    if (tv == NULL) return NULL;
    if (!PyTuple_Check(tv) || PyTuple_GET_SIZE(tv) != 2 ||
        !PyBytes_Check(PyTuple_GET_ITEM(tv, 1)) ||
        (PyTuple_GET_ITEM(tv, 0) != Py_None && !PyBytes_Check(PyTuple_GET_ITEM(tv, 0)))) {
        Py_DECREF(tv);
        PyErr_SetString(PyExc_TypeError, "value_xml must give (bytes | None, bytes)");
        return NULL;
    }
    if (cache != NULL && PyDict_GET_SIZE(cache) < cap && PyDict_SetItem(cache, new, tv) < 0) {
        Py_DECREF(tv);
        return NULL;
    }
    return tv;
}

static PyObject *splice(PyObject *self, PyObject *args) {
    Py_buffer data, rows, starts, spans, meta;
    Py_ssize_t k, pos, limit;
    PyObject *keys, *values, *kept, *numbers, *texts, *value_xml;
    if (!PyArg_ParseTuple(args, "y*y*nnnO!y*y*y*O!OO!O!O", &data, &rows, &k, &pos, &limit,
                          &PyList_Type, &keys, &starts, &spans, &meta, &PyDict_Type, &values,
                          &kept, &PyDict_Type, &numbers, &PyDict_Type, &texts, &value_xml))
        return NULL;
    PyObject *result = NULL, *zero = PyFloat_FromDouble(0.0);
    obuf_t o = {0};
    const char *d = (const char *)data.buf;
    Py_ssize_t nrows = rows.len / rows.itemsize;
    int check_kept = PyAnySet_Check(kept) ? PySet_GET_SIZE(kept) > 0 : 1;
    if (zero == NULL) goto done;
    if (pos < 0 || pos > data.len || k < 0) {
        PyErr_SetString(PyExc_ValueError, "splice: position outside the data");
        goto done;
    }
    for (; k < nrows; k++) {
        Py_ssize_t i = item(&rows, k);
        if (i < 0 || i >= PyList_GET_SIZE(keys)) {
            PyErr_SetString(PyExc_IndexError, "splice: row outside the table");
            goto done;
        }
        PyObject *key = PyList_GET_ITEM(keys, i);
        if (check_kept) {
            int in = PySequence_Contains(kept, key);
            if (in < 0) goto done;
            if (in) break;  /* the stored value is kept: sheet_chunks' */
        }
        PyObject *new = PyDict_GetItemWithError(values, key);
        if (new == NULL && PyErr_Occurred()) goto done;
        if (new == NULL || new == Py_None) new = zero;
        PyObject *tv;
        if (PyFloat_CheckExact(new)) tv = xml_of(new, numbers, PY_SSIZE_T_MAX, value_xml);
        else if (PyUnicode_CheckExact(new)) tv = xml_of(new, texts, 4096, value_xml);
        else if (PyBool_Check(new)) tv = xml_of(new, NULL, 0, value_xml);
        else break;  /* an error value (maybe #CALC!) or anything else: sheet_chunks' */
        if (tv == NULL) goto done;
        PyObject *t = PyTuple_GET_ITEM(tv, 0), *v = PyTuple_GET_ITEM(tv, 1);
        Py_ssize_t j = 7 * i, start = item(&starts, i);
        Py_ssize_t to = item(&spans, j + 2);
        int old_code = (int)item(&meta, 3 * i + 1);
        if (to < 0 || old_code > 7) { Py_DECREF(tv); break; }  /* rewritten in full */
        const char *old_t = T_NAME[old_code];
        int same;
        if (t == Py_None) same = old_t == NULL;
        else same = old_t != NULL && (Py_ssize_t)strlen(old_t) == PyBytes_GET_SIZE(t) &&
                    memcmp(old_t, PyBytes_AS_STRING(t), strlen(old_t)) == 0;
        int rc = 0;
        if (!same) {
            Py_ssize_t tl = item(&spans, j + 3);
            if (tl) {  /* an existing t="…" */
                if (t == Py_None) {  /* dropped, with the blanks before it */
                    Py_ssize_t a = start + to - 3;
                    while (a > 0 && (d[a - 1] == ' ' || d[a - 1] == '\t' || d[a - 1] == '\r' ||
                                     d[a - 1] == '\n'))
                        a--;
                    rc = put(&o, d + pos, a - pos);
                    pos = start + to + tl + 1;
                } else {
                    rc = put(&o, d + pos, start + to - pos);
                    if (!rc) rc = put(&o, PyBytes_AS_STRING(t), PyBytes_GET_SIZE(t));
                    pos = start + to + tl;
                }
            } else {
                rc = put(&o, d + pos, start + to - pos);
                if (!rc) rc = put(&o, " t=\"", 4);
                if (!rc) rc = put(&o, PyBytes_AS_STRING(t), PyBytes_GET_SIZE(t));
                if (!rc) rc = put(&o, "\"", 1);
                pos = start + to;
            }
        }
        Py_ssize_t vo = start + item(&spans, j + 4);
        if (!rc) rc = put(&o, d + pos, vo - pos);
        if (!rc && item(&spans, j + 6) != 0) rc = put(&o, "<v>", 3);
        if (!rc) rc = put(&o, PyBytes_AS_STRING(v), PyBytes_GET_SIZE(v));
        if (!rc && item(&spans, j + 6) != 0) rc = put(&o, "</v>", 4);
        pos = vo + item(&spans, j + 5);
        Py_DECREF(tv);
        if (rc < 0) goto done;
        if (pos >= limit) { k++; break; }
    }
    {
        PyObject *piece = PyBytes_FromStringAndSize(o.b ? o.b : "", o.n);
        if (piece != NULL) result = Py_BuildValue("(Nnn)", piece, k, pos);
    }
done:
    Py_XDECREF(zero);
    PyMem_Free(o.b);
    PyBuffer_Release(&data); PyBuffer_Release(&rows); PyBuffer_Release(&starts);
    PyBuffer_Release(&spans); PyBuffer_Release(&meta);
    return result;
}

static PyMethodDef methods[] = {
    {"scan", scan, METH_VARARGS, "Scan a <sheetData> region of the usual layouts (or None)."},
    {"splice", splice, METH_VARARGS, "Splice the new values of the usual formula cells."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_speedups", NULL, -1, methods};

PyMODINIT_FUNC PyInit__speedups(void) { return PyModule_Create(&module); }
