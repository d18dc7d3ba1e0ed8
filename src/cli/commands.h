/* The interv subcommands.  Each lives in its own file cmd_<name>.c and returns the
 * process exit status.  Declared weak so the CLI links while a command is absent. */
#ifndef INTERV_CLI_COMMANDS_H
#define INTERV_CLI_COMMANDS_H
#define IV_WEAK __attribute__((weak))
int cmd_generate(int argc, char **argv) IV_WEAK;
int cmd_info(int argc, char **argv) IV_WEAK;
int cmd_convert(int argc, char **argv) IV_WEAK;
int cmd_tokenize(int argc, char **argv) IV_WEAK;
int cmd_train(int argc, char **argv) IV_WEAK;
int cmd_run(int argc, char **argv) IV_WEAK;
int cmd_features(int argc, char **argv) IV_WEAK;
int cmd_sweep(int argc, char **argv) IV_WEAK;
int cmd_report(int argc, char **argv) IV_WEAK;
int cmd_score(int argc, char **argv) IV_WEAK;
#endif
