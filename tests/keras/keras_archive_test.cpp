// Hostile .keras archives, built here with libarchive: path traversal, absolute names,
// unknown, repeated and non-file entries, and zip bombs are refused with the file and the
// entry named, before anything is written outside the loader's private directory.
#include "keras/saving/keras_archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <trainyard/keras.h>
#include <unistd.h>

#include <filesystem>

#include "keras/saving/zip_archive.h"

namespace trainyard::keras {
namespace {

namespace fs = std::filesystem;

struct Entry {
  std::string name;
  std::string contents;
  unsigned type = AE_IFREG;
  std::string link_target = {};  // for AE_IFLNK
};

// Writes a zip with exactly these entries, deflated when `deflate` (a zip bomb's ratio).
void write_zip(const std::string& path, const std::vector<Entry>& entries, bool deflate = false) {
  struct archive* zip = archive_write_new();
  ASSERT_EQ(archive_write_set_format_zip(zip), ARCHIVE_OK);
  if (deflate) {
    ASSERT_EQ(archive_write_zip_set_compression_deflate(zip), ARCHIVE_OK);
  } else {
    ASSERT_EQ(archive_write_zip_set_compression_store(zip), ARCHIVE_OK);
  }
  ASSERT_EQ(archive_write_open_filename(zip, path.c_str()), ARCHIVE_OK);
  for (const Entry& item : entries) {
    struct archive_entry* entry = archive_entry_new();
    archive_entry_set_pathname(entry, item.name.c_str());
    archive_entry_set_filetype(entry, item.type);
    archive_entry_set_perm(entry, 0644);
    if (item.type == AE_IFLNK) archive_entry_set_symlink(entry, item.link_target.c_str());
    archive_entry_set_size(entry, item.type == AE_IFREG ? la_int64_t(item.contents.size()) : 0);
    ASSERT_EQ(archive_write_header(zip, entry), ARCHIVE_OK) << archive_error_string(zip);
    if (item.type == AE_IFREG && !item.contents.empty()) {
      ASSERT_EQ(archive_write_data(zip, item.contents.data(), item.contents.size()),
                la_ssize_t(item.contents.size()));
    }
    archive_entry_free(entry);
  }
  ASSERT_EQ(archive_write_close(zip), ARCHIVE_OK);
  archive_write_free(zip);
}

// Each test gets <tmp>/outer/inner/; archives go in inner/, so "../" lands in outer/.
class KerasArchiveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    outer_ = fs::temp_directory_path() /
             ("trainyard_archive_" + std::string(info->name()) + "_" + std::to_string(::getpid()));
    fs::remove_all(outer_);
    fs::create_directories(outer_ / "inner");
    Sequential model({layers::Dense(2)}, "tiny");
    model.build(Shape{-1, 3});
    model.save(path("valid.keras"));
    saving::ZipReader zip(path("valid.keras"));
    while (auto entry = zip.next()) valid_[entry->name] = zip.read(size_t{1} << 20);
    fs::remove(path("valid.keras"));
  }
  void TearDown() override { fs::remove_all(outer_); }

  std::string path(const std::string& name) const { return (outer_ / "inner" / name).string(); }
  // The three entries of a valid archive, then `extra`.
  std::vector<Entry> valid_with(std::vector<Entry> extra) const {
    std::vector<Entry> entries{{"metadata.json", valid_.at("metadata.json")},
                               {"config.json", valid_.at("config.json")},
                               {"model.weights.h5", valid_.at("model.weights.h5")}};
    entries.insert(entries.end(), extra.begin(), extra.end());
    return entries;
  }
  // Everything under outer/ except `archive`, plus the loader's leftovers in the temp dir.
  std::vector<std::string> written_besides(const std::string& archive) const {
    std::vector<std::string> found;
    for (const auto& entry : fs::recursive_directory_iterator(outer_)) {
      if (entry.path() != fs::path(archive) && entry.path() != outer_ / "inner") {
        found.push_back(entry.path().string());
      }
    }
    return found;
  }
  // The message load_model throws for `archive` as DataError.
  std::string refusal(const std::string& archive) const {
    try {
      load_model(archive);
    } catch (const DataError& error) {
      return error.what();
    }
    ADD_FAILURE() << "load_model accepted " << archive;
    return "";
  }

  fs::path outer_;
  std::map<std::string, std::string> valid_;
};

TEST_F(KerasArchiveTest, AValidArchiveBuiltHereLoads) {
  write_zip(path("ok.keras"), valid_with({}));
  EXPECT_EQ(load_model(path("ok.keras"))->name(), "tiny");
}

TEST_F(KerasArchiveTest, RefusesPathTraversal) {
  std::string archive = path("evil.keras");
  write_zip(archive, valid_with({{"../evil", "owned"}}));
  std::string message = refusal(archive);
  EXPECT_NE(message.find("'" + archive + "' entry '../evil'"), std::string::npos) << message;
  EXPECT_NE(message.find("path traversal"), std::string::npos) << message;
  EXPECT_FALSE(fs::exists(outer_ / "evil"));
  EXPECT_EQ(written_besides(archive), std::vector<std::string>{});

  write_zip(archive, {{"config.json", valid_.at("config.json")},
                      {"a/../../model.weights.h5", valid_.at("model.weights.h5")}});
  message = refusal(archive);
  EXPECT_NE(message.find("entry 'a/../../model.weights.h5' has a path traversal"),
            std::string::npos)
      << message;
  EXPECT_EQ(written_besides(archive), std::vector<std::string>{});
}

