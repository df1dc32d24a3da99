// `tide cert import|ls|delete`: certificates imported into ACM (ImportCertificate,
// ListCertificates, DeleteCertificate) from PEM files, for HTTPS listeners (docs/tls.md).
#include "cli/commands.h"
#include "cli/table.h"
#include "common/text.h"

#include <cstdio>
#include <fstream>
#include <sstream>

namespace tide::cli {

namespace {

// The whole file, or death naming it.
std::string readPem(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    die(Status("InvalidParameterValue", std::string("cannot read the ") + what + " file " + path));
  }
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void certificatesTable(const Json& certificates) {
  Table t({"DOMAIN", "KEY", "STATUS", "NOT AFTER", "IN USE", "ARN"});
  for (const Json& c : certificates) {
    std::string notAfter = c.contains("NotAfter") ? c["NotAfter"].dump() : "";
    if (c.contains("NotAfter") && c["NotAfter"].is_string()) {
      notAfter = c["NotAfter"].get<std::string>();
    }
    t.add({str(c, "DomainName", ""), str(c, "KeyAlgorithm", ""), str(c, "Status", ""), notAfter,
           c.value("InUse", false) ? "yes" : "no", str(c, "CertificateArn")});
  }
  t.print();
}

} // namespace

void addCertCommands(CLI::App& app, CommandContext& ctx) {
  auto* cert = app.add_subcommand("cert", "certificates for HTTPS listeners (ACM, imported)")
                   ->require_subcommand(1);
  {
    auto* add = cert->add_subcommand("import", "import a certificate and its private key "
                                               "(PEM files); --arn replaces one in place");
    static std::string certificate, key, chain, arn;
    add->add_option("--certificate", certificate, "the certificate, PEM")->required();
    add->add_option("--private-key", key, "its private key, PEM, unencrypted")->required();
    add->add_option("--chain", chain, "the issuers' certificates, PEM");
    add->add_option("--arn", arn,
                    "reimport over this certificate (listeners serving it serve the new one)");
    add->callback([&] {
      Json p = {{"Certificate", base64Encode(readPem(certificate, "certificate"))},
                {"PrivateKey", base64Encode(readPem(key, "private key"))}};
      if (!chain.empty()) {
        p["CertificateChain"] = base64Encode(readPem(chain, "chain"));
      }
      if (!arn.empty()) {
        p["CertificateArn"] = arn;
      }
      Json r = orDie(ctx.client().call("ImportCertificate", p));
      ctx.outcome =
          Outcome{r, [](const Json& j) { std::printf("%s\n", str(j, "CertificateArn").c_str()); }};
    });
  }
  {
    auto* ls = cert->add_subcommand("ls", "list imported certificates (every key type)");
    ls->alias("list");
    ls->callback([&] {
      // Every key type: ACM alone lists only RSA_1024 and RSA_2048 by default.
      Json p = {{"Includes",
                 {{"keyTypes",
                   {"RSA_1024", "RSA_2048", "RSA_3072", "RSA_4096", "EC_prime256v1", "EC_secp384r1",
                    "EC_secp521r1"}}}}};
      Json r = orDie(ctx.client().call("ListCertificates", p));
      ctx.outcome =
          Outcome{r, [](const Json& j) { certificatesTable(j["CertificateSummaryList"]); }};
    });
  }
  {
    auto* del = cert->add_subcommand("delete", "delete a certificate no listener uses");
    static std::string delArn;
    del->add_option("ARN", delArn, "certificate ARN")->required();
    del->callback([&] {
      Json r = orDie(ctx.client().call("DeleteCertificate", {{"CertificateArn", delArn}}));
      ctx.outcome = Outcome{r, [](const Json&) { std::printf("deleted %s\n", delArn.c_str()); }};
    });
  }
}

} // namespace tide::cli
