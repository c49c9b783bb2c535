// DescribeTrainingJob and ListTrainingJobs as SageMaker answers them (sagemaker-contract.md
// sections 2.2 and 2.3): the request's members echoed back, the status, the secondary
// transitions, times as epoch seconds, metrics, artifacts and billing. Members that have no
// value are left out, never null.
#pragma once

#include <nlohmann/json.hpp>

#include "jobs/store/job_record.h"

namespace trainyard::jobs {

nlohmann::ordered_json describe_training_job(const JobRecord& record);
// One TrainingJobSummaries entry of ListTrainingJobs.
nlohmann::ordered_json training_job_summary(const JobRecord& record);

}  // namespace trainyard::jobs
