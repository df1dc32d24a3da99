// The seed corpus as a regression test in the normal (g++) build: every file of
// fuzz/corpus/<target>/ goes through the property checks of that libFuzzer target.
#include "api/cbor.h"
#include "cbor_properties.h"
#include "h2_properties.h"
#include "http_properties.h"
#include "json_properties.h"
#include "query_properties.h"
#include "template_properties.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace tide::fuzz {
namespace {

namespace fs = std::filesystem;

using Check = Violation (*)(const uint8_t*, size_t);

// The fuzz targets by corpus directory.
constexpr struct {
  const char* target;
  Check check;
} kTargets[] = {
    {"fuzz_request_head", checkRequestStream},
    {"fuzz_response_head", checkResponseStream},
    {"fuzz_chunked", checkChunkedBody},
    {"fuzz_request_reader", checkRequestReader},
    {"fuzz_cbor", checkCborItem},
    {"fuzz_query", checkQueryRequest},
    {"fuzz_ec2_query", checkEc2QueryRequest},
    {"fuzz_json_body", checkJsonBody},
    {"fuzz_metric_data", checkMetricData},
    {"fuzz_template", checkTemplateText},
    {"fuzz_h2_server", checkH2Server},
    {"fuzz_h2_client", checkH2Client},
};

struct Seed {
  std::string path;
  std::string bytes;
  Check check;
};

std::vector<Seed> readCorpus() {
  std::vector<Seed> seeds;
  for (const auto& t : kTargets) {
    fs::path dir = fs::path(TIDE_FUZZ_CORPUS_DIR) / t.target;
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(dir)) {
      if (entry.is_regular_file()) {
        files.push_back(entry.path());
      }
    }
    std::sort(files.begin(), files.end());
    for (const fs::path& f : files) {
      std::ifstream in(f, std::ios::binary);
      std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      seeds.push_back({f.string(), std::move(bytes), t.check});
    }
  }
  return seeds;
}

std::string describe(const Violation& v) {
  return v ? std::string(v.property) + " (" + v.file + ":" + std::to_string(v.line) + ")"
           : "no violation";
}

const uint8_t* bytesOf(const Seed& s) {
  return reinterpret_cast<const uint8_t*>(s.bytes.data());
}

TEST(FuzzCorpusTest, EveryTargetHasSeeds) {
  for (const auto& t : kTargets) {
    fs::path dir = fs::path(TIDE_FUZZ_CORPUS_DIR) / t.target;
    ASSERT_TRUE(fs::is_directory(dir)) << dir;
    EXPECT_GE(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 5) << dir;
  }
}

TEST(FuzzCorpusTest, EverySeedKeepsTheProperties) {
  std::vector<Seed> seeds = readCorpus();
  ASSERT_FALSE(seeds.empty());
  for (const Seed& s : seeds) {
    Violation v = s.check(bytesOf(s), s.bytes.size());
    EXPECT_FALSE(v) << s.path << ": " << describe(v);
  }
}

// CBOR seeds named invalid-* are refused, the others decode (so the seeds cover both paths).
TEST(FuzzCorpusTest, CborSeedsDecodeUnlessNamedInvalid) {
  for (const Seed& s : readCorpus()) {
    if (s.check != checkCborItem) {
      continue;
    }
    bool invalid = fs::path(s.path).filename().string().starts_with("invalid-");
    Result<api::Json> r = api::cbor::decode(s.bytes);
    EXPECT_EQ(r.isOk(), !invalid) << s.path << ": " << r.status().toString();
  }
}

// Query seeds (their Action picks the operation) named invalid-* are refused by parseForm or
// decodeQuery, the others decode.
TEST(FuzzCorpusTest, QuerySeedsDecodeUnlessNamedInvalid) {
  size_t refused = 0;
  for (const Seed& s : readCorpus()) {
    if (s.check != checkQueryRequest && s.check != checkEc2QueryRequest) {
      continue;
    }
    bool invalid = fs::path(s.path).filename().string().starts_with("invalid-");
    refused += invalid ? 1 : 0;
    EXPECT_EQ(decodesQueryRequest(bytesOf(s), s.bytes.size(), s.check == checkEc2QueryRequest),
              !invalid)
        << s.path;
  }
  EXPECT_GE(refused, 2u);
}

// Seeds of the JSON body, metric input and template targets named invalid-* are refused, the
// others read; each target has refusals among its seeds.
TEST(FuzzCorpusTest, JsonMetricAndTemplateSeedsReadUnlessNamedInvalid) {
  struct Reader {
    Check check;
    bool (*reads)(const uint8_t*, size_t);
  };
  for (const Reader& r :
       {Reader{checkJsonBody, readsJsonBody}, Reader{checkMetricData, decodesMetricData},
        Reader{checkTemplateText, readsTemplate}}) {
    size_t refused = 0;
    for (const Seed& s : readCorpus()) {
      if (s.check != r.check) {
        continue;
      }
      bool invalid = fs::path(s.path).filename().string().starts_with("invalid-");
      refused += invalid ? 1 : 0;
      EXPECT_EQ(r.reads(bytesOf(s), s.bytes.size()), !invalid) << s.path;
    }
    EXPECT_GE(refused, 2u);
  }
}

// The checks hold for inputs that are not HTTP at all, and for pieces of every seed.
TEST(FuzzCorpusTest, PiecesOfSeedsKeepTheProperties) {
  for (const Seed& s : readCorpus()) {
    for (size_t cut : {size_t(0), size_t(1), s.bytes.size() / 2, s.bytes.size() * 3 / 4}) {
      if (cut > s.bytes.size()) {
        continue;
      }
      Violation v = s.check(bytesOf(s), cut);
      EXPECT_FALSE(v) << s.path << " cut at " << cut << ": " << describe(v);
      v = s.check(bytesOf(s) + cut, s.bytes.size() - cut);
      EXPECT_FALSE(v) << s.path << " from " << cut << ": " << describe(v);
    }
  }
}

} // namespace
} // namespace tide::fuzz
