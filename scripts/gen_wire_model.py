#!/usr/bin/env python3
"""Writes src/api/wire/model_tables.cc: the shapes of the AWS actions tide serves, taken from
the service models that botocore ships (Debian's python3-botocore), as C++ tables that the
wire protocols walk (docs/api.md, "How the wire is made").

Usage: scripts/gen_wire_model.py [--botocore-data DIR] [--check]
  --botocore-data DIR  botocore's data directory (default: Debian's,
                       /usr/lib/python3/dist-packages/botocore/data)
  --check              write nothing; exit 1 when the committed file differs from what the
                       models give (so a model update is a visible change)

Adding an action: add its name to OPERATIONS below, run this script, add the handler's row to
the action table. Nothing else: the decoders and encoders read these tables.
"""

import argparse
import glob
import json
import os
import sys

# The services tide serves: botocore's directory, the service name of tide's action table rows,
# the SigV4 signing name, and the AWS JSON / Smithy RPC v2 CBOR names where the service speaks
# them (CloudWatch's newer clients use JSON 1.0 and CBOR with the same shapes; Debian's
# models predate that and say only "query").
SERVICES = [
    # dir, table service, signing name, json target prefix, json version, cbor service id
    ("ec2", "ec2", "ec2", "", "", ""),
    ("autoscaling", "autoscaling", "autoscaling", "", "", ""),
    ("elbv2", "elbv2", "elasticloadbalancing", "", "", ""),
    ("cloudwatch", "monitoring", "monitoring", "GraniteServiceVersion20100801", "1.0",
     "GraniteServiceVersion20100801"),
    ("cloudformation", "cloudformation", "cloudformation", "", "", ""),
    ("sts", "sts", "sts", "", "", ""),
    ("ssm", "ssm", "ssm", "AmazonSSM", "1.1", ""),
    ("acm", "acm", "acm", "CertificateManager", "1.1", ""),
]

OPERATIONS = {
    "ec2": """
        CreateImage DescribeImages DeregisterImage RegisterImage
        CreateLaunchTemplate CreateLaunchTemplateVersion DescribeLaunchTemplates
        DescribeLaunchTemplateVersions ModifyLaunchTemplate DeleteLaunchTemplate
        RunInstances DescribeInstances TerminateInstances StopInstances StartInstances
        GetConsoleOutput DescribeInstanceTypes DescribeInstanceStatus
        DescribeRegions DescribeAvailabilityZones DescribeAccountAttributes
        CreateVpc DeleteVpc DescribeVpcs CreateSubnet DeleteSubnet DescribeSubnets
        CreateSecurityGroup DeleteSecurityGroup DescribeSecurityGroups DescribeSecurityGroupRules
        AuthorizeSecurityGroupIngress AuthorizeSecurityGroupEgress
        RevokeSecurityGroupIngress RevokeSecurityGroupEgress
        CreateKeyPair ImportKeyPair DescribeKeyPairs DeleteKeyPair
        CreateTags DeleteTags DescribeTags
    """,
    "autoscaling": """
        CreateAutoScalingGroup UpdateAutoScalingGroup DescribeAutoScalingGroups
        DeleteAutoScalingGroup SetDesiredCapacity TerminateInstanceInAutoScalingGroup
        DescribeAutoScalingInstances DescribeScalingActivities PutScalingPolicy DescribePolicies
        DeletePolicy ExecutePolicy CreateOrUpdateTags DescribeTags DeleteTags
        DescribeTerminationPolicyTypes SetInstanceProtection SetInstanceHealth
        SuspendProcesses ResumeProcesses DescribeScalingProcessTypes EnterStandby ExitStandby
        AttachInstances DetachInstances
        PutScheduledUpdateGroupAction BatchPutScheduledUpdateGroupAction DeleteScheduledAction
        BatchDeleteScheduledAction DescribeScheduledActions GetPredictiveScalingForecast
        StartInstanceRefresh CancelInstanceRefresh DescribeInstanceRefreshes RollbackInstanceRefresh
        PutLifecycleHook DeleteLifecycleHook DescribeLifecycleHooks DescribeLifecycleHookTypes
        CompleteLifecycleAction RecordLifecycleActionHeartbeat
        PutWarmPool DeleteWarmPool DescribeWarmPool
    """,
    "elbv2": """
        CreateLoadBalancer DescribeLoadBalancers DeleteLoadBalancer ModifyLoadBalancerAttributes
        DescribeLoadBalancerAttributes CreateListener DescribeListeners DeleteListener
        ModifyListener CreateRule ModifyRule DeleteRule DescribeRules SetRulePriorities
        CreateTargetGroup DescribeTargetGroups ModifyTargetGroup ModifyTargetGroupAttributes
        DescribeTargetGroupAttributes DeleteTargetGroup RegisterTargets DeregisterTargets
        DescribeTargetHealth AddTags RemoveTags DescribeTags SetSubnets SetSecurityGroups
        AddListenerCertificates RemoveListenerCertificates DescribeListenerCertificates
        DescribeSSLPolicies
    """,
    "cloudwatch": """
        PutMetricData GetMetricStatistics GetMetricData ListMetrics PutMetricAlarm DescribeAlarms
        DeleteAlarms SetAlarmState DescribeAlarmHistory TagResource UntagResource
        ListTagsForResource
    """,
    "cloudformation": """
        CreateStack UpdateStack DeleteStack DescribeStacks DescribeStackEvents
        DescribeStackResource DescribeStackResources ListStacks ListStackResources GetTemplate
        GetTemplateSummary ValidateTemplate CreateChangeSet DescribeChangeSet ExecuteChangeSet
        DeleteChangeSet ListChangeSets
    """,
    "sts": "GetCallerIdentity GetSessionToken",
    "ssm": "GetParameter GetParameters GetParametersByPath",
    "acm": """
        ImportCertificate ListCertificates DescribeCertificate GetCertificate DeleteCertificate
        AddTagsToCertificate RemoveTagsFromCertificate ListTagsForCertificate
    """,
}

