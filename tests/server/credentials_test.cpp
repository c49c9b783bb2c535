#include "server/credentials.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <regex>

#include "core/error.h"

namespace trainyard::server {
namespace {

class CredentialsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    directory_ = std::filesystem::temp_directory_path() /
                 ("trainyard-credentials-" + std::to_string(::getpid()) + "-" +
                  ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(directory_);
  }
  void TearDown() override { std::filesystem::remove_all(directory_); }

  void write(const std::string& text, mode_t mode) {
    std::filesystem::create_directories(directory_);
    std::ofstream(path()) << text;
    ::chmod(path().c_str(), mode);
  }
  std::filesystem::path path() const { return directory_ / "credentials.json"; }

  std::filesystem::path directory_;
};

TEST_F(CredentialsTest, CreateWritesAPrivateFileThatLoads) {
  Credential first = CredentialsFile::create(path());
  Credential second = CredentialsFile::create(path());
  EXPECT_TRUE(std::regex_match(first.access_key_id, std::regex("TYAK[A-Z0-9]{16}")))
      << first.access_key_id;
  EXPECT_TRUE(std::regex_match(first.secret_access_key, std::regex("[A-Za-z0-9+/]{40}")));
  EXPECT_NE(first.access_key_id, second.access_key_id);
  EXPECT_NE(first.secret_access_key, second.secret_access_key);

  struct stat status {};
  ASSERT_EQ(::stat(path().c_str(), &status), 0);
  EXPECT_EQ(status.st_mode & 0777, 0600u);

  CredentialsFile file = CredentialsFile::load(path());
  EXPECT_EQ(file.size(), 2u);
  EXPECT_EQ(file.secret_for(first.access_key_id), first.secret_access_key);
  EXPECT_EQ(file.secret_for(second.access_key_id), second.secret_access_key);
  EXPECT_FALSE(file.secret_for("TYAKNOTAKEY000000000").has_value());
}

TEST_F(CredentialsTest, AFileOthersCanReadIsRefused) {
  write(R"({"credentials": [{"access_key_id": "A", "secret_access_key": "S"}]})", 0644);
  try {
    CredentialsFile::load(path());
    FAIL() << "a world-readable credentials file loaded";
  } catch (const IOError& error) {
    EXPECT_NE(std::string(error.what()).find("mode 0644"), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find("chmod 600"), std::string::npos);
  }
  EXPECT_THROW(CredentialsFile::create(path()), IOError);  // nor is it rewritten
}

TEST_F(CredentialsTest, MalformedFilesNameTheProblem) {
  write("not json", 0600);
  EXPECT_THROW(CredentialsFile::load(path()), DataError);
  write(R"({"credentials": [{"access_key_id": "A"}]})", 0600);
  try {
    CredentialsFile::load(path());
    FAIL();
  } catch (const DataError& error) {
    EXPECT_NE(std::string(error.what()).find("entry 0 has no secret_access_key"), std::string::npos)
        << error.what();
  }
  std::filesystem::remove(path());
  EXPECT_THROW(CredentialsFile::load(path()), IOError);
}

}  // namespace
}  // namespace trainyard::server
