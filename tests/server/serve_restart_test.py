#!/usr/bin/env python3
"""kill -9 of `trainyard serve` while jobs run and others wait, then a restart: every job is
accounted for.

The server runs with --max-running-jobs 2 and gets five jobs: two run, three wait as
Starting. The server is killed with SIGKILL, and so is the supervisor of one running job, so
its program is left with nobody watching. The restarted server (same data directory, same
limit) supervises that program again, keeps the other running job's slot taken, and starts the
three waiting jobs as slots free up. All five end Completed, each listed once, and no more than
two are ever seen training at once.
Exit 77 (skipped) when boto3 is not installed.

Usage: serve_restart_test.py TRAINYARD_EXECUTABLE
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

try:
    import boto3
    from botocore.config import Config
except ImportError as error:
    print(f"SKIPPED: boto3 is not installed ({error}); scripts/setup installs python3-boto3")
    sys.exit(77)

TRAINYARD = None
NAMES = [f"restart-{i}" for i in range(5)]
TERMINAL = {"Completed", "Failed", "Stopped"}


def job_request(name):
    return dict(
        TrainingJobName=name,
        AlgorithmSpecification={"TrainingImage": "trainyard-keras", "TrainingInputMode": "File"},
        RoleArn="arn:aws:iam::123456789012:role/SageMakerRole",
        HyperParameters={"sagemaker_program": '"train.sh"'},
        InputDataConfig=[
            {"ChannelName": "code", "DataSource": {"S3DataSource": {
                "S3DataType": "S3Prefix", "S3Uri": "s3://code/steps/"}}},
            {"ChannelName": "training", "DataSource": {"S3DataSource": {
                "S3DataType": "S3Prefix", "S3Uri": "s3://data/train/"}}},
        ],
        OutputDataConfig={"S3OutputPath": "s3://out/jobs"},
        ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 10},
        StoppingCondition={"MaxRuntimeInSeconds": 600},
    )


class RestartTest(unittest.TestCase):
    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="trainyard-serve-restart-")
        self.data = os.path.join(self.root, "data")
        for key, text in {
                "data/train/a.csv": "1,2\n",
                "code/steps/train.sh": "#!/bin/sh\necho started\nsleep 4\n"
                                       "mkdir -p \"$SM_MODEL_DIR\"\n"
                                       "echo weights > \"$SM_MODEL_DIR/model.txt\"\n"}.items():
            path = os.path.join(self.data, "s3", key)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as file:
                file.write(text)
        self.server = None

    def tearDown(self):
        if self.server is not None and self.server.poll() is None:
            self.server.terminate()
            self.server.wait(timeout=20)
        subprocess.run(["pkill", "-f", "--", f"--data-dir {self.data}"], check=False)
        shutil.rmtree(self.root, ignore_errors=True)

    def start(self):
        self.server = subprocess.Popen(
            [TRAINYARD, "serve", "--listen", "127.0.0.1:0", "--data-dir", self.data,
             "--max-running-jobs", "2"], stdout=subprocess.PIPE, text=True)
        endpoint = self.server.stdout.readline().split("on ")[1].split(" ")[0]
        return boto3.client("sagemaker", endpoint_url=endpoint, region_name="us-east-1",
                            aws_access_key_id="any", aws_secret_access_key="any",
                            config=Config(retries={"max_attempts": 1}))

    @staticmethod
    def statuses(client):
        jobs = {}
        for name in NAMES:
            job = client.describe_training_job(TrainingJobName=name)
            jobs[name] = (job["TrainingJobStatus"], job["SecondaryStatus"],
                          job.get("FailureReason", ""))
        return jobs

    def test_every_job_is_accounted_for_after_a_kill_and_restart(self):
        client = self.start()
        for name in NAMES:
            client.create_training_job(**job_request(name))
        deadline = time.time() + 20
        while True:
            jobs = self.statuses(client)
            training = sorted(n for n, (_, secondary, _) in jobs.items() if secondary == "Training")
            if len(training) == 2:
                break
            self.assertLessEqual(len(training), 2, jobs)
            self.assertLess(time.time(), deadline, f"two jobs never trained at once: {jobs}")
            time.sleep(0.1)
        waiting = [n for n in NAMES if n not in training]
        for name in waiting:
            self.assertEqual(jobs[name][:2], ("InProgress", "Starting"), jobs)

        self.server.send_signal(signal.SIGKILL)
        self.server.wait()
        orphaned = training[0]  # its program runs on with nobody supervising it
        # The oldest match: the supervisor forks the program's runner with its own command line.
        supervisor = subprocess.run(
            ["pgrep", "-o", "-f", f"supervise {orphaned} --data-dir {self.data}"],
            capture_output=True, text=True).stdout.split()
        self.assertEqual(len(supervisor), 1, f"the supervisor of {orphaned}: {supervisor}")
        os.kill(int(supervisor[0]), signal.SIGKILL)

        client = self.start()
        deadline = time.time() + 60
        most_training = 0
        while True:
            jobs = self.statuses(client)
            most_training = max(most_training,
                                sum(secondary == "Training" for _, secondary, _ in jobs.values()))
            if all(status in TERMINAL for status, _, _ in jobs.values()):
                break
            self.assertLess(time.time(), deadline, f"jobs did not end: {jobs}")
            time.sleep(0.1)
        self.assertLessEqual(most_training, 2)
        for name, (status, _, reason) in jobs.items():
            self.assertEqual(status, "Completed", f"{name}: {reason}")
            self.assertTrue(os.path.isfile(os.path.join(
                self.data, "s3", "out", "jobs", name, "output", "model.tar.gz")), name)
        listed = [job["TrainingJobName"] for job in client.list_training_jobs(
            NameContains="restart-", MaxResults=100)["TrainingJobSummaries"]]
        self.assertEqual(sorted(listed), NAMES)


if __name__ == "__main__":
    TRAINYARD = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