# tide's own request members, beyond AWS's (docs/api.md): added to the input shapes so that
# unmodified clients' query encodings and tide's JSON carry them the same way.
EXTRA_MEMBERS = {
    ("ec2", "CreateImageRequest"): [("SourceDirectory", "string"), ("RunCommand", "string"),
                                    ("Port", "integer"), ("HealthCheckPath", "string")],
    ("ec2", "RequestLaunchTemplateData"): [("Port", "integer"), ("Environment", "environment")],
    ("ec2", "RunInstancesRequest"): [("Port", "integer"), ("Environment", "environment")],
    # AWS's high-resolution target tracking (2024) added Period to these; older botocore models
    # (Debian's) lack it. A member the model already has is not added twice.
    ("autoscaling", "CustomizedMetricSpecification"): [("Period", "integer")],
    ("autoscaling", "TargetTrackingMetricStat"): [("Period", "integer")],
}

# Shapes, structure members and operations newer than Debian's models (AWS's instance refresh
# rollback, MaxHealthyPercentage, alarms and the other preferences of 2023): added where the
# model lacks them, as AWS's current Auto Scaling model defines them. A model that has them is
# left as it is.
MODEL_ADDITIONS = {
    "autoscaling": {
        "shapes": {
            "RollbackInstanceRefreshType": {
                "type": "structure", "required": ["AutoScalingGroupName"],
                "members": {"AutoScalingGroupName": {"shape": "XmlStringMaxLen255"}}},
            "RollbackInstanceRefreshAnswer": {
                "type": "structure",
                "members": {"InstanceRefreshId": {"shape": "XmlStringMaxLen255"}}},
            "IrreversibleInstanceRefreshFault": {
                "type": "structure", "members": {"message": {"shape": "XmlStringMaxLen255"}},
                "error": {"code": "IrreversibleInstanceRefresh", "httpStatusCode": 400,
                          "senderFault": True},
                "exception": True},
            "RefreshBoolean": {"type": "boolean"},
            "RefreshInteger": {"type": "integer"},
            "RefreshString": {"type": "string"},
            "RefreshAlarmList": {"type": "list", "member": {"shape": "XmlStringMaxLen255"}},
            "AlarmSpecification": {
                "type": "structure", "members": {"Alarms": {"shape": "RefreshAlarmList"}}},
            "RollbackDetails": {
                "type": "structure",
                "members": {
                    "RollbackReason": {"shape": "XmlStringMaxLen1023"},
                    "RollbackStartTime": {"shape": "TimestampType"},
                    "PercentageCompleteOnRollback": {"shape": "IntPercent"},
                    "InstancesToUpdateOnRollback": {"shape": "InstancesToUpdate"},
                    "ProgressDetailsOnRollback": {"shape": "InstanceRefreshProgressDetails"}}},
        },
        "members": {
            "RefreshPreferences": {
                "AutoRollback": "RefreshBoolean", "ScaleInProtectedInstances": "RefreshString",
                "StandbyInstances": "RefreshString", "AlarmSpecification": "AlarmSpecification",
                "MaxHealthyPercentage": "RefreshInteger", "BakeTime": "RefreshInteger"},
            "InstanceRefresh": {"RollbackDetails": "RollbackDetails",
                                "Strategy": "RefreshStrategy"},
            "CancelInstanceRefreshType": {"WaitForTransitioningInstances": "RefreshBoolean"},
        },
        "operations": {
            "RollbackInstanceRefresh": {
                "name": "RollbackInstanceRefresh", "http": {"method": "POST", "requestUri": "/"},
                "input": {"shape": "RollbackInstanceRefreshType"},
                "output": {"shape": "RollbackInstanceRefreshAnswer",
                           "resultWrapper": "RollbackInstanceRefreshResult"},
                "errors": [{"shape": "LimitExceededFault"}, {"shape": "ResourceContentionFault"},
                           {"shape": "ActiveInstanceRefreshNotFoundFault"},
                           {"shape": "IrreversibleInstanceRefreshFault"}]},
        },
    },
}


