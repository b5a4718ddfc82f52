"""A real S3-compatible server for tests: moto's server (installed with the test extra), as a process on a free
loopback port, with a bucket made through the S3 API like an operator would."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boto3
import httpx

from tests.helpers.nodes import STARTED, free_port

ACCESS_KEY, SECRET_KEY = "test-access-key", "test-secret-key"


@dataclass(frozen=True)
class S3Server:
    endpoint: str

    def client(self) -> Any:
        """An independent S3 client (boto3) to look into the bucket, as an operator's tools would."""
        return boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1", aws_access_key_id=ACCESS_KEY,
                            aws_secret_access_key=SECRET_KEY)

    def make_bucket(self, name: str) -> str:
        self.client().create_bucket(Bucket=name)
        return name

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        answer = self.client().list_objects_v2(Bucket=bucket, Prefix=prefix)
        return sorted(item["Key"] for item in answer.get("Contents", []))

    def node_env(self, bucket: str, **extra: str) -> dict[str, str]:
        """The environment that points a node (serve, worker, CLI) at this server's bucket."""
        return {"AMBTENAAR_MEDIA_STORE": f"s3://{bucket}", "AMBTENAAR_S3_ENDPOINT": self.endpoint,
                "AMBTENAAR_S3_ACCESS_KEY": ACCESS_KEY, "AMBTENAAR_S3_SECRET_KEY": SECRET_KEY, **extra}


@contextmanager
def s3_server(timeout: float = 60.0) -> Iterator[S3Server]:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    STARTED.append(process)
    server = S3Server(f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError("moto_server exited early")
            try:
                httpx.get(server.endpoint, timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"moto_server did not answer in {timeout}s") from None
                time.sleep(0.1)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
