/* Protocol names (see interv/protocol.h). */
#include <string.h>
#include "interv/eval.h"
#include "interv/protocol.h"

const char *iv_protocol_name(iv_protocol p) {
    return p == IV_PROTOCOL_PAPER ? "paper" : "interv";
}

int iv_protocol_parse(const char *s, iv_protocol *p) {
    if (!s) return -1;
    if (!strcmp(s, "interv")) { *p = IV_PROTOCOL_INTERV; return 0; }
    if (!strcmp(s, "paper")) { *p = IV_PROTOCOL_PAPER; return 0; }
    return -1;
}

int iv_paper_deviations(iv_record *r, int special) {
    const iv_cell *cell = &r->cell;
    const char *m = cell->method;
    int rc = iv_record_add_deviation(r, "success: substring of the lower-cased prompt + continuation (a prompt "
                                        "that names the concept counts; no word boundaries)");
    if (special)
        rc |= iv_record_add_deviation(r, "success: passed only through the reference's special case ('beauty' "
                                         "matches 'beautiful', a concept containing 'dog' any 'dog')");
    if (cell->mode == IV_MODE_EDIT && (!strcmp(m, "logit") || !strcmp(m, "tuned")))
        rc |= iv_record_add_deviation(r, "lens targets: the concept text's own tokens only (no leading-space "
                                         "variant); the first of several tokens weighs 2 alpha");
    if (!strcmp(m, "tuned") && cell->mode != IV_MODE_CLEAN)
        rc |= iv_record_add_deviation(r, "tuned lens: translator L on resid_post.L (the package's is L+1), no "
                                         "final norm, augmented pseudo-inverse (the round trip is not the identity)");
    if (!strcmp(m, "sae") && cell->mode != IV_MODE_CLEAN)
        rc |= iv_record_add_deviation(r, "sae: x is replaced by the reconstruction (the SAE error is lost)");
    if (!strcmp(m, "probe") && cell->mode == IV_MODE_EDIT)
        rc |= iv_record_add_deviation(r, "probe: the reference recipe's final-epoch weights (no model "
                                         "selection), raw w as the direction");
    return rc;
}
