#include "jobs/store/sqlite_database.h"

#include <sqlite3.h>

#include <utility>

#include "core/error.h"

namespace trainyard::jobs::detail {
namespace {

[[noreturn]] void throw_error(int result, sqlite3* db, std::string_view call,
                              const std::filesystem::path& path) {
  // errmsg is more specific than errstr ("no such table: jobs" vs "SQL logic error") but
  // only describes `result` when the connection recorded it.
  std::string detail = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(result);
  std::string message = std::string(call) + " failed on the job database " + path.string() + ": " +
                        detail + " (SQLite code " + std::to_string(result) + ")";
  switch (result & 0xFF) {
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      throw DataError(message + "; the file is corrupt or not a trainyard job database");
    case SQLITE_ERROR:
      throw DataError(message);
    case SQLITE_CONSTRAINT:
      throw InternalError(message);
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      throw IOError(message + "; another trainyard process held it past the busy timeout");
    default:
      throw IOError(message);
  }
}

}  // namespace

// --- Database

Database Database::open(const std::filesystem::path& path, int busy_timeout_ms) {
  Database database;
  database.path_ = path;
  // NOMUTEX: the store serialises access to its connection with its own mutex.
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  const int result = sqlite3_open_v2(path.c_str(), &database.db_, flags, nullptr);
  if (result != SQLITE_OK) {
    // The handle (if any) is released by ~Database once the exception leaves.
    throw IOError(
        "sqlite3_open_v2 failed on the job database " + path.string() + ": " +
        (database.db_ != nullptr ? sqlite3_errmsg(database.db_) : sqlite3_errstr(result)));
  }
  database.check(sqlite3_extended_result_codes(database.db_, 1), "sqlite3_extended_result_codes");
  database.check(sqlite3_busy_timeout(database.db_, busy_timeout_ms), "sqlite3_busy_timeout");
  return database;
}

Database::Database(Database&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)), path_(std::move(other.path_)) {}

Database& Database::operator=(Database&& other) noexcept {
  if (this != &other) {
    if (db_ != nullptr) sqlite3_close_v2(db_);
    db_ = std::exchange(other.db_, nullptr);
    path_ = std::move(other.path_);
  }
  return *this;
}

Database::~Database() {
  if (db_ != nullptr) sqlite3_close_v2(db_);
}

void Database::check(int result, std::string_view call) const {
  if (result == SQLITE_OK || result == SQLITE_ROW || result == SQLITE_DONE) return;
  throw_error(result, db_, call, path_);
}

void Database::execute(std::string_view sql) const {
  const std::string text(sql);
  check(sqlite3_exec(db_, text.c_str(), nullptr, nullptr, nullptr), "sqlite3_exec(" + text + ")");
}

int64_t Database::last_insert_rowid() const {
  return sqlite3_last_insert_rowid(db_);
}

int64_t Database::changes() const {
  return sqlite3_changes64(db_);
}

int64_t Database::query_integer(std::string_view sql) const {
  Statement statement(*this, sql);
  if (!statement.step()) {
    throw DataError(std::string(sql) + " returned no row on the job database " + path_.string());
  }
  return statement.integer(0);
}

// --- Statement

Statement::Statement(const Database& database, std::string_view sql)
    : database_(&database), sql_(sql) {
  const int result = sqlite3_prepare_v2(database.get(), sql_.c_str(), static_cast<int>(sql_.size()),
                                        &statement_, nullptr);
  database.check(result, "sqlite3_prepare_v2(" + sql_ + ")");
}

Statement::Statement(Statement&& other) noexcept
    : database_(other.database_),
      statement_(std::exchange(other.statement_, nullptr)),
      sql_(std::move(other.sql_)) {}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    if (statement_ != nullptr) sqlite3_finalize(statement_);
    database_ = other.database_;
    statement_ = std::exchange(other.statement_, nullptr);
    sql_ = std::move(other.sql_);
  }
  return *this;
}

Statement::~Statement() {
  if (statement_ != nullptr) sqlite3_finalize(statement_);
}

Statement& Statement::bind(int index, int64_t value) {
  database_->check(sqlite3_bind_int64(statement_, index, value),
                   "sqlite3_bind_int64(" + sql_ + ")");
  return *this;
}

Statement& Statement::bind(int index, double value) {
  database_->check(sqlite3_bind_double(statement_, index, value),
                   "sqlite3_bind_double(" + sql_ + ")");
  return *this;
}

Statement& Statement::bind(int index, std::string_view value) {
  database_->check(sqlite3_bind_text64(statement_, index, value.data(), value.size(),
                                       SQLITE_TRANSIENT, SQLITE_UTF8),
                   "sqlite3_bind_text64(" + sql_ + ")");
  return *this;
}

Statement& Statement::bind(int index, std::nullopt_t) {
  database_->check(sqlite3_bind_null(statement_, index), "sqlite3_bind_null(" + sql_ + ")");
  return *this;
}

bool Statement::step() {
  const int result = sqlite3_step(statement_);
  database_->check(result, "sqlite3_step(" + sql_ + ")");
  return result == SQLITE_ROW;
}

void Statement::run() {
  if (step()) {
    throw InternalError("statement " + sql_ + " returned rows where none were expected");
  }
}

void Statement::reset() {
  database_->check(sqlite3_reset(statement_), "sqlite3_reset(" + sql_ + ")");
}

bool Statement::is_null(int column) const {
  return sqlite3_column_type(statement_, column) == SQLITE_NULL;
}

int64_t Statement::integer(int column) const {
  return sqlite3_column_int64(statement_, column);
}

double Statement::real(int column) const {
  return sqlite3_column_double(statement_, column);
}

std::string Statement::text(int column) const {
  const unsigned char* data = sqlite3_column_text(statement_, column);
  const int size = sqlite3_column_bytes(statement_, column);
  return data == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(data), size);
}

std::optional<int64_t> Statement::optional_integer(int column) const {
  if (is_null(column)) return std::nullopt;
  return integer(column);
}

std::optional<double> Statement::optional_real(int column) const {
  if (is_null(column)) return std::nullopt;
  return real(column);
}

std::optional<std::string> Statement::optional_text(int column) const {
  if (is_null(column)) return std::nullopt;
  return text(column);
}

// --- Transaction

Transaction::Transaction(const Database& database, Kind kind) : database_(database) {
  database_.execute(kind == Kind::kWrite ? "BEGIN IMMEDIATE" : "BEGIN");
  open_ = true;
}

Transaction::~Transaction() {
  // A failed commit or an exception in the body: undo. Errors here have nowhere to go, and
  // SQLite rolls back by itself when the connection closes.
  if (open_) sqlite3_exec(database_.get(), "ROLLBACK", nullptr, nullptr, nullptr);
}

void Transaction::commit() {
  database_.execute("COMMIT");
  open_ = false;
}

}  // namespace trainyard::jobs::detail
