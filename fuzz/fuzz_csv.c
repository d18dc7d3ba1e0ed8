/* libFuzzer target: the prompt CSV and pairs CSV readers (include/interv/eval.h)
 * on the same bytes; whatever loads must be consistent. */
#include "fuzz_util.h"
#include "interv/eval.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    char path[512];
    fz_write(path, sizeof path, "prompts.csv", d, n);
    iv_prompt_set ps;
    iv_err err = {{0}};
    if (iv_prompts_load(path, &ps, &err) != 0) {
        fz_check_msg(err.msg);
    } else {
        for (size_t i = 0; i < ps.n; i++) {
            const iv_prompt *p = &ps.p[i];
            if (!p->text || p->category < 0 || (size_t)p->category >= ps.n_cat || p->line < 1) abort();
            (void)strlen(p->text);
            if (p->row_label) (void)strlen(p->row_label);
            int s = iv_prompt_split(&ps, i);
            if (s != IV_SPLIT_SELECT && s != IV_SPLIT_REPORT) abort();
        }
        for (size_t c = 0; c < ps.n_cat; c++) (void)strlen(ps.categories[c]);
        iv_prompts_free(&ps);
    }
    iv_pair_set pr;
    err.msg[0] = 0;
    if (iv_pairs_load(path, &pr, &err) != 0) {
        fz_check_msg(err.msg);
    } else {
        for (size_t i = 0; i < pr.n; i++)
            if (!pr.pos[i][0] || !pr.neg[i][0]) abort(); /* both cells must be non-empty */
        iv_pairs_free(&pr);
    }
    return 0;
}
