#!/usr/bin/env python3
"""boto3 and the AWS CLI against `trainyard serve`: the SageMaker API as SDK users call it.

Starts the server on a free loopback port with a fresh credentials file, then drives it with
the real clients: create -> the training_job_completed_or_stopped waiter -> describe
(Completed, ModelArtifacts, FinalMetricDataList); the ListTrainingJobs paginator over more
than 100 jobs; stop; and every refusal as botocore.exceptions.ClientError with AWS's code.
Requests signed more than 15 minutes before or after the server's clock are refused as
AWS refuses them. Clients that stall mid-request are cut off after --read-timeout-seconds and, however many,
do not hold back a normal request.
Exit 77 (skipped) when boto3 is not installed.

Usage: boto3_api_test.py TRAINYARD_EXECUTABLE
"""
import json
import os
import socket
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

try:
    import boto3
    import botocore.exceptions
    from botocore.config import Config
except ImportError as error:
    print(f"SKIPPED: boto3 is not installed ({error}); scripts/setup installs python3-boto3")
    sys.exit(77)

TRAINYARD = None
ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"


def job_request(name, script_key, instance_type="ml.m5.large"):
    return dict(
        TrainingJobName=name,
        AlgorithmSpecification={
            "TrainingImage": "trainyard-keras",
            "TrainingInputMode": "File",
            "MetricDefinitions": [{"Name": "train:loss", "Regex": "loss=([0-9.]+)"}],
        },
        RoleArn=ROLE,
        HyperParameters={"sagemaker_program": '"train.sh"'},
        InputDataConfig=[
            {"ChannelName": "code", "DataSource": {"S3DataSource": {
                "S3DataType": "S3Prefix", "S3Uri": f"s3://code/{script_key}/"}}},
            {"ChannelName": "training", "DataSource": {"S3DataSource": {
                "S3DataType": "S3Prefix", "S3Uri": "s3://data/train/"}}},
        ],
        OutputDataConfig={"S3OutputPath": "s3://out/jobs"},
        ResourceConfig={"InstanceType": instance_type, "InstanceCount": 1, "VolumeSizeInGB": 10},
        StoppingCondition={"MaxRuntimeInSeconds": 600},
    )


class ServerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.root = tempfile.mkdtemp(prefix="trainyard-serve-")
        cls.data = os.path.join(cls.root, "data")
        cls.put("data/train/a.csv", "1,2\n3,4\n")
        cls.put("code/quick/train.sh",
                "#!/bin/sh\necho 'loss=0.25'\nmkdir -p \"$SM_MODEL_DIR\"\n"
                "echo weights > \"$SM_MODEL_DIR/model.txt\"\n")
        cls.put("code/slow/train.sh", "#!/bin/sh\necho started\nexec sleep 60\n")
        credentials_file = os.path.join(cls.root, "credentials.json")
        created = subprocess.run([TRAINYARD, "credentials", "create", "--file", credentials_file],
                                 check=True, capture_output=True, text=True)
        cls.keys = json.loads(created.stdout)
        cls.server = subprocess.Popen(
            [TRAINYARD, "serve", "--listen", "127.0.0.1:0", "--data-dir", cls.data,
             "--credentials", credentials_file],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = cls.server.stdout.readline()
        if "serving the SageMaker API on http://" not in line:
            cls.server.kill()
            raise RuntimeError("trainyard serve did not start: " + line + cls.server.stderr.read())
        cls.endpoint = line.split("on ")[1].split(" ")[0]
        cls.sagemaker = cls.client(cls.keys["AccessKeyId"], cls.keys["SecretAccessKey"])

    @classmethod
    def tearDownClass(cls):
        cls.server.terminate()
        try:
            cls.server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            cls.server.kill()
        subprocess.run(["pkill", "-f", f"supervise .*--data-dir {cls.data}"], check=False)
        shutil.rmtree(cls.root, ignore_errors=True)

    @classmethod
    def put(cls, key, text):
        path = os.path.join(cls.data, "s3", key)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as file:
            file.write(text)

    @classmethod
    def client(cls, key, secret):
        return boto3.client("sagemaker", endpoint_url=cls.endpoint, region_name="us-east-1",
                            aws_access_key_id=key, aws_secret_access_key=secret,
                            config=Config(retries={"max_attempts": 1}))

    def error_of(self, call, **arguments):
        with self.assertRaises(botocore.exceptions.ClientError) as caught:
            call(**arguments)
        return caught.exception.response["Error"]

    def wait_for_end(self, name):
        self.sagemaker.get_waiter("training_job_completed_or_stopped").wait(
            TrainingJobName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 90})
        return self.sagemaker.describe_training_job(TrainingJobName=name)

    def test_a_job_runs_to_completed_with_artifacts_and_metrics(self):
        arn = self.sagemaker.create_training_job(**job_request("quick-1", "quick"))["TrainingJobArn"]
        self.assertTrue(arn.endswith(":training-job/quick-1"), arn)
        job = self.wait_for_end("quick-1")
        self.assertEqual(job["TrainingJobStatus"], "Completed", job.get("FailureReason"))
        self.assertEqual(job["ModelArtifacts"]["S3ModelArtifacts"],
                         "s3://out/jobs/quick-1/output/model.tar.gz")
        self.assertTrue(os.path.isfile(os.path.join(
            self.data, "s3", "out", "jobs", "quick-1", "output", "model.tar.gz")))
        metrics = {m["MetricName"]: m["Value"] for m in job["FinalMetricDataList"]}
        self.assertEqual(metrics, {"train:loss": 0.25})

        error = self.error_of(self.sagemaker.create_training_job, **job_request("quick-1", "quick"))
        self.assertEqual(error["Code"], "ResourceInUse")
        self.assertIn(arn, error["Message"])
        error = self.error_of(self.sagemaker.stop_training_job, TrainingJobName="quick-1")
        self.assertEqual(error["Code"], "ValidationException")
        self.assertIn("in status Completed", error["Message"])

    def test_stop_ends_a_running_job_stopped(self):
        self.sagemaker.create_training_job(**job_request("slow-1", "slow"))
        deadline = time.time() + 30
        while self.sagemaker.describe_training_job(
                TrainingJobName="slow-1")["SecondaryStatus"] != "Training":
            self.assertLess(time.time(), deadline, "the job never reached Training")
            time.sleep(0.1)
        self.sagemaker.stop_training_job(TrainingJobName="slow-1")
        self.assertEqual(self.wait_for_end("slow-1")["TrainingJobStatus"], "Stopped")

    def test_the_paginator_walks_more_than_one_hundred_jobs(self):
        names = [f"page-{i:03d}" for i in range(103)]
        for name in names:
            self.sagemaker.create_training_job(**job_request(name, "quick"))
        seen = []
        for page in self.sagemaker.get_paginator("list_training_jobs").paginate(
                NameContains="page-", SortBy="Name", SortOrder="Ascending",
                PaginationConfig={"PageSize": 40}):
            self.assertLessEqual(len(page["TrainingJobSummaries"]), 40)
            seen += [job["TrainingJobName"] for job in page["TrainingJobSummaries"]]
        self.assertEqual(seen, names)
        error = self.error_of(self.sagemaker.list_training_jobs, MaxResults=101)
        self.assertEqual(error["Code"], "ValidationException")
        self.assertIn("maxResults", error["Message"])

    def test_refusals_carry_awss_codes(self):
        error = self.error_of(self.sagemaker.describe_training_job, TrainingJobName="no-such-job")
        self.assertEqual(error, {"Code": "ValidationException",
                                 "Message": "Requested resource not found."})
        error = self.error_of(self.sagemaker.stop_training_job, TrainingJobName="no-such-job")
        self.assertEqual(error["Code"], "ResourceNotFound")
        error = self.error_of(self.sagemaker.create_training_job,
                              **job_request("bad-type", "quick", "ml.nonexistent.xlarge"))
        self.assertEqual(error["Code"], "ValidationException")
        self.assertIn("resourceConfig.instanceType", error["Message"])
        error = self.error_of(self.sagemaker.list_training_jobs, StatusEquals="Running")
        self.assertEqual(error["Code"], "ValidationException")
        self.assertIn("statusEquals", error["Message"])

    def test_bad_signatures_are_refused(self):
        wrong_secret = self.client(self.keys["AccessKeyId"], "x" * 40)
        error = self.error_of(wrong_secret.list_training_jobs)
        self.assertEqual(error["Code"], "InvalidSignatureException")
        unknown_key = self.client("TYAKUNKNOWNUNKNOWN00", self.keys["SecretAccessKey"])
        self.assertEqual(self.error_of(unknown_key.list_training_jobs)["Code"],
                         "UnrecognizedClientException")
        request = urllib.request.Request(
            self.endpoint + "/", data=b"{}", method="POST",
            headers={"X-Amz-Target": "SageMaker.ListTrainingJobs",
                     "Content-Type": "application/x-amz-json-1.1"})
        with self.assertRaises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(request, timeout=10)
        self.assertEqual(caught.exception.code, 400)
        body = json.loads(caught.exception.read())
        self.assertEqual(body["__type"], "MissingAuthenticationTokenException")
        self.assertEqual(caught.exception.headers["x-amzn-ErrorType"],
                         "MissingAuthenticationTokenException")

    def signed_at(self, moment):
        """A ListTrainingJobs request signed with the right key as if the clock read `moment`."""
        from unittest import mock
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials
        request = AWSRequest(method="POST", url=self.endpoint + "/", data=b"{}", headers={
            "X-Amz-Target": "SageMaker.ListTrainingJobs",
            "Content-Type": "application/x-amz-json-1.1"})
        signer = SigV4Auth(Credentials(self.keys["AccessKeyId"], self.keys["SecretAccessKey"]),
                           "sagemaker", "us-east-1")
        with mock.patch("botocore.auth.get_current_datetime", return_value=moment):
            signer.add_auth(request)
        prepared = request.prepare()
        return urllib.request.Request(prepared.url, data=prepared.body, method="POST",
                                      headers=dict(prepared.headers))

    def answer_to(self, request):
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    def test_a_replayed_or_future_signature_is_refused_outside_fifteen_minutes(self):
        import datetime
        now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
        status, body = self.answer_to(self.signed_at(now - datetime.timedelta(minutes=16)))
        self.assertEqual(status, 400)
        self.assertEqual(body["__type"], "InvalidSignatureException")
        self.assertRegex(body["message"], r"^Signature expired: \d{8}T\d{6}Z is now earlier than "
                                          r"\d{8}T\d{6}Z \(\d{8}T\d{6}Z - 15 min\.\)$")
        status, body = self.answer_to(self.signed_at(now + datetime.timedelta(minutes=16)))
        self.assertEqual(status, 400)
        self.assertEqual(body["__type"], "InvalidSignatureException")
        self.assertRegex(body["message"], r"^Signature not yet current: \d{8}T\d{6}Z is still "
                                          r"later than \d{8}T\d{6}Z \(\d{8}T\d{6}Z \+ 15 min\.\)$")
        # Inside the window, either side, the same request is served.
        for offset in (-14, 14):
            status, body = self.answer_to(self.signed_at(now + datetime.timedelta(minutes=offset)))
            self.assertEqual(status, 200, body)
            self.assertIn("TrainingJobSummaries", body)

    def test_an_oversized_body_is_a_clear_client_error(self):
        request = urllib.request.Request(
            self.endpoint + "/", data=b"{" + b" " * (2 << 20) + b"}", method="POST",
            headers={"X-Amz-Target": "SageMaker.ListTrainingJobs"})
        with self.assertRaises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(request, timeout=10)
        self.assertEqual(caught.exception.code, 413)
        self.assertIn("over trainyard's limit", json.loads(caught.exception.read())["message"])

    def test_tags_and_delete(self):
        arn = self.sagemaker.create_training_job(
            **job_request("tagged-1", "quick"), Tags=[{"Key": "team", "Value": "vision"}])[
                "TrainingJobArn"]
        self.sagemaker.add_tags(ResourceArn=arn, Tags=[{"Key": "stage", "Value": "dev"},
                                                       {"Key": "team", "Value": "speech"}])
        tags = self.sagemaker.list_tags(ResourceArn=arn)["Tags"]
        self.assertEqual(tags, [{"Key": "team", "Value": "speech"},
                                {"Key": "stage", "Value": "dev"}])
        self.sagemaker.delete_tags(ResourceArn=arn, TagKeys=["team", "absent"])
        self.assertEqual(self.sagemaker.list_tags(ResourceArn=arn)["Tags"],
                         [{"Key": "stage", "Value": "dev"}])
        error = self.error_of(self.sagemaker.list_tags, ResourceArn=arn.replace("tagged-1", "nope"))
        self.assertEqual(error["Code"], "ValidationException")

        self.wait_for_end("tagged-1")
        self.sagemaker.delete_training_job(TrainingJobName="tagged-1")
        error = self.error_of(self.sagemaker.describe_training_job, TrainingJobName="tagged-1")
        self.assertEqual(error["Message"], "Requested resource not found.")
        # The name is free again, and the new job starts clean.
        self.sagemaker.create_training_job(**job_request("tagged-1", "quick"))
        self.assertEqual(self.wait_for_end("tagged-1")["TrainingJobStatus"], "Completed")
        self.assertEqual(self.error_of(self.sagemaker.delete_training_job,
                                       TrainingJobName="never-was")["Code"], "ResourceNotFound")

    def test_deleting_a_running_job_is_refused(self):
        self.sagemaker.create_training_job(**job_request("slow-2", "slow"))
        error = self.error_of(self.sagemaker.delete_training_job, TrainingJobName="slow-2")
        self.assertEqual(error["Code"], "ResourceInUse")
        self.sagemaker.stop_training_job(TrainingJobName="slow-2")
        self.assertEqual(self.wait_for_end("slow-2")["TrainingJobStatus"], "Stopped")

    def test_concurrent_creates_of_one_name_let_exactly_one_through(self):
        import concurrent.futures

        def create(_):
            client = self.client(self.keys["AccessKeyId"], self.keys["SecretAccessKey"])
            try:
                client.create_training_job(**job_request("race-1", "quick"))
                return "created"
            except botocore.exceptions.ClientError as error:
                return error.response["Error"]["Code"]

        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            outcomes = sorted(pool.map(create, range(8)))
        self.assertEqual(outcomes, ["ResourceInUse"] * 7 + ["created"])

    def test_trainyards_own_commands_reach_the_server(self):
        job_file = os.path.join(self.root, "cli-job.json")
        with open(job_file, "w") as file:
            json.dump(job_request("own-cli-1", "quick"), file)
        environment = dict(os.environ, AWS_ACCESS_KEY_ID=self.keys["AccessKeyId"],
                           AWS_SECRET_ACCESS_KEY=self.keys["SecretAccessKey"])
        trained = subprocess.run([TRAINYARD, "train", job_file, "--endpoint", self.endpoint],
                                 env=environment, capture_output=True, text=True, timeout=120)
        self.assertEqual(trained.returncode, 0, trained.stderr)
        self.assertIn("Training job own-cli-1: Completed", trained.stdout)
        self.assertIn("train:loss: 0.25", trained.stdout)
        described = subprocess.run(
            [TRAINYARD, "describe", "own-cli-1", "--endpoint", self.endpoint], env=environment,
            capture_output=True, text=True, timeout=60)
        self.assertEqual(json.loads(described.stdout)["TrainingJobStatus"], "Completed")
        listed = subprocess.run(
            [TRAINYARD, "list", "--name-contains", "own-cli", "--endpoint", self.endpoint],
            env=environment, capture_output=True, text=True, timeout=60)
        self.assertIn("own-cli-1", listed.stdout)
        unsigned = subprocess.run(
            [TRAINYARD, "describe", "own-cli-1", "--endpoint", self.endpoint],
            env={k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
            capture_output=True, text=True, timeout=60)
        self.assertNotEqual(unsigned.returncode, 0)
        self.assertIn("MissingAuthenticationTokenException", unsigned.stderr)

    def test_the_aws_cli_describes_a_job(self):
        aws = shutil.which("aws")
        if aws is None:
            self.skipTest("the AWS CLI is not installed")
        self.sagemaker.create_training_job(**job_request("cli-1", "quick"))
        environment = dict(os.environ, AWS_ACCESS_KEY_ID=self.keys["AccessKeyId"],
                           AWS_SECRET_ACCESS_KEY=self.keys["SecretAccessKey"],
                           AWS_DEFAULT_REGION="us-east-1")
        subprocess.run([aws, "sagemaker", "wait", "training-job-completed-or-stopped",
                        "--endpoint-url", self.endpoint, "--training-job-name", "cli-1"],
                       env=environment, check=True, timeout=300)
        described = subprocess.run(
            [aws, "sagemaker", "describe-training-job", "--endpoint-url", self.endpoint,
             "--training-job-name", "cli-1"],
            env=environment, check=True, capture_output=True, text=True, timeout=60)
        self.assertEqual(json.loads(described.stdout)["TrainingJobStatus"], "Completed")


class ServerLifecycleTest(unittest.TestCase):
    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="trainyard-serve-life-")
        self.data = os.path.join(self.root, "data")
        for key, text in {"data/train/a.csv": "1,2\n",
                          "code/slow/train.sh": "#!/bin/sh\necho started\nexec sleep 60\n"}.items():
            path = os.path.join(self.data, "s3", key)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as file:
                file.write(text)

    def tearDown(self):
        subprocess.run(["pkill", "-f", "--", f"--data-dir {self.data}"], check=False)
        shutil.rmtree(self.root, ignore_errors=True)

    def start(self):
        server = subprocess.Popen([TRAINYARD, "serve", "--listen", "127.0.0.1:0", "--data-dir",
                                   self.data], stdout=subprocess.PIPE, text=True)
        endpoint = server.stdout.readline().split("on ")[1].split(" ")[0]
        client = boto3.client("sagemaker", endpoint_url=endpoint, region_name="us-east-1",
                              aws_access_key_id="any", aws_secret_access_key="any")
        return server, client

    def test_jobs_outlive_a_killed_server_and_the_next_one_sees_them(self):
        server, client = self.start()
        client.create_training_job(**job_request("survivor", "slow"))
        deadline = time.time() + 30
        while client.describe_training_job(TrainingJobName="survivor")["SecondaryStatus"] != \
                "Training":
            self.assertLess(time.time(), deadline)
            time.sleep(0.1)
        server.kill()  # SIGKILL: no chance to clean up
        server.wait()
        server, client = self.start()
        try:
            job = client.describe_training_job(TrainingJobName="survivor")
            self.assertEqual(job["TrainingJobStatus"], "InProgress")
            client.stop_training_job(TrainingJobName="survivor")
            client.get_waiter("training_job_completed_or_stopped").wait(
                TrainingJobName="survivor", WaiterConfig={"Delay": 1, "MaxAttempts": 60})
            self.assertEqual(client.describe_training_job(
                TrainingJobName="survivor")["TrainingJobStatus"], "Stopped")
        finally:
            server.terminate()
            server.wait(timeout=20)

    def test_https_with_a_certificate(self):
        certificate = os.path.join(self.root, "cert.pem")
        key = os.path.join(self.root, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                        "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", key, "-out", certificate], check=True, capture_output=True)
        server = subprocess.Popen(
            [TRAINYARD, "serve", "--listen", "127.0.0.1:0", "--data-dir", self.data,
             "--tls-certificate", certificate, "--tls-key", key],
            stdout=subprocess.PIPE, text=True)
        try:
            endpoint = server.stdout.readline().split("on ")[1].split(" ")[0]
            self.assertTrue(endpoint.startswith("https://"), endpoint)
            client = boto3.client("sagemaker", endpoint_url=endpoint, region_name="us-east-1",
                                  aws_access_key_id="any", aws_secret_access_key="any",
                                  verify=certificate)
            self.assertEqual(client.list_training_jobs()["TrainingJobSummaries"], [])
        finally:
            server.terminate()
            server.wait(timeout=20)
        with open(key, "w") as file:
            file.write("not a key")
        refused = subprocess.run(
            [TRAINYARD, "serve", "--listen", "127.0.0.1:0", "--data-dir", self.data,
             "--tls-certificate", certificate, "--tls-key", key],
            capture_output=True, text=True, timeout=30)
        self.assertNotEqual(refused.returncode, 0)
        self.assertIn("cannot use the TLS certificate", refused.stderr)

    def test_listening_beyond_loopback_needs_credentials(self):
        refused = subprocess.run([TRAINYARD, "serve", "--listen", "0.0.0.0:0", "--data-dir",
                                  self.data], capture_output=True, text=True, timeout=30)
        self.assertNotEqual(refused.returncode, 0)
        self.assertIn("without --credentials", refused.stderr)


