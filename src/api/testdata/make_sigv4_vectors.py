#!/usr/bin/python3
"""Writes sigv4_vectors.json: requests signed by Debian's botocore (python3-botocore), which
src/api/sigv4_test.cc replays against tide's SigV4 check. Run it with Debian's python3 after
`apt-get install python3-botocore`; the output is the same on every run (the time is fixed).

    src/api/testdata/make_sigv4_vectors.py > src/api/testdata/sigv4_vectors.json
"""
import datetime
import json
from unittest import mock
from urllib.parse import urlsplit

import botocore
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

NOW = datetime.datetime(2026, 12, 6, 4, 12, 30)
ENDPOINT = "http://127.0.0.1:4566"
KEY, SECRET = "AKIDTIDEEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"


def signed(name, service, method, path, data=None, headers=None, token=None, presign=0):
    creds = Credentials(KEY, SECRET, token)
    req = AWSRequest(method=method, url=ENDPOINT + path, data=data, headers=headers or {})
    fake = mock.Mock(wraps=datetime.datetime)
    fake.utcnow.return_value = NOW
    fake.now.return_value = NOW
    with mock.patch("botocore.auth.datetime.datetime", fake):
        if presign:
            SigV4QueryAuth(creds, service, "us-east-1", expires=presign).add_auth(req)
        else:
            SigV4Auth(creds, service, "us-east-1").add_auth(req)
    prepared = req.prepare()
    url = urlsplit(prepared.url)
    sent = [["Host", url.netloc]] + [[k, v] for k, v in prepared.headers.items()]
    body = prepared.body or b""
    if isinstance(body, str):
        body = body.encode()
    return {
        "name": name,
        "method": method,
        "path": url.path or "/",
        "query": url.query,
        "headers": sent,
        "body": body.decode(),
    }


vectors = [
    signed("ec2 query", "ec2", "POST", "/",
           data="Action=DescribeInstances&Version=2016-11-15&InstanceId.1=i-0123456789abcdef0",
           headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}),
    signed("autoscaling query with spaces", "autoscaling", "POST", "/",
           data="Action=DescribeAutoScalingGroups&Version=2011-01-01"
                "&AutoScalingGroupNames.member.1=my%20group",
           headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}),
    signed("cloudwatch json 1.0", "monitoring", "POST", "/",
           data='{"Namespace": "AWS/EC2"}',
           headers={"Content-Type": "application/x-amz-json-1.0",
                    "X-Amz-Target": "GraniteServiceVersion20100801.ListMetrics"}),
    signed("sts query with a session token", "sts", "POST", "/",
           data="Action=GetCallerIdentity&Version=2011-06-15",
           headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
           token="FQoGZXIvYXdzEXAMPLETOKEN/+="),
    signed("GET with a query string", "ec2", "GET",
           "/?Action=DescribeRegions&Version=2016-11-15&RegionName.1=us-east-1"
           "&Filter.1.Name=opt-in-status&Filter.1.Value.1=opt%20in"),
    signed("presigned GET", "sts", "GET", "/?Action=GetCallerIdentity&Version=2011-06-15",
           presign=300),
    signed("presigned GET with a session token", "sts", "GET",
           "/?Action=GetCallerIdentity&Version=2011-06-15", presign=300,
           token="FQoGZXIvYXdzEXAMPLETOKEN/+="),
    signed("cbor path", "monitoring", "POST",
           "/service/GraniteServiceVersion20100801/operation/ListMetrics",
           data="", headers={"smithy-protocol": "rpc-v2-cbor",
                             "Content-Type": "application/cbor"}),
]
print(json.dumps({"botocore": botocore.__version__, "now": NOW.strftime("%Y%m%dT%H%M%SZ"),
                  "accessKeyId": KEY, "secretAccessKey": SECRET, "vectors": vectors},
                 indent=1))
