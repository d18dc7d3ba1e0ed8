/* interv-mpi: `interv sweep` as one rank of an MPI job (Open MPI, or srun under
 * Slurm).  MPI here only names the ranks, counts the ranks on each node (to
 * share its cores) and gathers the outcome; the tasks themselves are claimed
 * through lock files in the shared output folder (interv/sweep.h), so ranks take
 * work dynamically, longest first, and a rerun with any number of ranks resumes. */
#include <mpi.h>
#include <stdio.h>
#include <string.h>
#include "cli/sweep_cli.h"

static void barrier(void) { MPI_Barrier(MPI_COMM_WORLD); }

static int max_int(int v) {
    int r = v;
    MPI_Allreduce(&v, &r, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    return r;
}

static int sum_int(int v) {
    int r = v;
    MPI_Allreduce(&v, &r, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    return r;
}

static double sum_double(double v) {
    double r = v;
    MPI_Allreduce(&v, &r, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    return r;
}

static double max_double(double v) {
    double r = v;
    MPI_Allreduce(&v, &r, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    return r;
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    iv_cli_mpi m = {0, 1, 1, barrier, max_int, sum_int, sum_double, max_double};
    MPI_Comm_rank(MPI_COMM_WORLD, &m.rank);
    MPI_Comm_size(MPI_COMM_WORLD, &m.size);
    MPI_Comm node;
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, m.rank, MPI_INFO_NULL, &node);
    MPI_Comm_size(node, &m.local_size);
    MPI_Comm_free(&node);
    int rc;
    if (argc < 2 || strcmp(argv[1], "sweep") != 0) {
        if (m.rank == 0)
            fprintf(stderr, "usage: mpirun -np N interv-mpi sweep --config FILE --out DIR [options]\n"
                            "(interv-mpi runs only the sweep; `interv sweep --help` lists the options)\n");
        rc = 2;
    } else {
        rc = cmd_sweep_mpi(argc - 1, argv + 1, &m);
    }
    MPI_Finalize();
    return rc;
}