class SlowClientTest(unittest.TestCase):
    """Clients that send half a request and stall must neither hold back others nor stay."""

    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="trainyard-serve-slow-")
        self.servers = []
        self.sockets = []

    def tearDown(self):
        for connection in self.sockets:
            connection.close()
        for server in self.servers:
            server.terminate()
            server.wait(timeout=20)
            server.stdout.close()
        shutil.rmtree(self.root, ignore_errors=True)

    def start(self, *options):
        server = subprocess.Popen(
            [TRAINYARD, "serve", "--listen", "127.0.0.1:0", "--data-dir",
             os.path.join(self.root, f"data-{len(self.servers)}"), *options],
            stdout=subprocess.PIPE, text=True)
        self.servers.append(server)
        endpoint = server.stdout.readline().split("on ")[1].split(" ")[0]
        port = int(endpoint.rsplit(":", 1)[1])
        client = boto3.client("sagemaker", endpoint_url=endpoint, region_name="us-east-1",
                              aws_access_key_id="any", aws_secret_access_key="any",
                              config=Config(retries={"max_attempts": 1}, read_timeout=30,
                                            connect_timeout=30))
        return port, client

    def stall(self, port, half_request):
        connection = socket.create_connection(("127.0.0.1", port))
        connection.sendall(half_request)
        self.sockets.append(connection)
        return connection

    def assert_answers(self, client):
        page = client.list_training_jobs(MaxResults=1)
        self.assertEqual(page["TrainingJobSummaries"], [])

    def test_a_stalled_client_is_cut_off_after_the_read_timeout(self):
        port, client = self.start("--read-timeout-seconds", "1")
        headers_without_end = self.stall(port, b"POST / HTTP/1.1\r\nHost: x\r\n")
        short_body = self.stall(
            port, b"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: SageMaker.ListTrainingJobs\r\n"
                  b"Content-Length: 100\r\n\r\n{\"MaxRes")
        self.assert_answers(client)  # meanwhile, others are served
        for connection in (headers_without_end, short_body):
            # The server closes the connection (end of stream) rather than wait forever; the
            # 20 s bound only keeps a broken server from hanging the test.
            connection.settimeout(20)
            received = b""
            while True:
                chunk = connection.recv(4096)
                if not chunk:
                    break
                received += chunk
            self.assertNotIn(b"200 OK", received)

    def test_more_stalled_clients_than_httplibs_pool_do_not_block_a_request(self):
        # cpp-httplib's own pool would have 8 threads here; a 60 s read timeout means a
        # request queued behind 40 stalled clients would outlast the client's 30 s timeout.
        port, client = self.start("--read-timeout-seconds", "60")
        for _ in range(40):
            self.stall(port, b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n{")
        self.assert_answers(client)

    def test_the_connection_limit_is_an_option(self):
        refused = subprocess.run([TRAINYARD, "serve", "--listen", "127.0.0.1:0", "--data-dir",
                                  self.root, "--max-connections", "0"],
                                 capture_output=True, text=True, timeout=30)
        self.assertNotEqual(refused.returncode, 0)
        self.assertIn("--max-connections", refused.stderr)


if __name__ == "__main__":
    TRAINYARD = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
