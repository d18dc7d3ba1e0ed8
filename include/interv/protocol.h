/* Evaluation protocols.
 *
 *   IV_PROTOCOL_INTERV  (default) the project's fixed protocol, DESIGN.md sections 2-3.
 *   IV_PROTOCOL_PAPER   the reference study's implementation, reproduced rule by
 *                       rule with its known defects (DESIGN.md section 3b); every
 *                       record it affects says "protocol": "paper" and lists the
 *                       defects it reproduced under "deviations".
 *
 * Generation is identical under both (same hooks, same prompts, same decoding);
 * what differs is the scoring (success, coherence, perplexity) and the artifact
 * recipes (lens targets, tuned-lens form, probe training). */
#ifndef INTERV_PROTOCOL_H
#define INTERV_PROTOCOL_H

typedef enum { IV_PROTOCOL_INTERV = 0, IV_PROTOCOL_PAPER = 1 } iv_protocol;

const char *iv_protocol_name(iv_protocol p);           /* "interv" | "paper" */
int iv_protocol_parse(const char *s, iv_protocol *p);  /* 0, or -1 if unknown */

#endif
