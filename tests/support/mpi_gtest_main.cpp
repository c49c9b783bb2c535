// main() for tests that mpirun starts: MPI begins before the tests and ends after them, so
// every MpiCollective a test creates finds it running and leaves it so. Each rank runs every
// test; a failure on any rank makes mpirun exit non-zero.
#include <gtest/gtest.h>
#include <mpi.h>

int main(int argc, char** argv) {
  int provided = 0;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_SERIALIZED, &provided);
  ::testing::InitGoogleTest(&argc, argv);
  const int failed = RUN_ALL_TESTS();
  MPI_Finalize();
  return failed;
}
