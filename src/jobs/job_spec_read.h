// Reads the top-level structure of a CreateTrainingJob request (see job_spec_read.cpp for the
// readers of every nested structure).
#pragma once

#include "jobs/job_spec.h"
#include "jobs/spec_reader.h"

namespace trainyard::jobs::detail {

// Reads every member of the request object behind `reader`, recording violations in its
// context. The result is best effort: meaningful only when no violation was recorded.
TrainingJobSpec read_training_job_request(ObjectReader& reader);

}  // namespace trainyard::jobs::detail