def add_to_model(svc, model):
    extra = MODEL_ADDITIONS.get(svc, {})
    for name, shape in extra.get("shapes", {}).items():
        model["shapes"].setdefault(name, shape)
    for struct, members in extra.get("members", {}).items():
        have = model["shapes"][struct].setdefault("members", {})
        for mname, ref in members.items():
            have.setdefault(mname, {"shape": ref})
    for name, op in extra.get("operations", {}).items():
        model["operations"].setdefault(name, op)


# Paginated operations whose limit key is not a page size.
NOT_PAGINATED = {("cloudwatch", "GetMetricData")}

SCALARS = ["string", "boolean", "integer", "long", "float", "double", "timestamp", "blob"]
TYPE_ENUM = {
    "structure": "Type::Structure", "list": "Type::List", "map": "Type::Map",
    "string": "Type::String", "boolean": "Type::Boolean", "integer": "Type::Integer",
    "long": "Type::Long", "float": "Type::Float", "double": "Type::Double",
    "timestamp": "Type::Timestamp", "blob": "Type::Blob",
}


def latest_model(data, name, kind):
    dirs = sorted(glob.glob(os.path.join(data, name, "*", kind)))
    if not dirs:
        sys.exit(f"gen_wire_model: no {kind} for {name} under {data}")
    with open(dirs[-1], encoding="utf-8") as f:
        return json.load(f)


def cstr(s):
    return json.dumps(s or "")  # a JSON string is a valid C++ string literal for ASCII


