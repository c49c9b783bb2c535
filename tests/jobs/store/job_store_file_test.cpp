// JobStore and its file: sharing it between stores (as between processes), and the errors for
// files it cannot use. Files are prepared with SQLite directly, independently of the store.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <fstream>
#include <thread>

#include "jobs/store/job_store.h"
#include "store_test_util.h"

namespace trainyard::jobs {
namespace {

using testing::small_spec;
using testing::TempDir;

// A plain SQLite connection to `path`, for preparing and inspecting files.
class RawDatabase {
 public:
  explicit RawDatabase(const std::filesystem::path& path) {
    EXPECT_EQ(sqlite3_open(path.c_str(), &db_), SQLITE_OK);
  }
  RawDatabase(const RawDatabase&) = delete;
  RawDatabase& operator=(const RawDatabase&) = delete;
  ~RawDatabase() { sqlite3_close(db_); }

  void execute(const std::string& sql) {
    char* error = nullptr;
    EXPECT_EQ(sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error), SQLITE_OK)
        << sql << ": " << (error != nullptr ? error : "");
    sqlite3_free(error);
  }

  std::string text(const std::string& sql) {
    sqlite3_stmt* statement = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_, sql.c_str(), -1, &statement, nullptr), SQLITE_OK) << sql;
    std::string out;
    if (sqlite3_step(statement) == SQLITE_ROW) {
      out = reinterpret_cast<const char*>(sqlite3_column_text(statement, 0));
    }
    sqlite3_finalize(statement);
    return out;
  }

 private:
  sqlite3* db_ = nullptr;
};

// Runs `body`, which must throw E with a message containing every one of `parts`.
template <typename E, typename Body>
void expect_error(Body body, const std::vector<std::string>& parts) {
  try {
    body();
    ADD_FAILURE() << "no exception";
  } catch (const E& error) {
    const std::string message = error.what();
    for (const std::string& part : parts) {
      EXPECT_NE(message.find(part), std::string::npos) << "'" << part << "' not in: " << message;
    }
  } catch (const std::exception& error) {
    ADD_FAILURE() << "wrong exception type: " << error.what();
  }
}

TEST(JobStoreFileTest, CreatesAVersionedWalDatabaseInTheDataDirectory) {
  TempDir dir;
  const std::filesystem::path data_dir = dir.path() / "nested" / "data";
  JobStore store(data_dir);
  EXPECT_EQ(store.database_path(), data_dir / "trainyard.db");
  ASSERT_TRUE(std::filesystem::is_regular_file(data_dir / "trainyard.db"));
  RawDatabase raw(data_dir / "trainyard.db");
  EXPECT_EQ(raw.text("PRAGMA journal_mode"), "wal");
  EXPECT_EQ(raw.text("PRAGMA user_version"), std::to_string(JobStore::kSchemaVersion));
}

TEST(JobStoreFileTest, TwoStoresOnOneFileSeeEachOthersWrites) {
  TempDir dir;
  JobStore cli(dir.path());
  JobStore server(dir.path());
  cli.create(new_job_record(small_spec("shared-job"), 1));
  ASSERT_TRUE(server.get("shared-job").has_value());
  server.transition("shared-job", SecondaryStatus::kTraining, "Training", 2);
  EXPECT_TRUE(cli.request_stop("shared-job", 3));
  EXPECT_FALSE(server.request_stop("shared-job", 4));
  const JobRecord seen_by_cli = cli.require("shared-job");
  EXPECT_EQ(seen_by_cli.secondary_status, SecondaryStatus::kTraining);
  EXPECT_EQ(seen_by_cli.stop_requested_time, 3);
  EXPECT_EQ(seen_by_cli, server.require("shared-job"));
  // Both refuse the same name, whichever created it.
  EXPECT_THROW(server.create(new_job_record(small_spec("shared-job"), 5)), ResourceInUse);
}

TEST(JobStoreFileTest, ConcurrentWritersOnSeparateConnectionsAllLand) {
  TempDir dir;
  JobStore first(dir.path());
  JobStore second(dir.path());
  constexpr int kJobs = 25;
  auto writer = [&](JobStore& store, const std::string& prefix) {
    for (int i = 0; i < kJobs; ++i) {
      const std::string name = prefix + std::to_string(i);
      store.create(new_job_record(small_spec(name), i));
      store.set_gpu_allocation(name, {{prefix, {i}}}, i + 0.5);
    }
  };
  std::thread a([&] { writer(first, "a-"); });
  std::thread b([&] { writer(second, "b-"); });
  a.join();
  b.join();
  EXPECT_EQ(first.active_jobs().size(), 2u * kJobs);
  EXPECT_EQ(second.allocated_gpus().size(), 2u * kJobs);
}

