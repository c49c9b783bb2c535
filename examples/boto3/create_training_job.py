#!/usr/bin/env python3
"""The seed's CreateTrainingJob request sent to `trainyard serve` with boto3.

Only the endpoint, the credentials, the bucket and the instance type differ from what one
sends to AWS. Start a server first:

    trainyard credentials create                # prints AccessKeyId and SecretAccessKey
    trainyard serve --credentials ~/.trainyard/credentials.json

then run this with AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY set to those keys, and
TRAINYARD_ENDPOINT if the server is not at http://127.0.0.1:8080. The training image is the
seed's TensorFlow image: trainyard runs it through a runtime registered for it in
<data-dir>/runtimes.json (src/jobs/runners/README.md), and otherwise ends the job Failed
with the reason. The same request goes through the AWS CLI:

    aws sagemaker create-training-job --endpoint-url http://127.0.0.1:8080 \
        --cli-input-json file://examples/boto3/create_training_job.json
"""
import json
import os
import pathlib

import boto3

endpoint = os.environ.get("TRAINYARD_ENDPOINT", "http://127.0.0.1:8080")
request = json.loads(pathlib.Path(__file__).with_name("create_training_job.json").read_text())

sagemaker = boto3.client("sagemaker", endpoint_url=endpoint, region_name="us-east-1")
print(sagemaker.create_training_job(**request)["TrainingJobArn"])
sagemaker.get_waiter("training_job_completed_or_stopped").wait(
    TrainingJobName=request["TrainingJobName"], WaiterConfig={"Delay": 5, "MaxAttempts": 720})
job = sagemaker.describe_training_job(TrainingJobName=request["TrainingJobName"])
print(job["TrainingJobStatus"], job.get("FailureReason", ""), job["ModelArtifacts"])
