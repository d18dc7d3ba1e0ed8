/* Protocol names (see interv/protocol.h). */
#include <string.h>
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