TEST_F(KerasArchiveTest, RefusesAbsoluteAndBackslashNames) {
  std::string archive = path("absolute.keras");
  write_zip(archive, valid_with({{"/tmp/trainyard-evil", "owned"}}));
  std::string message = refusal(archive);
  EXPECT_NE(message.find("entry '/tmp/trainyard-evil' has an absolute path"), std::string::npos)
      << message;
  EXPECT_FALSE(fs::exists("/tmp/trainyard-evil"));

  // The zip reader turns Windows separators into '/', so this is caught as traversal.
  write_zip(archive, valid_with({{"..\\evil", "owned"}}));
  message = refusal(archive);
  EXPECT_NE(message.find("evil' has a path traversal"), std::string::npos) << message;
  EXPECT_FALSE(fs::exists(outer_ / "evil"));
  EXPECT_EQ(written_besides(archive), std::vector<std::string>{});
}

TEST_F(KerasArchiveTest, RefusesUnknownRepeatedAndNonFileEntries) {
  std::string archive = path("odd.keras");
  write_zip(archive, valid_with({{"assets/vocabulary.txt", "a\nb\n"}}));
  std::string message = refusal(archive);
  EXPECT_NE(message.find("entry 'assets/vocabulary.txt' is not part of a Keras model archive"),
            std::string::npos)
      << message;

  write_zip(archive, valid_with({{"config.json", "{}"}}));
  message = refusal(archive);
  EXPECT_NE(message.find("entry 'config.json' appears twice"), std::string::npos) << message;

  write_zip(archive, {{"metadata.json", valid_.at("metadata.json")},
                      {"config.json", valid_.at("config.json")},
                      {"model.weights.h5", "", AE_IFLNK, "/etc/passwd"}});
  message = refusal(archive);
  EXPECT_NE(message.find("entry 'model.weights.h5' is not a regular file"), std::string::npos)
      << message;

  write_zip(archive, {{"metadata.json", valid_.at("metadata.json")},
                      {"config.json", valid_.at("config.json")}});
  message = refusal(archive);
  EXPECT_NE(message.find("has no entry 'model.weights.h5'"), std::string::npos) << message;
  EXPECT_EQ(written_besides(archive), std::vector<std::string>{});
}

TEST_F(KerasArchiveTest, RefusesZipBombs) {
  // A 17 MiB config.json that deflates to a few kilobytes.
  std::string archive = path("bomb.keras");
  std::string padded = valid_.at("config.json") + std::string(size_t{17} << 20, ' ');
  write_zip(archive,
            {{"metadata.json", valid_.at("metadata.json")},
             {"config.json", padded},
             {"model.weights.h5", valid_.at("model.weights.h5")}},
            /*deflate=*/true);
  ASSERT_LT(fs::file_size(archive), size_t{1} << 20);
  std::string message = refusal(archive);
  EXPECT_NE(message.find("'" + archive + "' entry 'config.json' claims"), std::string::npos)
      << message;

  // A weights entry far larger than a 3 -> 2 Dense layer could need (5 x its bytes + 64 MiB).
  std::string huge(size_t{80} << 20, '\0');
  write_zip(archive,
            {{"metadata.json", valid_.at("metadata.json")},
             {"config.json", valid_.at("config.json")},
             {"model.weights.h5", huge}},
            /*deflate=*/true);
  ASSERT_LT(fs::file_size(archive), size_t{2} << 20);
  message = refusal(archive);
  EXPECT_NE(message.find("entry 'model.weights.h5' claims 83886080 bytes"), std::string::npos)
      << message;
  EXPECT_EQ(written_besides(archive), std::vector<std::string>{});
}

TEST_F(KerasArchiveTest, ReadingStopsAtTheCapWhateverTheHeaderSays) {
  std::string archive = path("plain.zip");
  write_zip(archive, {{"config.json", std::string(5000, 'x')}}, /*deflate=*/true);
  saving::ZipReader zip(archive);
  ASSERT_TRUE(zip.next());
  try {
    zip.read(4096);
    ADD_FAILURE() << "read past the cap";
  } catch (const DataError& error) {
    EXPECT_NE(std::string(error.what()).find("entry 'config.json' holds more than 4096 bytes"),
              std::string::npos)
        << error.what();
  }
}

TEST_F(KerasArchiveTest, DamagedWeightsAreADataErrorNamingTheArchive) {
  std::string archive = path("damaged.keras");
  std::string weights = valid_.at("model.weights.h5");
  write_zip(archive, {{"metadata.json", valid_.at("metadata.json")},
                      {"config.json", valid_.at("config.json")},
                      {"model.weights.h5", weights.substr(0, weights.size() / 2)}});
  std::string message = refusal(archive);
  EXPECT_NE(message.find("load_model: '" + archive + "'"), std::string::npos) << message;
  EXPECT_EQ(message.find("trainyard-model-"), std::string::npos) << message;
}

}  // namespace
}  // namespace trainyard::keras
