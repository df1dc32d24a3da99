"""Certificates for HTTPS listeners (docs/tls.md): the aws CLI imports a certificate made by
`openssl req -x509` into ACM, makes an HTTPS listener with it, adds another for SNI, and cannot
delete one a listener serves; `tide cert` does the same from files; a stack file imports one
with Tide::CertificateManager::Certificate and serves it on an HTTPS listener.
"""

import json
import os
import shutil
import subprocess
import textwrap
import unittest

from test_aws_clients import DEBIAN_AWS, AwsClientTestCase, free_port


def make_certificate(directory, name, days=30):
    """A self-signed EC P-256 certificate for `name` and its key; returns their paths."""
    cert = os.path.join(directory, name + ".crt")
    key = os.path.join(directory, name + ".key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", cert, "-days",
                    str(days), "-subj", "/CN=" + name, "-addext",
                    "subjectAltName=DNS:" + name + ",DNS:www." + name],
                   check=True, capture_output=True, timeout=60)
    return cert, key


@unittest.skipUnless(shutil.which("openssl"), "the openssl command is not installed")
@unittest.skipUnless(os.path.exists(DEBIAN_AWS), "Debian's awscli is not installed: "
                     "scripts/deps.sh installs it (apt-get install awscli)")
class CertificatesTest(AwsClientTestCase):
    def import_certificate(self, name):
        cert, key = make_certificate(self.tmp, name)
        return self.aws("acm", "import-certificate", "--certificate", "fileb://" + cert,
                        "--private-key", "fileb://" + key)["CertificateArn"]

    def test_https_listener_with_imported_certificates(self):
        shop = self.import_certificate("shop.example.test")
        self.assertRegex(shop, r"^arn:aws:acm:us-east-1:\d{12}:certificate/[0-9a-f-]{36}$")
        detail = self.aws("acm", "describe-certificate", "--certificate-arn", shop)["Certificate"]
        self.assertEqual(detail["DomainName"], "shop.example.test")
        self.assertEqual(detail["SubjectAlternativeNames"],
                         ["shop.example.test", "www.shop.example.test"])
        self.assertEqual(detail["KeyAlgorithm"], "EC_prime256v1")
        self.assertEqual(detail["Type"], "IMPORTED")
        self.assertEqual(detail["Status"], "ISSUED")
        listed = self.aws("acm", "list-certificates", "--includes",
                          "keyTypes=EC_prime256v1")["CertificateSummaryList"]
        self.assertEqual([c["CertificateArn"] for c in listed], [shop])
        got = self.aws("acm", "get-certificate", "--certificate-arn", shop)
        self.assertIn("BEGIN CERTIFICATE", got["Certificate"])
        self.assertNotIn("PRIVATE KEY", json.dumps(got))

        # An HTTPS listener with it as the default certificate.
        tg = self.aws("elbv2", "create-target-group", "--name", "web", "--protocol", "HTTP",
                      "--port", "8080")["TargetGroups"][0]["TargetGroupArn"]
        lb = self.aws("elbv2", "create-load-balancer", "--name", "shop")["LoadBalancers"][0]
        port = free_port()
        err = self.aws_fails("elbv2", "create-listener", "--load-balancer-arn",
                             lb["LoadBalancerArn"], "--protocol", "HTTPS", "--port", str(port),
                             "--default-actions", f"Type=forward,TargetGroupArn={tg}")
        self.assertIn("A certificate must be specified for HTTPS listeners", err)
        err = self.aws_fails("elbv2", "create-listener", "--load-balancer-arn",
                             lb["LoadBalancerArn"], "--protocol", "HTTPS", "--port", str(port),
                             "--certificates", f"CertificateArn={shop}", "--ssl-policy",
                             "ELBSecurityPolicy-Nope", "--default-actions",
                             f"Type=forward,TargetGroupArn={tg}")
        self.assertIn("SSLPolicyNotFound", err)
        listener = self.aws("elbv2", "create-listener", "--load-balancer-arn",
                            lb["LoadBalancerArn"], "--protocol", "HTTPS", "--port", str(port),
                            "--certificates", f"CertificateArn={shop}", "--ssl-policy",
                            "ELBSecurityPolicy-TLS13-1-2-2021-06", "--default-actions",
                            f"Type=forward,TargetGroupArn={tg}")["Listeners"][0]
        self.assertEqual(listener["Protocol"], "HTTPS")
        self.assertEqual(listener["SslPolicy"], "ELBSecurityPolicy-TLS13-1-2-2021-06")
        self.assertEqual(listener["Certificates"], [{"CertificateArn": shop}])

        # A second certificate for SNI.
        api = self.import_certificate("api.example.test")
        self.aws("elbv2", "add-listener-certificates", "--listener-arn",
                 listener["ListenerArn"], "--certificates", f"CertificateArn={api}")
        certs = self.aws("elbv2", "describe-listener-certificates", "--listener-arn",
                         listener["ListenerArn"])["Certificates"]
        self.assertEqual(certs, [{"CertificateArn": shop, "IsDefault": True},
                                 {"CertificateArn": api, "IsDefault": False}])

        # In use: ACM refuses to delete either, and names the load balancer.
        err = self.aws_fails("acm", "delete-certificate", "--certificate-arn", shop)
        self.assertIn("ResourceInUseException", err)
        err = self.aws_fails("acm", "delete-certificate", "--certificate-arn", api)
        self.assertIn("ResourceInUseException", err)
        detail = self.aws("acm", "describe-certificate", "--certificate-arn", api)["Certificate"]
        self.assertEqual(detail["InUseBy"], [lb["LoadBalancerArn"]])

        policy = self.aws("elbv2", "describe-ssl-policies", "--names",
                          "ELBSecurityPolicy-TLS13-1-2-2021-06")["SslPolicies"][0]
        self.assertEqual(policy["SslProtocols"], ["TLSv1.2", "TLSv1.3"])
        self.assertEqual(policy["Ciphers"][0], {"Name": "TLS_AES_128_GCM_SHA256", "Priority": 1})

        self.aws("elbv2", "remove-listener-certificates", "--listener-arn",
                 listener["ListenerArn"], "--certificates", f"CertificateArn={api}")
        self.aws("acm", "delete-certificate", "--certificate-arn", api)
        self.aws("elbv2", "delete-listener", "--listener-arn", listener["ListenerArn"])
        self.aws("acm", "delete-certificate", "--certificate-arn", shop)
        err = self.aws_fails("acm", "describe-certificate", "--certificate-arn", shop)
        self.assertIn("ResourceNotFoundException", err)

    def test_bad_imports_are_refused(self):
        cert, key = make_certificate(self.tmp, "a.example.test")
        _, other_key = make_certificate(self.tmp, "b.example.test")
        err = self.aws_fails("acm", "import-certificate", "--certificate", "fileb://" + cert,
                             "--private-key", "fileb://" + other_key)
        self.assertIn("The private key does not match the public key in the certificate", err)
        err = self.aws_fails("acm", "import-certificate", "--certificate", "fileb://" + key,
                             "--private-key", "fileb://" + key)
        self.assertIn("ValidationException", err)
        self.assertEqual(self.aws("acm", "list-certificates", "--includes",
                                  "keyTypes=EC_prime256v1")["CertificateSummaryList"], [])

    def test_tide_cert_commands(self):
        cert, key = make_certificate(self.tmp, "cli.example.test")
        arn = self.tide("cert", "import", "--certificate", cert, "--private-key",
                        key).stdout.strip()
        self.assertTrue(arn.startswith("arn:aws:acm:"), arn)
        listed = self.tide("cert", "ls").stdout
        self.assertIn("cli.example.test", listed)
        self.assertIn("EC_prime256v1", listed)
        error = self.tide_fails("cert", "import", "--certificate", cert, "--private-key", cert)
        self.assertIn("ValidationException", error)
        self.tide("cert", "delete", arn)
        self.assertNotIn("cli.example.test", self.tide("cert", "list").stdout)

    def test_stack_with_an_https_listener(self):
        make_certificate(self.tmp, "stack.example.test")
        make_certificate(self.tmp, "extra.example.test")
        port = free_port()
        stack = os.path.join(self.tmp, "tls.yaml")
        with open(stack, "w") as f:
            f.write(textwrap.dedent(f"""\
                Resources:
                  Certificate:
                    Type: Tide::CertificateManager::Certificate
                    Properties:
                      CertificateFile: stack.example.test.crt
                      PrivateKeyFile: stack.example.test.key
                  Extra:
                    Type: Tide::CertificateManager::Certificate
                    Properties:
                      CertificateFile: extra.example.test.crt
                      PrivateKeyFile: extra.example.test.key
                  Balancer:
                    Type: AWS::ElasticLoadBalancingV2::LoadBalancer
                    Properties:
                      Name: tls
                  Https:
                    Type: AWS::ElasticLoadBalancingV2::Listener
                    Properties:
                      LoadBalancerArn: !Ref Balancer
                      Protocol: HTTPS
                      Port: {port}
                      SslPolicy: ELBSecurityPolicy-TLS13-1-2-Res-2021-06
                      Certificates:
                        - CertificateArn: !Ref Certificate
                      DefaultActions:
                        - Type: fixed-response
                          FixedResponseConfig: {{StatusCode: "200", MessageBody: ok}}
                  More:
                    Type: AWS::ElasticLoadBalancingV2::ListenerCertificate
                    Properties:
                      ListenerArn: !Ref Https
                      Certificates:
                        - CertificateArn: !Ref Extra
                """))
        self.tide("up", stack)
        lb = self.aws("elbv2", "describe-load-balancers", "--names", "tls")["LoadBalancers"][0]
        listener = self.aws("elbv2", "describe-listeners", "--load-balancer-arn",
                            lb["LoadBalancerArn"])["Listeners"][0]
        self.assertEqual(listener["Protocol"], "HTTPS")
        self.assertEqual(listener["SslPolicy"], "ELBSecurityPolicy-TLS13-1-2-Res-2021-06")
        certs = self.aws("elbv2", "describe-listener-certificates", "--listener-arn",
                         listener["ListenerArn"])["Certificates"]
        self.assertEqual([c["IsDefault"] for c in certs], [True, False])
        self.tide("down", stack)
        self.assertEqual(self.aws("acm", "list-certificates", "--includes",
                                  "keyTypes=EC_prime256v1")["CertificateSummaryList"], [])


if __name__ == "__main__":
    unittest.main()
