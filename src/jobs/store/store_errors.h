// The refusals of the job store that are part of normal operation, one type per answer the
// SageMaker API gives, so callers map them without reading messages. Storage failures are
// IOError (cannot open, read or write the database) and DataError (corrupt or from a newer
// trainyard), both naming the database file; bad arguments are ValueError.
#pragma once

#include <string>

#include "core/error.h"

namespace trainyard::jobs {

// SageMaker's ResourceInUse: the name is taken (by any job, ended or not), the job still runs
// and cannot be deleted, or a GPU it asks for is held by another job.
class ResourceInUse : public Error {
 public:
  using Error::Error;
};

// SageMaker's ResourceNotFound: no job of that name.
class ResourceNotFound : public Error {
 public:
  ResourceNotFound(const std::string& message, std::string job_name)
      : Error(message), job_name_(std::move(job_name)) {}
  const std::string& job_name() const { return job_name_; }

 private:
  std::string job_name_;
};

// The job's status forbids the change (it has ended, or a stop is asked of a finished job).
// SageMaker answers ValidationException.
class InvalidJobState : public Error {
 public:
  using Error::Error;
};

}  // namespace trainyard::jobs
