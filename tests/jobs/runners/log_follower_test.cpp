#include "jobs/runners/log_follower.h"

#include <gtest/gtest.h>

#include "core/error.h"
#include "runner_test_util.h"

namespace trainyard::jobs {
namespace {

using Lines = std::vector<std::string>;

class LogFollowerTest : public ::testing::Test {
 protected:
  TempDir dir_;
};

TEST_F(LogFollowerTest, MissingFileReadsAsNothingYet) {
  LogFollower follower(dir_.path() / "log");
  const LogChunk chunk = follower.read();
  EXPECT_EQ(chunk.bytes, "");
  EXPECT_EQ(chunk.lines, Lines{});
  EXPECT_EQ(follower.offset(), 0u);
}

TEST_F(LogFollowerTest, CompleteLinesAreReturnedAndPartialOnesWait) {
  LogFollower follower(dir_.path() / "log");
  write_text(dir_.path() / "log", "epoch 1\nepo");
  LogChunk chunk = follower.read();
  EXPECT_EQ(chunk.bytes, "epoch 1\nepo");
  EXPECT_EQ(chunk.lines, Lines{"epoch 1"});
  EXPECT_EQ(follower.offset(), 11u);
  EXPECT_EQ(follower.line_offset(), 8u);

  append_text(dir_.path() / "log", "ch 2\n\nlast");
  chunk = follower.read();
  EXPECT_EQ(chunk.bytes, "ch 2\n\nlast");
  EXPECT_EQ(chunk.lines, (Lines{"epoch 2", ""}));

  EXPECT_EQ(follower.read().bytes, "");  // nothing new
  EXPECT_EQ(follower.finish(), "last");
  EXPECT_EQ(follower.finish(), std::nullopt);
}

TEST_F(LogFollowerTest, CarriageReturnEndsALineButBytesStayIntact) {
  // Keras's progress bar: each redraw starts with '\r'; the epoch ends with '\n'.
  const std::string keras =
      "Epoch 1/2\n"
      "\r1/3 [=====>....] - loss: 0.90\r2/3 [========>.] - loss: 0.70"
      "\r3/3 [==========] - loss: 0.50 - val_loss: 0.60\n";
  write_text(dir_.path() / "log", keras);
  LogFollower follower(dir_.path() / "log");
  const LogChunk chunk = follower.read();
  EXPECT_EQ(chunk.bytes, keras);
  EXPECT_EQ(chunk.lines, (Lines{"Epoch 1/2", "", "1/3 [=====>....] - loss: 0.90",
                                "2/3 [========>.] - loss: 0.70",
                                "3/3 [==========] - loss: 0.50 - val_loss: 0.60"}));
}

TEST_F(LogFollowerTest, CrLfIsOneBreakEvenWhenSplitBetweenReads) {
  LogFollower follower(dir_.path() / "log");
  write_text(dir_.path() / "log", "windows\r");
  EXPECT_EQ(follower.read().lines, Lines{"windows"});
  EXPECT_EQ(follower.line_offset(), 8u);
  append_text(dir_.path() / "log", "\nnext\r\n");
  EXPECT_EQ(follower.read().lines, Lines{"next"});
  EXPECT_EQ(follower.finish(), std::nullopt);
}

TEST_F(LogFollowerTest, ResumingAtLineOffsetGivesTheSameLines) {
  write_text(dir_.path() / "log", "a\r");
  LogFollower first(dir_.path() / "log");
  EXPECT_EQ(first.read().lines, Lines{"a"});
  append_text(dir_.path() / "log", "\nbb\ncc");
  EXPECT_EQ(first.read().lines, Lines{"bb"});

  // A follower started where the first one's unfinished line begins, and one started right
  // after the '\r' of a "\r\n", see the same lines as the first from there on.
  LogFollower resumed(dir_.path() / "log", first.line_offset());
  append_text(dir_.path() / "log", "\n");
  EXPECT_EQ(first.read().lines, Lines{"cc"});
  EXPECT_EQ(resumed.read().lines, Lines{"cc"});
  LogFollower after_cr(dir_.path() / "log", 2);
  EXPECT_EQ(after_cr.read().lines, (Lines{"bb", "cc"}));
}

TEST_F(LogFollowerTest, ReadsAreBoundedAndContinue) {
  write_text(dir_.path() / "log", "0123456789\nabc\n");
  LogFollower follower(dir_.path() / "log", 0, {.max_read_bytes = 4});
  std::string bytes;
  Lines lines;
  for (int i = 0; i < 10; ++i) {
    LogChunk chunk = follower.read();
    EXPECT_LE(chunk.bytes.size(), 4u);
    bytes += chunk.bytes;
    lines.insert(lines.end(), chunk.lines.begin(), chunk.lines.end());
  }
  EXPECT_EQ(bytes, "0123456789\nabc\n");
  EXPECT_EQ(lines, (Lines{"0123456789", "abc"}));
}

TEST_F(LogFollowerTest, OverlongLinesAreCutButOffsetsCountEveryByte) {
  write_text(dir_.path() / "log", std::string(100, 'x') + "\nshort\n" + std::string(50, 'y'));
  LogFollower follower(dir_.path() / "log", 0, {.max_line_bytes = 10});
  const LogChunk chunk = follower.read();
  EXPECT_EQ(chunk.bytes.size(), 157u);
  EXPECT_EQ(chunk.lines, (Lines{std::string(10, 'x'), "short"}));
  EXPECT_EQ(follower.line_offset(), 107u);
  EXPECT_EQ(follower.finish(), std::string(10, 'y'));
}

TEST_F(LogFollowerTest, TruncatedFileIsFollowedFromItsStart) {
  write_text(dir_.path() / "log", "old line one\nold line two\n");
  LogFollower follower(dir_.path() / "log");
  EXPECT_EQ(follower.read().lines.size(), 2u);
  write_text(dir_.path() / "log", "new\n");
  const LogChunk chunk = follower.read();
  EXPECT_EQ(chunk.bytes, "new\n");
  EXPECT_EQ(chunk.lines, Lines{"new"});
  EXPECT_EQ(follower.offset(), 4u);
}

TEST_F(LogFollowerTest, UnreadableLogIsAnIOError) {
  std::filesystem::create_directories(dir_.path() / "log");  // a directory, not a file
  LogFollower follower(dir_.path() / "log");
  try {
    follower.read();
    FAIL() << "expected IOError";
  } catch (const IOError& error) {
    EXPECT_NE(std::string(error.what()).find((dir_.path() / "log").string()), std::string::npos)
        << error.what();
  }
}

}  // namespace
}  // namespace trainyard::jobs
