#include "keras/progress_bar.h"

#include <gtest/gtest.h>

TEST(ProgressBarTest, HeaderCompiles) { SUCCEED(); }