class Tables:
    def __init__(self):
        self.shapes = []   # rows: dict
        self.members = []  # rows: dict
        self.index = {}    # (service dir, shape name) -> index
        self.scalar = {}   # (type, timestampFormat) -> index

    def scalar_shape(self, type_name, ts_format=""):
        key = (type_name, ts_format)
        if key not in self.scalar:
            self.scalar[key] = len(self.shapes)
            self.shapes.append({"type": type_name, "ts": ts_format})
        return self.scalar[key]

    def shape(self, svc, model, name):
        s = model["shapes"][name]
        t = s["type"]
        if t in SCALARS:
            return self.scalar_shape(t, s.get("timestampFormat", ""))
        key = (svc, name)
        if key in self.index:
            return self.index[key]
        idx = len(self.shapes)
        self.index[key] = idx
        row = {"type": t, "name": name, "flattened": bool(s.get("flattened"))}
        self.shapes.append(row)
        if t == "structure":
            members = list(s.get("members", {}).items())
            required = set(s.get("required", []))
            extra = EXTRA_MEMBERS.get((svc, name), [])
            first = len(self.members)
            # reserve the member rows first: nested shapes append their own
            rows = []
            for mname, m in members:
                rows.append({"name": mname, "loc": m.get("locationName", ""),
                             "query": m.get("queryName", ""), "required": mname in required,
                             "ref": ("model", m["shape"]),
                             "flattened": bool(m.get("flattened"))})
            modelled = {mname for mname, _ in members}
            for mname, kind in extra:
                if mname in modelled:
                    continue
                rows.append({"name": mname, "loc": "", "query": "", "required": False,
                             "ref": ("extra", kind), "flattened": False})
            self.members.extend(rows)
            row["first"] = first
            row["count"] = len(rows)
            for r in rows:
                kind, ref = r["ref"]
                if kind == "model":
                    r["shape"] = self.shape(svc, model, ref)
                else:
                    r["shape"] = self.extra_shape(ref)
        elif t == "list":
            m = s["member"]
            row["a"] = self.shape(svc, model, m["shape"])
            row["elementName"] = m.get("locationName", "")
        elif t == "map":
            row["a"] = self.shape(svc, model, s["key"]["shape"])
            row["b"] = self.shape(svc, model, s["value"]["shape"])
            row["elementName"] = s["key"].get("locationName", "")
            row["valueName"] = s["value"].get("locationName", "")
        else:
            sys.exit(f"gen_wire_model: {svc} {name}: unknown type {t}")
        return idx

    def extra_shape(self, kind):
        if kind in SCALARS:
            return self.scalar_shape(kind)
        if kind == "environment":
            # tide's Environment: [{Name, Value}]
            key = ("tide", "Environment")
            if key in self.index:
                return self.index[key]
            var = len(self.shapes)
            self.shapes.append({"type": "structure", "name": "EnvironmentVariable",
                                "flattened": False, "first": len(self.members), "count": 2})
            string = self.scalar_shape("string")
            for n in ("Name", "Value"):
                self.members.append({"name": n, "loc": "", "query": "", "required": True,
                                     "shape": string, "flattened": False})
            idx = len(self.shapes)
            self.index[key] = idx
            self.shapes.append({"type": "list", "name": "Environment", "flattened": False,
                                "a": var, "elementName": ""})
            return idx
        sys.exit(f"gen_wire_model: unknown extra kind {kind}")


def generate(data):
    t = Tables()
    services, operations, errors = [], [], []
    for (svc, table_name, signing, target_prefix, json_version, cbor_id) in SERVICES:
        model = latest_model(data, svc, "service-2.json")
        add_to_model(svc, model)
        paginators = latest_model(data, svc, "paginators-1.json").get("pagination", {})
        meta = model["metadata"]
        services.append({
            "name": table_name, "protocol": meta["protocol"], "version": meta["apiVersion"],
            # AWS's responses end the namespace with '/' (EC2's model omits it)
            "namespace": ((meta.get("xmlNamespace") or "").rstrip("/") + "/"
                          if meta.get("xmlNamespace") else ""), "signing": signing,
            "targetPrefix": target_prefix or meta.get("targetPrefix", ""),
            "jsonVersion": json_version or meta.get("jsonVersion", ""), "cborId": cbor_id,
        })
        error_shapes = set()
        for op in OPERATIONS[svc].split():
            if op not in model["operations"]:
                sys.exit(f"gen_wire_model: {svc} has no operation {op}")
            o = model["operations"][op]
            inp = t.shape(svc, model, o["input"]["shape"]) if "input" in o else -1
            out = t.shape(svc, model, o["output"]["shape"]) if "output" in o else -1
            page = paginators.get(op, {})
            result_key = page.get("result_key", "")
            if isinstance(result_key, list):
                result_key = result_key[0]
            paged = (page and (svc, op) not in NOT_PAGINATED and
                     isinstance(page.get("input_token"), str) and
                     isinstance(page.get("output_token"), str) and
                     result_key.isidentifier())
            operations.append({
                "service": table_name, "name": op, "input": inp, "output": out,
                "wrapper": o.get("output", {}).get("resultWrapper", ""),
                "inputToken": page.get("input_token", "") if paged else "",
                "outputToken": page.get("output_token", "") if paged else "",
                "limitKey": page.get("limit_key", "") if paged else "",
                "resultKey": result_key if paged else "",
            })
            for e in o.get("errors", []):
                error_shapes.add(e["shape"])
        for name in sorted(error_shapes):
            s = model["shapes"][name]
            err = s.get("error", {})
            errors.append({"service": table_name, "code": err.get("code", name),
                           "status": err.get("httpStatusCode", 400),
                           "sender": err.get("senderFault", not s.get("fault", False))})
    return t, services, operations, errors


