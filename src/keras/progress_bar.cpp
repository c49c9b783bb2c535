#include "keras/progress_bar.h"
