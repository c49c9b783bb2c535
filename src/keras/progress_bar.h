// Keras 3's progress bar and "Epoch i/N" lines (filled in next).
#pragma once