def render(t, services, operations, errors):
    out = []
    w = out.append
    w("// Generated by scripts/gen_wire_model.py from botocore's service models: do not edit.")
    w("// The shapes of the actions tide serves, walked by the wire protocols (wire/model.h).")
    w("// clang-format off")
    w('#include "api/wire/model.h"')
    w("")
    w("namespace tide::api::wire {")
    w("namespace {")
    w("")
    w(f"constexpr Member kMembers[{max(len(t.members), 1)}] = {{")
    for m in t.members:
        w(f"    {{{cstr(m['name'])}, {cstr(m['loc'])}, {cstr(m['query'])}, {m['shape']}, "
          f"{'true' if m['required'] else 'false'}}},")
    w("};")
    w("")
    w(f"constexpr Shape kShapes[{len(t.shapes)}] = {{")
    for s in t.shapes:
        typ = TYPE_ENUM[s["type"]]
        if s["type"] == "structure":
            w(f"    {{{typ}, false, {s['first']}, {s['count']}, \"\", \"\", \"\", {cstr(s['name'])}}},")
        elif s["type"] == "list":
            w(f"    {{{typ}, {'true' if s['flattened'] else 'false'}, {s['a']}, 0, "
              f"{cstr(s['elementName'])}, \"\", \"\", {cstr(s['name'])}}},")
        elif s["type"] == "map":
            w(f"    {{{typ}, {'true' if s['flattened'] else 'false'}, {s['a']}, {s['b']}, "
              f"{cstr(s['elementName'])}, {cstr(s['valueName'])}, \"\", {cstr(s['name'])}}},")
        else:
            w(f"    {{{typ}, false, 0, 0, \"\", \"\", {cstr(s['ts'])}, \"\"}},")
    w("};")
    w("")
    w(f"constexpr Operation kOperations[{len(operations)}] = {{")
    for o in operations:
        w(f"    {{{cstr(o['service'])}, {cstr(o['name'])}, {o['input']}, {o['output']}, "
          f"{cstr(o['wrapper'])}, {cstr(o['inputToken'])}, {cstr(o['outputToken'])}, "
          f"{cstr(o['limitKey'])}, {cstr(o['resultKey'])}}},")
    w("};")
    w("")
    w(f"constexpr Service kServices[{len(services)}] = {{")
    for s in services:
        w(f"    {{{cstr(s['name'])}, {cstr(s['protocol'])}, {cstr(s['version'])}, "
          f"{cstr(s['namespace'])}, {cstr(s['signing'])}, {cstr(s['targetPrefix'])}, "
          f"{cstr(s['jsonVersion'])}, {cstr(s['cborId'])}}},")
    w("};")
    w("")
    w(f"constexpr ErrorCode kErrors[{max(len(errors), 1)}] = {{")
    for e in errors:
        w(f"    {{{cstr(e['service'])}, {cstr(e['code'])}, {e['status']}, "
          f"{'true' if e['sender'] else 'false'}}},")
    w("};")
    w("")
    w("} // namespace")
    w("")
    w("std::span<const Member> members() { return kMembers; }")
    w("std::span<const Shape> shapes() { return kShapes; }")
    w("std::span<const Operation> operations() { return kOperations; }")
    w("std::span<const Service> services() { return kServices; }")
    w("std::span<const ErrorCode> errorCodes() { return kErrors; }")
    w("")
    w("} // namespace tide::api::wire")
    w("// clang-format on")
    return "\n".join(out) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--botocore-data", default="/usr/lib/python3/dist-packages/botocore/data")
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    if not os.path.isdir(args.botocore_data):
        sys.exit(f"gen_wire_model: no botocore data at {args.botocore_data} "
                 "(apt-get install python3-botocore)")
    text = render(*generate(args.botocore_data))
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "api", "wire",
                        "model_tables.cc")
    if args.check:
        with open(path, encoding="utf-8") as f:
            if f.read() != text:
                print(f"{path} differs from the models: run scripts/gen_wire_model.py")
                return 1
        return 0
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    print(f"wrote {os.path.normpath(path)}: {len(text)} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
