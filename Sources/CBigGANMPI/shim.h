// The MPI calls biggan-train makes, as function types for a library opened at run time with
// dlopen (Open MPI's libmpi.so.40): nothing links MPI at build time, so a process started without
// mpirun needs no MPI at all. Handles (communicators, datatypes, operations) are the addresses of
// Open MPI's predefined objects (`ompi_mpi_comm_world`, `ompi_mpi_float`, `ompi_mpi_op_sum`, ...),
// as its mpi.h defines MPI_COMM_WORLD, MPI_FLOAT and MPI_SUM.
#include <dlfcn.h>

typedef int (*bg_mpi_init_fn)(int *argc, char ***argv);
typedef int (*bg_mpi_finalize_fn)(void);
typedef int (*bg_mpi_comm_rank_fn)(void *comm, int *rank);
typedef int (*bg_mpi_comm_size_fn)(void *comm, int *size);
typedef int (*bg_mpi_allreduce_fn)(const void *send, void *receive, int count, void *datatype, void *op, void *comm);
typedef int (*bg_mpi_abort_fn)(void *comm, int code);
