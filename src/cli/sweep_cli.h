/* The sweep command's view of an MPI job (filled by src/mpi/interv_mpi.c; NULL
 * without MPI), so that the CLI itself never links MPI. */
#ifndef INTERV_CLI_SWEEP_CLI_H
#define INTERV_CLI_SWEEP_CLI_H

typedef struct iv_cli_mpi {
    int rank, size;          /* in MPI_COMM_WORLD */
    int local_size;          /* ranks on this node */
    void (*barrier)(void);
    int (*max_int)(int v);   /* all-reduce over every rank */
    int (*sum_int)(int v);
    double (*sum_double)(double v);
    double (*max_double)(double v);
} iv_cli_mpi;

/* interv sweep, as one rank of an MPI job (mpi != NULL) or alone (NULL). */
int cmd_sweep_mpi(int argc, char **argv, const iv_cli_mpi *mpi);

#endif