TEST(JobStoreFileTest, GpuAllocationIsExclusiveAcrossStores) {
  TempDir dir;
  JobStore cli(dir.path());
  JobStore server(dir.path());
  cli.create(new_job_record(small_spec("cli-job"), 1));
  server.create(new_job_record(small_spec("server-job"), 2));
  cli.set_gpu_allocation("cli-job", {{"algo-1", {0}}}, 3);
  EXPECT_THROW(server.set_gpu_allocation("server-job", {{"algo-1", {0}}}, 4), ResourceInUse);
}

TEST(JobStoreFileTest, CorruptFileIsADataErrorNamingThePath) {
  TempDir dir;
  {
    std::ofstream file(dir.path() / "trainyard.db", std::ios::binary);
    for (int i = 0; i < 512; ++i) file << "garbage!";
  }
  const std::string path = (dir.path() / "trainyard.db").string();
  expect_error<DataError>([&] { JobStore store(dir.path()); }, {path, "not a trainyard job"});
}

TEST(JobStoreFileTest, DamagedDatabaseIsADataErrorNamingThePath) {
  TempDir dir;
  const std::filesystem::path path = dir.path() / "trainyard.db";
  {
    JobStore store(dir.path());
    store.create(new_job_record(small_spec("doomed"), 1));
  }
  // Keep SQLite's 100-byte header and overwrite the rest: the schema page is unreadable.
  const auto size = std::filesystem::file_size(path);
  {
    std::fstream file(path, std::ios::binary | std::ios::in | std::ios::out);
    file.seekp(100);
    for (auto i = 100u; i < size; ++i) file.put(static_cast<char>(0xA5));
  }
  expect_error<DataError>(
      [&] {
        JobStore store(dir.path());
        store.get("doomed");
      },
      {path.string()});
}

TEST(JobStoreFileTest, NewerSchemaVersionIsRefusedWithAClearMessage) {
  TempDir dir;
  { JobStore store(dir.path()); }
  {
    RawDatabase raw(dir.path() / "trainyard.db");
    raw.execute("PRAGMA user_version = " + std::to_string(JobStore::kSchemaVersion + 1));
  }
  expect_error<DataError>(
      [&] { JobStore store(dir.path()); },
      {(dir.path() / "trainyard.db").string(),
       "schema version " + std::to_string(JobStore::kSchemaVersion + 1), "newer trainyard"});
}

TEST(JobStoreFileTest, SomeOtherSqliteDatabaseIsRefused) {
  TempDir dir;
  {
    RawDatabase raw(dir.path() / "trainyard.db");
    raw.execute("CREATE TABLE photos (id INTEGER PRIMARY KEY, path TEXT)");
  }
  expect_error<DataError>([&] { JobStore store(dir.path()); },
                          {(dir.path() / "trainyard.db").string(), "not a trainyard job database"});
  // Refused untouched: still in its own journal mode, and no trainyard tables were added.
  RawDatabase raw(dir.path() / "trainyard.db");
  EXPECT_EQ(raw.text("PRAGMA journal_mode"), "delete");
  EXPECT_EQ(raw.text("SELECT count(*) FROM sqlite_schema"), "1");
}

TEST(JobStoreFileTest, UnopenablePathsAreIOErrors) {
  TempDir dir;
  // The database's name is taken by a directory.
  std::filesystem::create_directories(dir.path() / "blocked" / "trainyard.db");
  expect_error<IOError>([&] { JobStore store(dir.path() / "blocked"); },
                        {(dir.path() / "blocked" / "trainyard.db").string()});
  // The data directory's name is taken by a file.
  std::ofstream(dir.path() / "a-file") << "x";
  expect_error<IOError>([&] { JobStore store(dir.path() / "a-file"); },
                        {(dir.path() / "a-file").string()});
}

TEST(JobStoreFileTest, LockedDatabaseFailsAfterTheBusyTimeoutNamingThePath) {
  TempDir dir;
  JobStore store(dir.path(), {.busy_timeout_ms = 0});
  RawDatabase other_process(dir.path() / "trainyard.db");
  other_process.execute("BEGIN IMMEDIATE");
  expect_error<IOError>([&] { store.create(new_job_record(small_spec("blocked"), 1)); },
                        {(dir.path() / "trainyard.db").string(), "busy timeout"});
  // Readers are not blocked by a writer (WAL).
  EXPECT_TRUE(store.list({}).jobs.empty());
  other_process.execute("ROLLBACK");
  store.create(new_job_record(small_spec("blocked"), 1));
  EXPECT_TRUE(store.get("blocked").has_value());
}

TEST(JobStoreFileTest, BadOptionsAreValueErrors) {
  TempDir dir;
  EXPECT_THROW(JobStore(dir.path(), {.region = "US East"}), ValueError);
  EXPECT_THROW(JobStore(dir.path(), {.account = "12345"}), ValueError);
  EXPECT_THROW(JobStore(dir.path(), {.busy_timeout_ms = -1}), ValueError);
}

}  // namespace
}  // namespace trainyard::jobs
