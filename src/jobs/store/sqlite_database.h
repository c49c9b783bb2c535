// Move-only owners of SQLite's handles (connection, statement, transaction) and the one place
// where SQLite's result codes become trainyard exceptions. Private to the job store.
//
// Errors name the SQLite call and the database file: DataError for a corrupt file, one that is
// not a database, or one whose tables are not trainyard's (SQLITE_CORRUPT, SQLITE_NOTADB,
// SQLITE_ERROR); InternalError for a broken constraint (a bug: the store checks first);
// IOError for everything else (cannot open, disk full, read-only, locked past the timeout).
// Not thread-safe: the owner serialises access.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace trainyard::jobs::detail {

class Database {
 public:
  // Opens `path` read-write, creating an empty file if there is none, with extended result
  // codes and a busy timeout of `busy_timeout_ms`. Throws IOError naming the path.
  static Database open(const std::filesystem::path& path, int busy_timeout_ms);

  Database() = default;
  Database(Database&& other) noexcept;
  Database& operator=(Database&& other) noexcept;
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  ~Database();

  sqlite3* get() const { return db_; }
  const std::filesystem::path& path() const { return path_; }

  // Returns normally for SQLITE_OK, SQLITE_ROW and SQLITE_DONE; otherwise throws as the file
  // comment says, naming `call` and the path.
  void check(int result, std::string_view call) const;

  // Runs one or more statements that return no rows (schema, pragmas, BEGIN/COMMIT).
  void execute(std::string_view sql) const;

  // The rowid of the last row this connection inserted.
  int64_t last_insert_rowid() const;
  // Rows changed by the last INSERT, UPDATE or DELETE on this connection.
  int64_t changes() const;

  // The single integer a pragma or query such as "PRAGMA user_version" returns.
  int64_t query_integer(std::string_view sql) const;

 private:
  sqlite3* db_ = nullptr;
  std::filesystem::path path_;
};

// A prepared statement. Parameters are numbered from 1 (?1, ?2, ... in the SQL).
class Statement {
 public:
  // Prepares `sql` on `database`. Throws as Database::check does.
  Statement(const Database& database, std::string_view sql);
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  // Binders return *this so calls chain. A NaN double is stored as NULL (SQLite's own rule).
  Statement& bind(int index, int64_t value);
  Statement& bind(int index, int value) { return bind(index, static_cast<int64_t>(value)); }
  Statement& bind(int index, double value);
  Statement& bind(int index, std::string_view value);
  Statement& bind(int index, const std::string& value) {
    return bind(index, std::string_view(value));
  }
  Statement& bind(int index, const char* value) { return bind(index, std::string_view(value)); }
  Statement& bind(int index, std::nullopt_t);
  template <typename T>
  Statement& bind(int index, const std::optional<T>& value) {
    return value ? bind(index, *value) : bind(index, std::nullopt);
  }
  // Binds `values` to ?1, ?2, ... in order.
  template <typename... Values>
  Statement& bind_all(const Values&... values) {
    int index = 0;
    (bind(++index, values), ...);
    return *this;
  }

  // Advances: true when a row is ready, false when the statement is done. Throws on error.
  bool step();
  // Steps a statement that returns no rows.
  void run();
  // Makes the statement runnable again; bindings are kept.
  void reset();

  // Columns of the current row, numbered from 0.
  bool is_null(int column) const;
  int64_t integer(int column) const;
  double real(int column) const;
  std::string text(int column) const;
  std::optional<int64_t> optional_integer(int column) const;
  std::optional<double> optional_real(int column) const;
  std::optional<std::string> optional_text(int column) const;

 private:
  const Database* database_ = nullptr;
  sqlite3_stmt* statement_ = nullptr;
  std::string sql_;  // for error messages
};

// A transaction that rolls back unless commit() was called. kWrite takes the database's write
// lock at once (BEGIN IMMEDIATE), waiting up to the busy timeout, so a read-then-write never
// fails half-way because another process wrote in between.
class Transaction {
 public:
  enum class Kind { kRead, kWrite };
  Transaction(const Database& database, Kind kind);
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();

  void commit();

 private:
  const Database& database_;
  bool open_ = false;
};

}  // namespace trainyard::jobs::detail
