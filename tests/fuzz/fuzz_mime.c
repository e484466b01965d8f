/* libFuzzer target: MIME structure (mime_parse), and the Content-Type and
 * Content-Disposition parsers on the same bytes.
 *
 * Properties:
 *  - mime_parse() of any bytes returns MIME_OK or a MIME_ERR_* value and
 *    always leaves a complete tree: 1..MIME_MAX_PARTS entities, entity 0 the
 *    top level, depth-first order, every link an index of the tree, every
 *    header and body range inside the message and a part's ranges inside its
 *    parent's body, nesting at most MIME_MAX_DEPTH, every string of a part
 *    NUL-terminated inside its array, every section found again by
 *    mime_find_section();
 *  - the same parse twice gives the same tree (no state left behind);
 *  - mime_ctype_parse() / mime_disposition_parse() return a documented value
 *    and keep at most MIME_MAX_PARAMS parameters. */
#include "tests/fuzz/fuzz.h"

#include <stdbool.h>
#include <string.h>

#include "protocols/mime.h"

#define TERMINATED(a) (memchr((a), '\0', sizeof(a)) != NULL)

static void check_ctype(const struct mime_ctype *ct)
{
    FUZZ_CHECK(TERMINATED(ct->type) && TERMINATED(ct->subtype));
    FUZZ_CHECK(ct->n_params <= MIME_MAX_PARAMS);
    for (size_t i = 0; i < ct->n_params; i++)
        FUZZ_CHECK(TERMINATED(ct->params[i].name) && TERMINATED(ct->params[i].value));
}

static void check_tree(const struct mime_tree *t, size_t len)
{
    size_t n = mime_count(t);
    FUZZ_CHECK(n >= 1 && n <= MIME_MAX_PARTS);
    for (size_t i = 0; i < n; i++) {
        const struct mime_part *p = mime_part(t, i);
        FUZZ_CHECK((unsigned)p->kind < MIME_KIND_COUNT && mime_kind_name(p->kind) != NULL);
        FUZZ_CHECK(p->header_off <= len && p->header_len <= len - p->header_off);
        FUZZ_CHECK(p->body_off <= len && p->body_len <= len - p->body_off);
        FUZZ_CHECK(p->body_lines <= p->body_len + 1);
        FUZZ_CHECK(p->depth >= 0 && p->depth <= MIME_MAX_DEPTH);
        FUZZ_CHECK((unsigned)p->problem < MIME_ERR_COUNT);
        FUZZ_CHECK(TERMINATED(p->section) && TERMINATED(p->encoding) && TERMINATED(p->id) &&
                   TERMINATED(p->description) && TERMINATED(p->language));
        check_ctype(&p->ctype);
        if (p->has_disposition) check_ctype(&p->disposition);
        if (i == 0) {
            FUZZ_CHECK(p->parent == -1 && p->depth == 0);
        } else {
            /* depth-first: the parent comes before, one level up */
            FUZZ_CHECK(p->parent >= 0 && (size_t)p->parent < i);
            const struct mime_part *up = mime_part(t, (size_t)p->parent);
            FUZZ_CHECK(p->depth == up->depth + 1 && up->kind != MIME_KIND_SINGLE);
            FUZZ_CHECK(p->header_off >= up->body_off &&
                       p->body_off + p->body_len <= up->body_off + up->body_len);
        }
        int c = p->first_child, kids = 0;
        while (c != -1) {
            FUZZ_CHECK(c > (int)i && (size_t)c < n && mime_part(t, (size_t)c)->parent == (int)i);
            FUZZ_CHECK(kids++ < MIME_MAX_PARTS);
            c = mime_part(t, (size_t)c)->next_sibling;
        }
        FUZZ_CHECK(kids == p->n_children);
        if (p->kind == MIME_KIND_MESSAGE) FUZZ_CHECK(kids <= 1);
        if (p->section[0]) {
            int k = mime_find_section(t, p->section);
            FUZZ_CHECK(k >= 0 && (size_t)k <= i);
            FUZZ_CHECK(strcmp(mime_part(t, (size_t)k)->section, p->section) == 0);
        }
    }
}

static bool same_ctype(const struct mime_ctype *a, const struct mime_ctype *b)
{
    if (strcmp(a->type, b->type) || strcmp(a->subtype, b->subtype) || a->n_params != b->n_params)
        return false;
    for (size_t i = 0; i < a->n_params; i++)
        if (strcmp(a->params[i].name, b->params[i].name) ||
            strcmp(a->params[i].value, b->params[i].value))
            return false;
    return true;
}

/* Field by field: the bytes after each string's NUL are not specified. */
static bool same_part(const struct mime_part *a, const struct mime_part *b)
{
    return a->kind == b->kind && strcmp(a->section, b->section) == 0 &&
           a->parent == b->parent && a->first_child == b->first_child &&
           a->next_sibling == b->next_sibling && a->n_children == b->n_children &&
           a->depth == b->depth && a->header_off == b->header_off &&
           a->header_len == b->header_len && a->body_off == b->body_off &&
           a->body_len == b->body_len && a->body_lines == b->body_lines &&
           same_ctype(&a->ctype, &b->ctype) && strcmp(a->encoding, b->encoding) == 0 &&
           strcmp(a->id, b->id) == 0 && strcmp(a->description, b->description) == 0 &&
           a->has_disposition == b->has_disposition &&
           (!a->has_disposition || same_ctype(&a->disposition, &b->disposition)) &&
           strcmp(a->language, b->language) == 0 && a->problem == b->problem;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct mime_tree *t1, *t2;
    if (!t1) t1 = mime_new();
    if (!t2) t2 = mime_new();
    FUZZ_CHECK(t1 && t2);
    const char *msg = (const char *)data;

    enum mime_err e1 = mime_parse(t1, msg, size);
    FUZZ_CHECK((unsigned)e1 < MIME_ERR_COUNT && mime_strerror(e1) != NULL);
    check_tree(t1, size);
    enum mime_err e2 = mime_parse(t2, msg, size);
    FUZZ_CHECK(e1 == e2 && mime_count(t1) == mime_count(t2));
    for (size_t i = 0; i < mime_count(t1); i++)
        FUZZ_CHECK(same_part(mime_part(t1, i), mime_part(t2, i)));

    struct mime_ctype ct;
    enum mime_err ce = mime_ctype_parse(msg, size, &ct);
    FUZZ_CHECK((unsigned)ce < MIME_ERR_COUNT);
    check_ctype(&ct);
    ce = mime_disposition_parse(msg, size, &ct);
    FUZZ_CHECK((unsigned)ce < MIME_ERR_COUNT);
    check_ctype(&ct);
    return 0;
}
